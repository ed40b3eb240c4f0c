import DicomPrepCore

/// Draws curves.png: loss (training and validation) and validation AUROC per epoch, with a tiny
/// built-in 3x5 pixel font for labels and tick values.
public enum CurvesPlot {
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], " ": [0, 0, 0, 0, 0],
        "A": [2, 5, 7, 5, 5], "C": [7, 4, 4, 4, 7], "E": [7, 4, 6, 4, 7], "H": [5, 5, 7, 5, 5], "I": [7, 2, 2, 2, 7],
        "L": [4, 4, 4, 4, 7], "N": [5, 7, 7, 7, 5], "O": [7, 5, 5, 5, 7], "P": [7, 5, 7, 4, 4], "R": [6, 5, 6, 5, 5],
        "S": [7, 4, 7, 1, 7], "T": [7, 2, 2, 2, 2], "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2],
    ]

    static func text(_ img: inout RasterImage, _ s: String, x: Int, y: Int, color: [UInt8], scale: Int = 2) {
        var cx = x
        for ch in s.uppercased() {
            if let g = glyphs[ch] {
                for (r, bits) in g.enumerated() { for c in 0..<3 where bits & (4 >> UInt8(c)) != 0 {
                    for dy in 0..<scale { for dx in 0..<scale {
                        let px = cx + c * scale + dx, py = y + r * scale + dy
                        if px >= 0 && py >= 0 && px < img.width && py < img.height { img[px, py] = color }
                    } }
                } }
            }
            cx += 4 * scale
        }
    }

    static func line(_ img: inout RasterImage, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: [UInt8]) {
        let n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in 0...n {
            let x = x0 + (x1 - x0) * i / n, y = y0 + (y1 - y0) * i / n
            for d in 0..<2 where x + d < img.width && y < img.height && x >= 0 && y >= 0 { img[x + d, y] = color }
        }
    }

    /// The chart of a training history.
    public static func draw(_ history: [EpochMetrics]) -> RasterImage {
        var img = RasterImage(width: 720, height: 320, channels: 3, fill: 255)
        let train: [UInt8] = [31, 119, 180], val: [UInt8] = [255, 127, 14], auc: [UInt8] = [44, 160, 44], axis: [UInt8] = [60, 60, 60]
        func panel(x0: Int, title: String, series: [([Double], [UInt8])], range: (Double, Double)?) {
            let left = x0 + 50, right = x0 + 340, top = 40, bottom = 280
            text(&img, title, x: x0 + 130, y: 10, color: axis)
            line(&img, left, bottom, right, bottom, axis)
            line(&img, left, top, left, bottom, axis)
            let all = series.flatMap(\.0).filter(\.isFinite)
            guard !all.isEmpty, history.count > 0 else { return }
            var (lo, hi) = range ?? (all.min()!, all.max()!)
            if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
            for k in 0...4 {
                let v = lo + (hi - lo) * Double(k) / 4
                let y = bottom - (bottom - top) * k / 4
                line(&img, left - 4, y, left, y, axis)
                text(&img, String(format: "%.2f", v), x: x0 + 4, y: y - 4, color: axis, scale: 1)
            }
            let n = history.count
            for (i, e) in history.enumerated() where n <= 20 || i % (n / 10) == 0 || i == n - 1 {
                let x = left + (right - left) * (n == 1 ? 0 : i) / max(n - 1, 1)
                line(&img, x, bottom, x, bottom + 4, axis)
                text(&img, String(e.epoch), x: x - 2, y: bottom + 8, color: axis, scale: 1)
            }
            text(&img, "EPOCH", x: (left + right) / 2 - 20, y: bottom + 20, color: axis, scale: 1)
            for (values, color) in series {
                var prev: (Int, Int)?
                for (i, v) in values.enumerated() where v.isFinite {
                    let x = left + (right - left) * (n == 1 ? 0 : i) / max(n - 1, 1)
                    let y = bottom - Int(Double(bottom - top) * (v - lo) / (hi - lo))
                    if let p = prev { line(&img, p.0, p.1, x, y, color) }
                    for dx in -2...2 { for dy in -2...2 where x + dx >= 0 && y + dy >= 0 && x + dx < img.width && y + dy < img.height { img[x + dx, y + dy] = color } }
                    prev = (x, y)
                }
            }
        }
        panel(x0: 0, title: "LOSS", series: [(history.map(\.trainLoss), train), (history.map(\.validationLoss), val)], range: nil)
        panel(x0: 360, title: "VAL AUROC", series: [(history.map { $0.validationAUROC ?? .nan }, auc)], range: (0, 1))
        text(&img, "TRAIN", x: 250, y: 290, color: train, scale: 2)
        text(&img, "VAL", x: 300, y: 290, color: val, scale: 2)
        return img
    }
}
import Foundation

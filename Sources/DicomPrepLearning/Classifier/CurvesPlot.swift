import DicomPrepCore
import Foundation

/// Training curves as an SVG document (curves.svg): loss (training and validation, BCE) and validation
/// AUROC and accuracy against the epoch, each panel with labelled axes, tick values and a legend placed
/// beside the plot area so it never covers the data. Any browser or vector editor shows it.
public enum CurvesPlot {
    struct Series {
        var label: String
        var color: String
        var dashed: Bool
        var values: [Double?]
    }

    static let width = 1060.0, height = 380.0
    static let plotWidth = 300.0, plotHeight = 250.0, top = 50.0

    public static func svg(_ history: [EpochMetrics]) -> String {
        let epochs = history.map { Double($0.epoch) }
        let loss = [
            Series(label: "training loss", color: "#1f77b4", dashed: false, values: history.map(\.trainLoss)),
            Series(label: "validation loss", color: "#d62728", dashed: true, values: history.map(\.validationLoss)),
        ]
        let quality = [
            Series(label: "validation AUROC", color: "#2ca02c", dashed: false, values: history.map(\.validationAUROC)),
            Series(label: "validation accuracy", color: "#9467bd", dashed: true, values: history.map(\.validationAccuracy)),
        ]
        let lossMax = max(1e-6, loss.flatMap { $0.values.compactMap { $0 } }.max() ?? 1)
        return document(title: "Training curves", epochs: history.count,
                        panel(x0: 60, title: "Loss (binary cross-entropy)", yLabel: "loss", epochs: epochs, series: loss, yRange: (0, niceCeiling(lossMax)))
                            + panel(x0: 560, title: "Validation quality", yLabel: "AUROC / accuracy", epochs: epochs, series: quality, yRange: (0, 1)))
    }

    /// The SVG document around the panels: size, white background, the title with the epoch count.
    static func document(title: String, epochs n: Int, _ panels: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(title) (\(n) epoch\(n == 1 ? "" : "s"))</text>

        """ + panels + "</svg>\n"
    }

    /// One plot area at `x0` with axes, ticks, grid, the series and its legend to the right.
    static func panel(x0: Double, title: String, yLabel: String, epochs: [Double], series: [Series], yRange: (Double, Double)) -> String {
        let lo = epochs.min() ?? 1, hi = max(epochs.max() ?? 1, lo + 1)
        func px(_ e: Double) -> Double { x0 + (e - lo) / (hi - lo) * plotWidth }
        func py(_ v: Double) -> Double { top + plotHeight - (v - yRange.0) / (yRange.1 - yRange.0) * plotHeight }
        var s = "<g>\n<text x=\"\(x0 + plotWidth / 2)\" y=\"\(top - 12)\" text-anchor=\"middle\" font-size=\"13\">\(escape(title))</text>\n"
        s += "<rect x=\"\(x0)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#333\"/>\n"
        for k in 0...4 {
            let v = yRange.0 + Double(k) / 4 * (yRange.1 - yRange.0), y = py(v)
            s += "<line x1=\"\(x0)\" y1=\"\(y)\" x2=\"\(x0 + plotWidth)\" y2=\"\(y)\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(x0 - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(tick(v))</text>\n"
        }
        for e in epochTicks(lo, hi) {
            s += "<line x1=\"\(px(e))\" y1=\"\(top + plotHeight)\" x2=\"\(px(e))\" y2=\"\(top + plotHeight + 5)\" stroke=\"#333\"/>"
            s += "<text x=\"\(px(e))\" y=\"\(top + plotHeight + 18)\" text-anchor=\"middle\">\(Int(e))</text>\n"
        }
        s += "<text x=\"\(x0 + plotWidth / 2)\" y=\"\(top + plotHeight + 36)\" text-anchor=\"middle\">epoch</text>\n"
        s += "<text transform=\"translate(\(x0 - 42) \(top + plotHeight / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        for (i, ser) in series.enumerated() {
            let points = zip(epochs, ser.values).compactMap { e, v in v.map { "\(px(e)),\(py(min(max($0, yRange.0), yRange.1)))" } }
            let dash = ser.dashed ? " stroke-dasharray=\"6 4\"" : ""
            if points.count > 1 {
                s += "<polyline fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"2\"\(dash) points=\"\(points.joined(separator: " "))\"/>\n"
            }
            for p in points {
                let xy = p.split(separator: ",")
                s += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"3\" fill=\"\(ser.color)\"/>"
            }
            let ly = top + 14 + Double(i) * 20, lx = x0 + plotWidth + 14
            s += "\n<line x1=\"\(lx)\" y1=\"\(ly)\" x2=\"\(lx + 24)\" y2=\"\(ly)\" stroke=\"\(ser.color)\" stroke-width=\"2\"\(dash)/>"
            s += "<text x=\"\(lx + 30)\" y=\"\(ly + 4)\">\(escape(ser.label))</text>\n"
        }
        return s + "</g>\n"
    }

    /// Writes curves.svg atomically.
    public static func write(_ history: [EpochMetrics], to path: String) throws(DicomPrepError) {
        try AtomicFile.write(text: svg(history), to: path)
    }

    static func epochTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let span = hi - lo
        let step = max(1, (span / 6).rounded(.up))
        return stride(from: lo, through: hi, by: step).map { $0 }
    }

    static func niceCeiling(_ v: Double) -> Double {
        let p = pow(10, (log10(v)).rounded(.down))
        for m in [1.0, 2, 2.5, 5, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func tick(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 1000
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

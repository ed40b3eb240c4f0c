import Foundation

/// An intensity histogram as an SVG picture for reports: one or more value sets (e.g. the whole image,
/// inside a mask) over shared bins, log-scaled counts, the unit on the axis (HU for CT).
public enum Histogram {
    public struct Series: Sendable {
        public var label: String
        public var color: String
        public var values: [Float]
        public init(label: String, color: String, values: [Float]) {
            self.label = label
            self.color = color
            self.values = values
        }
    }

    /// Counts per bin over [lo, hi].
    public static func counts(_ v: [Float], bins: Int, lo: Double, hi: Double) -> [Int] {
        var c = [Int](repeating: 0, count: bins)
        let s = Double(bins) / max(hi - lo, 1e-12)
        for x in v where x.isFinite {
            let b = Int((Double(x) - lo) * s)
            if b >= 0 && b < bins { c[b] += 1 } else if b == bins { c[bins - 1] += 1 }
        }
        return c
    }

    public static func svg(_ series: [Series], unit: String, title: String, bins: Int = 100, range: (Double, Double)? = nil) -> String {
        let all = series.flatMap(\.values)
        let lo = range?.0 ?? Double(all.min() ?? 0), hi = max(range?.1 ?? Double(all.max() ?? 1), lo + 1e-6)
        let perSeries = series.map { Self.counts($0.values, bins: bins, lo: lo, hi: hi) }
        let top = log10(Double((perSeries.flatMap { $0 }.max() ?? 1) + 1))
        let w = 420.0, h = 170.0, x0 = 46.0, y0 = 24.0, pw = 340.0, ph = 110.0
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"10\">"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/><text x=\"\(x0)\" y=\"14\" font-size=\"12\">\(title)</text>"
        s += "<rect x=\"\(x0)\" y=\"\(y0)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#333\"/>"
        for (k, c) in perSeries.enumerated() {
            var pts = ["\(x0),\(y0 + ph)"]
            for (b, n) in c.enumerated() {
                let y = y0 + ph - (n > 0 ? log10(Double(n) + 1) / top * ph : 0)
                pts.append("\(x0 + Double(b) / Double(bins) * pw),\(y)")
                pts.append("\(x0 + Double(b + 1) / Double(bins) * pw),\(y)")
            }
            pts.append("\(x0 + pw),\(y0 + ph)")
            s += "<polyline fill=\"\(series[k].color)\" fill-opacity=\"0.35\" stroke=\"\(series[k].color)\" points=\"\(pts.joined(separator: " "))\"/>"
            s += "<rect x=\"\(x0 + pw - 120)\" y=\"\(y0 + 6 + Double(k) * 14)\" width=\"10\" height=\"10\" fill=\"\(series[k].color)\"/><text x=\"\(x0 + pw - 105)\" y=\"\(y0 + 15 + Double(k) * 14)\">\(series[k].label)</text>"
        }
        for t in 0...4 {
            let v = lo + Double(t) / 4 * (hi - lo), x = x0 + Double(t) / 4 * pw
            s += "<text x=\"\(x)\" y=\"\(y0 + ph + 14)\" text-anchor=\"middle\">\(String(format: abs(hi - lo) > 20 ? "%.0f" : "%.2f", v))</text>"
        }
        s += "<text x=\"\(x0 + pw / 2)\" y=\"\(y0 + ph + 30)\" text-anchor=\"middle\">\(unit)</text>"
        s += "<text transform=\"translate(12 \(y0 + ph / 2)) rotate(-90)\" text-anchor=\"middle\">voxels (log)</text></svg>"
        return s
    }
}

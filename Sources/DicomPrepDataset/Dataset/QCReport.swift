import DicomPrepCore
import Foundation

/// Pictures for a person to eyeball a dataset: a PNG contact sheet per case × sequence (the model
/// input's slices, the largest-area slice outlined in red) and an index.html that lists every case.
public enum QCReport {
    /// Tile edge in pixels.
    static let tile = 96

    /// The contact sheet of a model-input volume: its slices left to right, top to bottom.
    public static func contactSheet(_ v: Volume) throws(DicomPrepError) -> RasterImage {
        let t = min(tile, max(v.dims[0], v.dims[1]))
        let small = try Resize(width: t, height: t).apply(v.asFloat)
        let f = small.floatValues
        let n = small.dims[2]
        let cols = Int(Double(n).squareRoot().rounded(.up)), rows = (n + cols - 1) / cols
        var img = RasterImage(width: cols * t + (cols + 1), height: rows * t + (rows + 1), channels: 3, fill: 40)
        let lo = f.min() ?? 0, hi = f.max() ?? 1
        let scale: Float = hi > lo ? 255 / (hi - lo) : 0
        // Anterior/superior up when the row axis points that way.
        let yAxis = small.affine.column(1)
        let flip = max(abs(yAxis.y), abs(yAxis.z)) > abs(yAxis.x) && (abs(yAxis.y) > abs(yAxis.z) ? yAxis.y > 0 : yAxis.z > 0)
        for z in 0..<n {
            let ox = 1 + (z % cols) * (t + 1), oy = 1 + (z / cols) * (t + 1)
            for y in 0..<t {
                let sy = flip ? t - 1 - y : y
                for x in 0..<t {
                    let g = UInt8(((f[(z * t + sy) * t + x] - lo) * scale).clamped(0, 255))
                    let p = ((oy + y) * img.width + ox + x) * 3
                    img.pixels[p] = g; img.pixels[p + 1] = g; img.pixels[p + 2] = g
                }
            }
        }
        if let w = v.metadata.sliceWindow {
            let z = w.center - w.start + w.padBefore
            if z >= 0 && z < n {
                let ox = (z % cols) * (t + 1), oy = (z / cols) * (t + 1)
                for k in 0...(t + 1) {
                    for (x, y) in [(ox + k, oy), (ox + k, oy + t + 1), (ox, oy + k), (ox + t + 1, oy + k)] where x < img.width && y < img.height {
                        img[x, y] = [230, 40, 40]
                    }
                }
            }
        }
        return img
    }

    static func html(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Writes OUTDIR/index.html listing every case with thumbnails, labels and warnings.
    public static func writeIndex(_ m: DatasetManifest, to out: String) throws(DicomPrepError) {
        var h = """
        <!doctype html><html><head><meta charset="utf-8"><title>dicomprep dataset: \(html(m.layout))</title>
        <style>body{font-family:sans-serif;background:#111;color:#ddd}table{border-collapse:collapse}td,th{border:1px solid #333;padding:4px;vertical-align:top}
        img{width:220px;image-rendering:pixelated}.w{color:#e9a23b;font-size:12px}.f{color:#f55}.pos{color:#6f6}</style></head><body>
        <h1>\(html(m.layout)): \(m.counts.cases) cases (\(m.counts.positive) positive of \(m.counts.labeled) labelled)</h1>
        <p>Each picture shows the model input's slices; the red square marks the slice with the largest foreground.</p>
        <table><tr><th>case</th><th>split</th><th>label</th>
        """
        let seqs = m.settings.sequences
        for s in seqs { h += "<th>\(html(s))</th>" }
        h += "</tr>\n"
        for c in m.cases {
            h += "<tr><td>\(html(c.id))</td><td>\(html(c.split))</td><td class=\"\(c.label == 1 ? "pos" : "")\">\(c.label.map(String.init) ?? "–")</td>"
            for s in seqs {
                if let r = c.sequence(s) {
                    h += "<td>"
                    if let q = r.qc { h += "<img src=\"\(html(q.path))\" alt=\"\(html(c.id)) \(html(s))\"><br>" }
                    h += "\(r.acquisitionPlane.lowercased()) \(r.shape.prefix(3).map(String.init).joined(separator: "×")) → \(r.inputShape.prefix(3).map(String.init).joined(separator: "×")), centre slice \(r.window.center)"
                    for w in r.warnings { h += "<div class=\"w\">\(html(w))</div>" }
                    h += "</td>"
                } else {
                    let why = c.failures.first { $0.sequence == s }?.reason ?? "not converted"
                    h += "<td class=\"f\">\(html(why))</td>"
                }
            }
            h += "</tr>\n"
        }
        h += "</table>\n"
        if !m.failed.isEmpty || !m.excluded.isEmpty {
            h += "<h2>Not converted</h2><ul>"
            for f in m.failed { h += "<li class=\"f\">\(html(f.id)): \(html(f.reason))</li>" }
            for e in m.excluded { h += "<li>\(html(e.id)) (excluded): \(html(e.reason))</li>" }
            h += "</ul>"
        }
        h += "</body></html>\n"
        try AtomicFile.write(text: h, to: out + "/index.html")
    }
}

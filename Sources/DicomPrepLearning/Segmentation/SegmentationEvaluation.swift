import DicomPrepCore
import DicomPrepDataset
import Foundation

/// `evaluate --task segment`: predicted label maps scored against the truth, per case and label
/// (Dice, IoU, HD95 in mm, volume difference) and as means; `segmentation-evaluation.json` (schema) and a
/// QC page with the prediction (red) and the truth (green) outlined on the three mid planes of each case.
public struct SegmentationEvaluation: Codable, Sendable {
    public var schema = "segmentation-evaluation.schema.json"
    public var tool = "dicomprep"
    public var version = DicomPrepVersion.string
    public var truth: String
    public var predictions: String
    public var cases: [Case]
    public var mean: [Summary]
    /// Names with a prediction but no truth, or a truth but no prediction.
    public var unmatched: [String]
    public var failed: [SegmentationReport.Failure]

    public struct Case: Codable, Sendable {
        public var name: String
        public var truth: String
        public var prediction: String
        public var scores: [SegmentationScore]
        public var qc: String?
        /// The case's viewer page (image, truth and prediction), relative to the QC folder.
        public var viewer: String?
        /// Inline SVG histogram of the image inside the truth and the prediction (not in the JSON).
        var histogram: String?

        enum CodingKeys: String, CodingKey { case name, truth, prediction, scores, qc, viewer }
    }
    public struct Summary: Codable, Sendable {
        public var label: Int
        public var cases: Int
        public var dice: Double
        public var iou: Double
        public var hd95: Double?
        public var absVolumeDifferencePercent: Double?
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case tool, version, truth, predictions, cases, mean, unmatched, failed
    }

    /// Label maps in a folder (or one file) by case name.
    static func maps(_ path: String) -> [String: String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { return [:] }
        if !isDir.boolValue { return [ImageLoader.caseName(path): path] }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { ImageLoader.isNifti($0) && !$0.contains("_prob.") && !$0.contains("_masked.") }
        return Dictionary(names.map { (ImageLoader.caseName($0), path + "/" + $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Scores every case present in both folders; `images` (optional: a folder of NIfTI files or DICOM
    /// folders by case name) gives the QC pictures their background; `qcDir` receives the page.
    public static func evaluate(truth: String, predictions: String, images: String? = nil, qcDir: String? = nil, viewerPages: Bool = true,
                                threads: Int = Parallel.cores) throws(DicomPrepError) -> SegmentationEvaluation {
        let t = maps(truth), p = maps(predictions)
        guard !t.isEmpty else { throw .usage("no NIfTI label map in \(truth)") }
        guard !p.isEmpty else { throw .usage("no NIfTI label map in \(predictions)") }
        var ev = SegmentationEvaluation(truth: truth, predictions: predictions, cases: [], mean: [], unmatched: [], failed: [])
        ev.unmatched = Set(t.keys).symmetricDifference(p.keys).sorted()
        if let qcDir {
            do { try FileManager.default.createDirectory(atPath: qcDir, withIntermediateDirectories: true) } catch {
                throw .io(path: qcDir, reason: "cannot create the QC folder")
            }
        }
        for name in Set(t.keys).intersection(p.keys).sorted(by: NaturalOrder.less) {
            do throws(DicomPrepError) {
                let tv = try Volume.readNifti(t[name]!), pv = try Volume.readNifti(p[name]!)
                guard tv.dims.prefix(3) == pv.dims.prefix(3) else {
                    throw .io(path: p[name]!, reason: "grid \(pv.dims.prefix(3).map(String.init).joined(separator: "x")) differs from the truth's \(tv.dims.prefix(3).map(String.init).joined(separator: "x"))")
                }
                let maxDiff = (0..<16).map { abs(tv.affine.m[$0] - pv.affine.m[$0]) }.max() ?? 0
                guard maxDiff < 1e-3 else { throw .io(path: p[name]!, reason: "affine differs from the truth's by \(maxDiff) mm: not the same grid") }
                let n = tv.voxelsPerVolume
                let tl = tv.floatValues.prefix(n).map { Int($0.rounded()) }, pl = pv.floatValues.prefix(n).map { Int($0.rounded()) }
                let labels = Set(tl).union(pl).subtracting([0]).sorted()
                var scores: [SegmentationScore] = []
                for l in labels.isEmpty ? [1] : labels {
                    scores.append(SegmentationMetrics.score(truth: tl.map { $0 == l }, predicted: pl.map { $0 == l }, dims: Array(tv.dims.prefix(3)),
                                                            spacing: tv.spacing, label: l))
                }
                var qc: String?, viewer: String?, histogram: String?
                if let qcDir {
                    var background: Volume?
                    let imgPath = images.flatMap { imagePath($0, name) }
                    if let imgPath { background = try? ImageLoader.load(imgPath, threads: threads).volume }
                    qc = "\(name).png"
                    try QCOverlay.picture(image: background, truth: tv, prediction: pv).write(to: qcDir + "/" + qc!)
                    if let b = background, b.voxelsPerVolume == n {
                        let f = Array(b.floatValues.prefix(n))
                        let inT = zip(f, tl).filter { $0.1 > 0 }.map(\.0), inP = zip(f, pl).filter { $0.1 > 0 }.map(\.0)
                        let lo = ScaleIntensity.percentile(f, 0.5), hi = ScaleIntensity.percentile(f, 99.9)
                        histogram = Histogram.svg([.init(label: "image", color: "#888888", values: f), .init(label: "in truth", color: "#20a020", values: inT),
                                                   .init(label: "in prediction", color: "#e02020", values: inP)],
                                                  unit: b.metadata.modality == "CT" ? "HU" : "intensity", title: "\(name): intensities", range: (lo, hi))
                    }
                    if viewerPages, let imgPath, FileManager.default.fileExists(atPath: "/usr/share/javascript/three/build/three.min.js") {
                        var page = ViewerPage(inputs: [imgPath, t[name]!, p[name]!], outputDir: qcDir + "/view-" + name)
                        // Assigned one by one: the same file may be given as truth and prediction.
                        page.displayNames[imgPath] = name
                        page.displayNames[t[name]!] = "truth"
                        page.displayNames[p[name]!] = "prediction"
                        page.threads = threads
                        if (try? page.run()) != nil { viewer = "view-\(name)/index.html" }
                    }
                }
                var c = Case(name: name, truth: t[name]!, prediction: p[name]!, scores: scores, qc: qc, viewer: viewer)
                c.histogram = histogram
                ev.cases.append(c)
            } catch {
                ev.failed.append(.init(input: p[name]!, reason: error.description))
            }
        }
        let labels = Set(ev.cases.flatMap { $0.scores.map(\.label) }).sorted()
        for l in labels {
            let s = ev.cases.compactMap { $0.scores.first { $0.label == l } }
            let hd = s.compactMap(\.hd95), vd = s.compactMap(\.volumeDifferencePercent).map(abs)
            ev.mean.append(Summary(label: l, cases: s.count, dice: s.map(\.dice).reduce(0, +) / Double(s.count), iou: s.map(\.iou).reduce(0, +) / Double(s.count),
                                   hd95: hd.isEmpty ? nil : hd.reduce(0, +) / Double(hd.count), absVolumeDifferencePercent: vd.isEmpty ? nil : vd.reduce(0, +) / Double(vd.count)))
        }
        if let qcDir { try AtomicFile.write(text: page(ev), to: qcDir + "/index.html") }
        return ev
    }

    static func imagePath(_ images: String, _ name: String) -> String? {
        let fm = FileManager.default
        for c in [images + "/" + name + ".nii.gz", images + "/" + name + ".nii", images + "/" + name] where fm.fileExists(atPath: c) { return c }
        return nil
    }

    static func page(_ ev: SegmentationEvaluation) -> String {
        func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "n/a" }
        var s = """
        <!doctype html><html><head><meta charset="utf-8"><title>Segmentation QC</title>
        <style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
        th{background:#f4f4f4}.case{margin:18px 0}img{image-rendering:pixelated;max-width:100%}</style></head><body>
        <h1>Segmentation QC</h1><p>Prediction outlined in <b style="color:#e02020">red</b>, truth in <b style="color:#20c020">green</b>,
        on the three mid planes through the truth (R to the right of the screen in axial and coronal views, superior up);
        each case's intensity histogram (all voxels, inside the truth, inside the prediction) and a link to its viewer page.</p>
        <table><tr><th>label</th><th>cases</th><th>mean Dice</th><th>mean IoU</th><th>mean HD95 (mm)</th><th>mean |volume diff| %</th></tr>

        """
        for m in ev.mean {
            s += "<tr><td>\(m.label)</td><td>\(m.cases)</td><td>\(f(m.dice))</td><td>\(f(m.iou))</td><td>\(f(m.hd95))</td><td>\(f(m.absVolumeDifferencePercent))</td></tr>\n"
        }
        s += "</table>\n"
        for c in ev.cases {
            s += "<div class=\"case\"><h3>\(c.name)</h3><p>" + c.scores.map { "label \($0.label): Dice \(f($0.dice)), IoU \(f($0.iou)), HD95 \(f($0.hd95)) mm, volume \(String(format: "%.1f", $0.predictedML)) vs \(String(format: "%.1f", $0.truthML)) mL" }.joined(separator: "; ")
            if let v = c.viewer { s += " <a href=\"\(v)\">open in the viewer</a>" }
            s += "</p>"
            if let q = c.qc { s += "<img src=\"\(q)\" alt=\"\(c.name)\">" }
            if let h = c.histogram { s += "<div>\(h)</div>" }
            s += "</div>\n"
        }
        return s + "</body></html>\n"
    }
}

/// Mid-plane pictures with outlines of label maps, in RAS display orientation.
public enum QCOverlay {
    /// Sagittal, coronal and axial planes through the truth's centre side by side.
    public static func picture(image: Volume?, truth: Volume, prediction: Volume) throws(DicomPrepError) -> RasterImage {
        let ras = try Reorient("RAS")
        let t = try ras.apply(truth), p = try ras.apply(prediction)
        let img = try image.map { (v: Volume) throws(DicomPrepError) -> Volume in
            // On the truth's grid when it is another one (e.g. a DICOM folder's first series).
            let g = VoxelGrid(of: t)
            return VoxelGrid(of: v) == g ? try ras.apply(v) : try ResampleToGrid(g).apply(v)
        }
        let d = Array(t.dims.prefix(3)), n = t.voxelsPerVolume
        let tf = t.floatValues, pf = p.floatValues
        let bg: [Float] = img.map { Array($0.floatValues.prefix(n)) } ?? tf.prefix(n).map { $0 > 0 ? 0.5 : 0.1 }
        var hi = ScaleIntensity.percentile(bg, 99.5), lo = ScaleIntensity.percentile(bg, 0.5)
        if hi <= lo { hi = lo + 1 }
        // Centre: centroid of the truth, else the middle.
        var c = [0.0, 0.0, 0.0], cnt = 0.0
        for i in 0..<n where tf[i] > 0 { c[0] += Double(i % d[0]); c[1] += Double((i / d[0]) % d[1]); c[2] += Double(i / (d[0] * d[1])); cnt += 1 }
        let centre = cnt > 0 ? c.map { Int($0 / cnt) } : d.map { $0 / 2 }
        let sp = t.spacing
        // Each view: (horizontal axis, vertical axis, fixed axis); vertical drawn with superior/anterior up.
        let views = [(1, 2, 0), (0, 2, 1), (0, 1, 2)]
        let scale = 2
        let sizes = views.map { (Int(Double(d[$0.0]) * sp[$0.0] / sp.min()! * Double(scale)), Int(Double(d[$0.1]) * sp[$0.1] / sp.min()! * Double(scale))) }
        let width = sizes.map(\.0).reduce(0, +) + 4 * (views.count - 1), height = sizes.map(\.1).max()!
        var out = RasterImage(width: width, height: height, channels: 3)
        var x0 = 0
        for (v, (h, vert, fixed)) in views.enumerated() {
            let (w, hgt) = sizes[v]
            func voxel(_ px: Int, _ py: Int) -> Int {
                var idx = [0, 0, 0]
                idx[h] = min(d[h] - 1, px * d[h] / w)
                idx[vert] = min(d[vert] - 1, (hgt - 1 - py) * d[vert] / hgt)
                idx[fixed] = centre[fixed]
                return idx[0] + d[0] * (idx[1] + d[1] * idx[2])
            }
            for py in 0..<hgt {
                for px in 0..<w {
                    let i = voxel(px, py)
                    let g = UInt8(max(0, min(255, (Double(bg[i]) - lo) / (hi - lo) * 255)))
                    var rgb = [g, g, g]
                    func edge(_ f: [Float]) -> Bool {
                        guard f[i] > 0 else { return false }
                        for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                            let qx = px + dx, qy = py + dy
                            if qx < 0 || qy < 0 || qx >= w || qy >= hgt || f[voxel(qx, qy)] != f[i] { return true }
                        }
                        return false
                    }
                    if edge(tf) { rgb = [32, 200, 32] }
                    if edge(pf) { rgb = rgb == [32, 200, 32] ? [230, 200, 30] : [224, 32, 32] }
                    out[x0 + px, py] = rgb
                }
            }
            x0 += w + 4
        }
        return out
    }
}

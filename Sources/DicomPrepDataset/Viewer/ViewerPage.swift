import DicomPrepCore
import Foundation

/// `dicomprep view`: an offline HTML viewer of converted volumes, masks and surfaces — three linked planes
/// (crosshair, window/level, slice scrolling) and a 3D view (three.js, copied beside the page from Debian's
/// libjs-three) with masks as coloured overlays and surfaces as meshes. Data goes into `data/*.js` files
/// loaded by script tags, so the page works from file:// without a server; `--serve` also serves it.
public struct ViewerPage: Sendable {
    public var inputs: [String]
    public var outputDir: String
    /// Volumes above this many voxels are shown at half resolution.
    public var maxVoxels = 20_000_000
    public var threeDirectory = "/usr/share/javascript/three"
    public var threads = Parallel.cores
    /// Names to show instead of the file names, by input path.
    public var displayNames: [String: String] = [:]

    public init(inputs: [String], outputDir: String) {
        self.inputs = inputs
        self.outputDir = outputDir
    }

    public struct Report: Codable, Sendable {
        public var page: String
        public var volumes: [String]
        public var overlays: [String]
        public var meshes: [String]
        public var skipped: [String]
    }

    /// Files under the inputs, by kind.
    func collect() -> (images: [String], meshes: [String], dicom: [String], skipped: [String]) {
        var images: [String] = [], meshes: [String] = [], dicom: [String] = [], skipped: [String] = []
        let fm = FileManager.default
        for input in inputs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDir) else { skipped.append("\(input): does not exist"); continue }
            if !isDir.boolValue {
                if ImageLoader.isNifti(input) { images.append(input) } else if TriangleMesh.format(of: input) != nil { meshes.append(input) } else { skipped.append("\(input): not a NIfTI file or a surface") }
                continue
            }
            let all = (fm.enumerator(atPath: input)?.compactMap { $0 as? String } ?? []).sorted(by: NaturalOrder.less)
            var hasOther = false, found = 0
            for rel in all {
                let p = input + "/" + rel
                var d: ObjCBool = false
                guard fm.fileExists(atPath: p, isDirectory: &d), !d.boolValue else { continue }
                if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                if ImageLoader.isNifti(p) { images.append(p); found += 1 } else if TriangleMesh.format(of: p) != nil { meshes.append(p); found += 1 } else { hasOther = true }
            }
            // A folder of DICOM files (no NIfTI or surface in it): converted in memory.
            if found == 0 && hasOther { dicom.append(input) }
        }
        return (images, meshes, dicom, skipped)
    }

    /// Whether a volume is a label map: integral values, few of them.
    static func isLabelMap(_ v: Volume) -> Bool {
        var seen = Set<Int>()
        for x in v.floatValues.prefix(v.voxelsPerVolume) {
            guard x == x.rounded(), x >= 0, x < 256 else { return false }
            seen.insert(Int(x))
            if seen.count > 16 { return false }
        }
        return true
    }

    public func run() throws(DicomPrepError) -> Report {
        let (imagePaths, meshPaths, dicomDirs, skippedInputs) = collect()
        var skipped = skippedInputs
        let fm = FileManager.default
        do { try fm.createDirectory(atPath: outputDir + "/data", withIntermediateDirectories: true) } catch {
            throw .io(path: outputDir, reason: "cannot create the page folder")
        }
        for f in ["build/three.min.js", "examples/js/controls/OrbitControls.js"] {
            let src = threeDirectory + "/" + f
            guard let d = fm.contents(atPath: src) else {
                throw .io(path: src, reason: "three.js is missing (Debian libjs-three; make deps installs it)")
            }
            try AtomicFile.write([UInt8](d), to: outputDir + "/" + URL(fileURLWithPath: f).lastPathComponent)
        }
        var loaded: [(name: String, volume: Volume)] = []
        for p in imagePaths {
            do throws(DicomPrepError) { loaded.append((displayNames[p] ?? ImageLoader.caseName(p), try Volume.readNifti(p))) } catch { skipped.append("\(p): \(error.reason)") }
        }
        for d in dicomDirs {
            do throws(DicomPrepError) { loaded.append((displayNames[d] ?? URL(fileURLWithPath: d).lastPathComponent, try ImageLoader.load(d, threads: threads).volume)) } catch { skipped.append("\(d): \(error.reason)") }
        }
        let ras = try Reorient("RAS")
        var images: [(name: String, volume: Volume)] = [], labels: [(name: String, volume: Volume)] = []
        for (n, v) in loaded {
            var r = try ras.apply(v)
            if r.dims[3] > 1 { r = Volume(dims: Array(r.dims.prefix(3)) + [1], voxels: .float32(Array(r.floatValues.prefix(r.voxelsPerVolume))), affine: r.affine) }
            if Self.isLabelMap(r) { labels.append((n, r)) } else { images.append((n, r)) }
        }
        if images.isEmpty, let first = labels.first { images.append(first); labels.removeFirst() }
        guard !images.isEmpty || !meshPaths.isEmpty else { throw .usage("nothing to show in \(inputs.joined(separator: ", ")): no NIfTI, DICOM or surface file") }
        var scripts: [String] = []
        var k = 0
        func emit(_ js: String) throws(DicomPrepError) {
            let name = String(format: "data/%03d.js", k)
            k += 1
            try AtomicFile.write(text: js, to: outputDir + "/" + name)
            scripts.append(name)
        }
        for (n, v0) in images {
            var v = v0
            if v.voxelsPerVolume > maxVoxels {
                let g = VoxelGrid.canonical(covering: VoxelGrid(of: v), spacing: v.spacing.map { $0 * 2 })
                v = try ResampleToGrid(g).apply(v)
            }
            try emit(try Self.volumeJS(name: n, v, kind: "image"))
        }
        for (n, l) in labels {
            // On the grid of the image it belongs to: the same grid, else the first image's (nearest neighbour).
            let target = images.first { VoxelGrid(of: $0.volume) == VoxelGrid(of: l) }?.volume ?? images[0].volume
            let onGrid = VoxelGrid(of: target) == VoxelGrid(of: l) ? l : try ResampleToGrid(VoxelGrid(of: target), interpolation: .nearest).apply(l)
            let owner = images.firstIndex { VoxelGrid(of: $0.volume) == VoxelGrid(of: target) } ?? 0
            var shown = onGrid
            if target.voxelsPerVolume > maxVoxels {
                let g = VoxelGrid.canonical(covering: VoxelGrid(of: target), spacing: target.spacing.map { $0 * 2 })
                shown = try ResampleToGrid(g, interpolation: .nearest).apply(onGrid)
            }
            try emit(try Self.volumeJS(name: n, shown, kind: "label", owner: owner))
        }
        var meshes: [String] = []
        for p in meshPaths {
            do throws(DicomPrepError) {
                let m = try MeshReader.read(p)
                try emit(Self.meshJS(name: URL(fileURLWithPath: p).lastPathComponent, m))
                meshes.append(p)
            } catch { skipped.append("\(p): \(error.reason)") }
        }
        let html = ViewerHTML.page(scripts: scripts, title: "dicomprep view — " + inputs.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", "))
        try AtomicFile.write(text: html, to: outputDir + "/index.html")
        return Report(page: outputDir + "/index.html", volumes: images.map(\.name), overlays: labels.map(\.name), meshes: meshes, skipped: skipped)
    }

    static func b64<T>(_ a: [T]) -> String { a.withUnsafeBytes { Data($0).base64EncodedString() } }

    static func jsString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "<", with: "\\u003c") + "\""
    }

    /// A volume as int16 (images, with scale and offset) or uint8 (labels), x fastest.
    static func volumeJS(name: String, _ v: Volume, kind: String, owner: Int = 0) throws(DicomPrepError) -> String {
        let f = Array(v.floatValues.prefix(v.voxelsPerVolume))
        let affine = v.affine.m.prefix(12).map { String($0) }.joined(separator: ",")
        let dims = v.dims.prefix(3).map(String.init).joined(separator: ",")
        if kind == "label" {
            return "DP.add({kind:\"label\",name:\(jsString(name)),owner:\(owner),dims:[\(dims)],affine:[\(affine)],data:\"\(b64(f.map { UInt8(max(0, min(255, $0.rounded()))) }))\"});\n"
        }
        let lo = f.min() ?? 0, hi = f.max() ?? 1
        let scale = max(Double(hi - lo) / 65535, 1e-12), offset = Double(lo) + 32768 * scale
        let q = f.map { Int16(clamping: Int((Double($0) - offset) / scale).clamped(-32768, 32767)) }
        let w0 = ScaleIntensity.percentile(f, 1), w1 = ScaleIntensity.percentile(f, 99.5)
        return "DP.add({kind:\"image\",name:\(jsString(name)),dims:[\(dims)],affine:[\(affine)],scale:\(scale),offset:\(offset),min:\(lo),max:\(hi),window:[\(w0),\(w1)],data:\"\(b64(q))\"});\n"
    }

    static func meshJS(name: String, _ m: TriangleMesh) -> String {
        let p = m.vertices.flatMap { [Float($0.x), Float($0.y), Float($0.z)] }
        let t = m.triangles.map { UInt32(bitPattern: $0) }
        return "DP.add({kind:\"mesh\",name:\(jsString(name)),vertices:\(m.vertices.count),triangles:\(m.triangleCount),positions:\"\(b64(p))\",indices:\"\(b64(t))\"});\n"
    }
}

extension Int {
    fileprivate func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(self, lo), hi) }
}

import DicomPrepCore
import DicomPrepDataset
import Foundation

/// `segmentation.json`, written beside the masks by `predict` with a segmentation bundle.
public struct SegmentationReport: Codable, Sendable {
    public var schema = "segmentation-report.schema.json"
    public var tool = "dicomprep"
    public var version = DicomPrepVersion.string
    public var models: [String]
    public var postprocessing: [String]
    public var outputs: [Entry]
    public var failed: [Failure]

    public struct Entry: Codable, Sendable {
        public var name: String
        public var input: String
        /// nifti or dicom.
        public var kind: String
        public var mask: String
        public var probabilities: String?
        public var masked: String?
        public var dims: [Int]
        public var affine: [[Double]]
        /// Per foreground label: voxels and millilitres.
        public var labels: [LabelVolume]
        public var seconds: Double
        public var warnings: [String]
    }
    public struct LabelVolume: Codable, Sendable {
        public var label: Int
        public var name: String
        public var voxels: Int
        public var ml: Double
    }
    public struct Failure: Codable, Sendable {
        public var input: String
        public var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case tool, version, models, postprocessing, outputs, failed
    }
}

/// Runs segmentation bundles on NIfTI files, DICOM folders, folders of either, or a Decathlon datalist's
/// test (else validation) images; writes `OUT/<name>.nii.gz` (uint8 labels on the input's own grid and
/// affine), optionally `<name>_prob.nii.gz` and `<name>_masked.nii.gz`, and `OUT/segmentation.json`.
/// An input that fails is named in the report and the others go on.
public struct SegmentationPredictor: Sendable {
    public var bundles: [String]
    public var inputs: [String]
    public var outputDir: String
    public var writeProbabilities = false
    public var applyMask = false
    /// Overrides the bundle's post-processing.
    public var postprocessing: SegmentationPostprocessing?
    public var threads = Parallel.cores
    /// How inference covers each image (sliding patches, or the whole image at once).
    public var window = InferenceWindow.patch
    /// Also predict the left-right mirrored image and average (test-time augmentation).
    public var mirror = false
    public var onInput: @Sendable (String, Int, Int) -> Void = { _, _, _ in }

    public init(bundles: [String], inputs: [String], outputDir: String) {
        self.bundles = bundles
        self.inputs = inputs
        self.outputDir = outputDir
    }

    /// The images behind the inputs, as (name, path).
    public static func expand(_ inputs: [String]) throws(DicomPrepError) -> [(name: String, path: String)] {
        let fm = FileManager.default
        var out: [(String, String)] = []
        for input in inputs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDir) else { throw .usage("\(input) does not exist") }
            if !isDir.boolValue {
                if input.lowercased().hasSuffix(".json") {
                    let list = try SegmentationDatalist.load(input)
                    let items = !list.test.isEmpty ? list.test : (!list.validation.isEmpty ? list.validation : list.training)
                    out += items.map { (ImageLoader.caseName($0.image), $0.image) }
                } else {
                    out.append((ImageLoader.caseName(input), input))
                }
                continue
            }
            let names = ((try? fm.contentsOfDirectory(atPath: input)) ?? []).filter { !$0.hasPrefix(".") }.sorted(by: NaturalOrder.less)
            let niftis = names.filter(ImageLoader.isNifti)
            let subdirs = names.filter { var d: ObjCBool = false; return fm.fileExists(atPath: input + "/" + $0, isDirectory: &d) && d.boolValue }
            let files = names.filter { !subdirs.contains($0) && !ImageLoader.isNifti($0) }
            if !niftis.isEmpty {
                out += niftis.map { (ImageLoader.caseName($0), input + "/" + $0) }
            } else if !files.isEmpty || subdirs.isEmpty {
                // DICOM files here: one image.
                out.append((ImageLoader.caseName(input), input))
            } else {
                // A folder of cases (each a DICOM folder or holding one NIfTI).
                for d in subdirs { out += try expand([input + "/" + d]) }
            }
        }
        // Unique names.
        var seen: [String: Int] = [:]
        return out.map { n, p in
            let k = seen[n, default: 0]
            seen[n] = k + 1
            return (k == 0 ? n : "\(n)_\(k + 1)", p)
        }
    }

    public func run() throws(DicomPrepError) -> SegmentationReport {
        guard !bundles.isEmpty else { throw .usage("give a segmentation bundle with --model") }
        let models = try bundles.map { (b: String) throws(DicomPrepError) -> SegmentationModel in
            let dir = b.hasSuffix(".pt") ? URL(fileURLWithPath: b).deletingLastPathComponent().path : b
            return try SegmentationModel.load(bundle: dir, weights: b.hasSuffix(".pt") ? b : nil, threads: threads)
        }
        let items = try Self.expand(inputs)
        guard !items.isEmpty else { throw .usage("no image in \(inputs.joined(separator: ", "))") }
        do { try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true) } catch {
            throw .io(path: outputDir, reason: "cannot create the output folder")
        }
        let post = postprocessing ?? models[0].metadata.postprocessing
        let labelNames = models[0].metadata.labels
        let writer = NiftiWriter(gzip: true, compressionLevel: 6, threads: threads)
        var report = SegmentationReport(models: bundles, postprocessing: post.names, outputs: [], failed: [])
        for (k, it) in items.enumerated() {
            onInput(it.name, k, items.count)
            let started = Date()
            do throws(DicomPrepError) {
                let loaded = try ImageLoader.load(it.path, threads: threads)
                let r = try SegmentationInference.predict(loaded.volume, models: models, postprocessing: post, window: window, mirror: mirror)
                let mask = "\(it.name).nii.gz"
                try writer.write(r.labels, to: outputDir + "/" + mask, description: "dicomprep segmentation")
                var prob: String?, masked: String?
                if writeProbabilities {
                    prob = "\(it.name)_prob.nii.gz"
                    try writer.write(r.probabilities, to: outputDir + "/" + prob!, description: "dicomprep class probabilities")
                }
                if applyMask {
                    masked = "\(it.name)_masked.nii.gz"
                    let f = loaded.volume.floatValues, per = loaded.volume.voxelsPerVolume
                    guard case let .uint8(l) = r.labels.voxels else { throw .io(path: it.path, reason: "internal: labels not uint8") }
                    var m = loaded.volume
                    m.voxels = .float32(f.enumerated().map { l[$0.offset % per] > 0 ? $0.element : 0 })
                    try writer.write(m, to: outputDir + "/" + masked!, description: "dicomprep masked image")
                }
                guard case let .uint8(l) = r.labels.voxels else { throw .io(path: it.path, reason: "internal: labels not uint8") }
                let voxelML = loaded.volume.spacing.reduce(1, *) / 1000
                var vols: [SegmentationReport.LabelVolume] = []
                for c in 1..<models[0].classes {
                    let n = l.reduce(0) { $0 + ($1 == UInt8(c) ? 1 : 0) }
                    vols.append(.init(label: c, name: labelNames[String(c)] ?? "label \(c)", voxels: n, ml: Double(n) * voxelML))
                }
                report.outputs.append(.init(name: it.name, input: it.path, kind: loaded.kind, mask: mask, probabilities: prob, masked: masked,
                                            dims: Array(loaded.volume.dims.prefix(3)), affine: loaded.volume.affine.nested, labels: vols,
                                            seconds: Date().timeIntervalSince(started), warnings: loaded.warnings))
            } catch {
                report.failed.append(.init(input: it.path, reason: error.description))
            }
        }
        onInput("", items.count, items.count)
        try JSONOutput.write(report, to: outputDir + "/segmentation.json")
        return report
    }
}

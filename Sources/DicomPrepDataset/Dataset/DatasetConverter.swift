import DicomPrepCore
import DicomPrepConvert
import Foundation

/// Options of `dicomprep dataset convert`.
public struct DatasetOptions: Sendable {
    public var root: String
    public var outputDir: String
    public var layout: DatasetLayout
    public var sequences: [String]?
    public var slices = 64
    public var size = 256
    public var jobs = Parallel.cores
    public var resume = false
    public var qc = false
    public var shard: (index: Int, count: Int)?
    public var plane: ReorientToPlane.Plane?
    public var normalize = Normalize.Mode.minmax
    public var storage = NiftiWriter.Storage.asIs
    public var voi = true
    public var groupSize: Int?
    public var remainder = SliceGroups.Remainder.pad
    public var keepExcluded = false
    public var compressionLevel = 1

    public init(root: String, outputDir: String, layout: DatasetLayout) {
        self.root = root
        self.outputDir = outputDir
        self.layout = layout
    }

    public var settings: DatasetSettings {
        DatasetSettings(layout: layout.name, sequences: sequences ?? layout.sequences, slices: slices, size: size, plane: plane,
                        normalize: normalize, storage: storage, voi: voi, groupSize: groupSize, remainder: remainder,
                        keepExcluded: keepExcluded, compressionLevel: compressionLevel)
    }
}

/// Progress of a dataset conversion, for the CLI's progress bar.
public struct DatasetProgress: Sendable {
    public var done: Int
    public var total: Int
    public var caseID: String
    public var resumed: Bool
    public var failures: [String]
}

/// A case found on disk.
public struct CaseFolder: Sendable, Equatable {
    public var id: String
    public var split: String
    public var path: String
    public var label: Int?
}

/// Converts a whole Kaggle-style dataset: every case × sequence through the conversion core
/// (full-resolution NIfTI + sidecar), then the model inputs (slice window, resize, normalisation),
/// in parallel across cases, resumable, shardable; writes `dataset.json`.
public struct DatasetConverter: Sendable {
    public let options: DatasetOptions
    public let onProgress: @Sendable (DatasetProgress) -> Void

    public init(options: DatasetOptions, onProgress: @escaping @Sendable (DatasetProgress) -> Void = { _ in }) {
        self.options = options
        self.onProgress = onProgress
    }

    /// Stable shard of a case id (FNV-1a 64), the same on every machine and run.
    public static func shard(of id: String, count: Int) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return Int(h % UInt64(count))
    }

    public func validate() throws(DicomPrepError) {
        let seqs = options.sequences ?? options.layout.sequences
        for s in seqs where !options.layout.sequences.contains(s) {
            throw .usage("sequence \(s) is not in layout \(options.layout.name) (\(options.layout.sequences.joined(separator: ", ")))")
        }
        if options.slices < 1 || options.size < 1 { throw .usage("--slices and --size must be positive") }
        if let s = options.shard, !(s.count >= 1 && s.index >= 0 && s.index < s.count) { throw .usage("--shard K/N needs 0 <= K < N") }
        if let g = options.groupSize, g < 1 { throw .usage("--group-size must be positive") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: options.root, isDirectory: &isDir), isDir.boolValue else {
            throw .usage("dataset root \(options.root) is not a folder")
        }
    }

    /// Finds the cases of every split; folders that do not look like cases are returned as skipped.
    public func discover() throws(DicomPrepError) -> (cases: [CaseFolder], skipped: [DatasetManifest.Skipped], excluded: [DatasetManifest.Skipped]) {
        let layout = options.layout
        let labels = try layout.readLabels(root: options.root)
        let re = try? NSRegularExpression(pattern: layout.caseFolderPattern)
        var cases: [CaseFolder] = [], skipped: [DatasetManifest.Skipped] = [], excluded: [DatasetManifest.Skipped] = []
        let excludedIDs = Dictionary(layout.exclude.map { (layout.normalizeID($0.id), $0.reason) }, uniquingKeysWith: { a, _ in a })
        var foundSplit = false
        for split in layout.splits {
            let dir = options.root + "/" + split.folder
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            foundSplit = true
            for name in names.sorted(by: NaturalOrder.less) {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDir), isDir.boolValue else {
                    if !name.hasPrefix(".") { skipped.append(.init(id: name, split: split.name, reason: "not a case folder (a file)")) }
                    continue
                }
                guard let re, re.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil else {
                    skipped.append(.init(id: name, split: split.name, reason: "folder name does not match the layout's case pattern \(layout.caseFolderPattern)"))
                    continue
                }
                let id = layout.normalizeID(name)
                if let why = excludedIDs[id], !options.keepExcluded {
                    excluded.append(.init(id: id, split: split.name, reason: why))
                    continue
                }
                if let s = options.shard, Self.shard(of: id, count: s.count) != s.index { continue }
                var label: Int?
                if split.labeled {
                    label = labels[id]
                    if label == nil {
                        skipped.append(.init(id: id, split: split.name, reason: "no label in \(layout.labels?.file ?? "the label file")"))
                        continue
                    }
                }
                cases.append(CaseFolder(id: id, split: split.name, path: dir + "/" + name, label: label))
            }
        }
        if !foundSplit {
            throw .usage("\(options.root) holds none of the layout's split folders (\(layout.splits.map(\.folder).joined(separator: ", ")))")
        }
        return (cases, skipped, excluded)
    }

    /// Runs the conversion and writes `OUTDIR/dataset.json`.
    public func run() throws(DicomPrepError) -> DatasetManifest {
        try validate()
        let out = options.outputDir
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw .io(path: out, reason: "cannot create the output folder")
        }
        AtomicFile.removeStaleTemporaries(under: out)
        let (cases, skipped, excluded) = try discover()
        let settings = options.settings
        let fingerprint = settings.fingerprint
        let records = UnsafeSendableBox([CaseRecord?](repeating: nil, count: cases.count))
        let progress = UnsafeSendableBox((done: 0, resumed: 0))
        let jobs = max(1, min(options.jobs, cases.count))
        let decodeThreads = max(1, Parallel.cores / jobs)
        Parallel.forEach(count: cases.count, threads: jobs) { i in
            let c = cases[i]
            var resumed = false
            var record: CaseRecord
            if options.resume, let old = previousRecord(c, fingerprint: fingerprint) {
                record = old
                resumed = true
            } else {
                record = convertCase(c, settings: settings, fingerprint: fingerprint, threads: decodeThreads)
                _ = catching { () throws(DicomPrepError) in try JSONOutput.write(record, to: recordPath(c)) }
            }
            records.withLock { $0[i] = record }
            let (done, _) = progress.withLock { p -> (Int, Int) in
                p.done += 1
                if resumed { p.resumed += 1 }
                return (p.done, p.resumed)
            }
            onProgress(DatasetProgress(done: done, total: cases.count, caseID: c.id, resumed: resumed,
                                       failures: record.failures.map { "\($0.sequence ?? "case"): \($0.reason)" }))
        }
        // Cases in (split, id) order, the same whether converted at once or in shards.
        let all = records.take().compactMap { $0 }.sorted { ($0.split, $0.id) < ($1.split, $1.id) }
        var failed = skipped
        var kept: [CaseRecord] = []
        for r in all {
            if r.sequences.isEmpty {
                failed.append(.init(id: r.id, split: r.split, reason: r.failures.map { "\($0.sequence ?? "case"): \($0.reason)" }.joined(separator: "; ")))
            } else {
                kept.append(r)
            }
        }
        let manifest = DatasetManifest(
            layout: options.layout.name, root: URL(fileURLWithPath: options.root).standardizedFileURL.path, settings: settings,
            optionsFingerprint: fingerprint, shard: options.shard.map { .init(index: $0.index, count: $0.count) },
            cases: kept, failed: failed, excluded: excluded,
            counts: .init(cases: kept.count, labeled: kept.filter { $0.label != nil }.count,
                          positive: kept.filter { $0.label == 1 }.count, sequences: kept.reduce(0) { $0 + $1.sequences.count },
                          failed: failed.count, excluded: excluded.count, resumed: progress.take().resumed))
        try JSONOutput.write(manifest, to: out + "/dataset.json")
        if options.qc { try QCReport.writeIndex(manifest, to: out) }
        return manifest
    }

    func caseDir(_ c: CaseFolder) -> String { options.outputDir + "/" + OutputNamer.sanitize(c.split) + "/" + OutputNamer.sanitize(c.id) }
    func recordPath(_ c: CaseFolder) -> String { caseDir(c) + "/case.json" }

    /// The record of an earlier run when its options match and every file it lists is intact.
    func previousRecord(_ c: CaseFolder, fingerprint: String) -> CaseRecord? {
        guard let data = FileManager.default.contents(atPath: recordPath(c)),
              let r = try? JSONDecoder().decode(CaseRecord.self, from: data),
              r.optionsFingerprint == fingerprint, r.label == c.label, !r.sequences.isEmpty else { return nil }
        for s in r.sequences {
            for f in [s.volume, s.sidecar, s.input] + s.groups + (s.qc.map { [$0] } ?? []) {
                guard let bytes = FileManager.default.contents(atPath: options.outputDir + "/" + f.path),
                      SHA256.hex([UInt8](bytes)) == f.sha256 else { return nil }
            }
        }
        return r
    }

    /// Converts one case; a sequence that fails is recorded and the others go on.
    func convertCase(_ c: CaseFolder, settings: DatasetSettings, fingerprint: String, threads: Int) -> CaseRecord {
        var record = CaseRecord(id: c.id, split: c.split, label: c.label, sequences: [], failures: [], optionsFingerprint: fingerprint)
        for seq in settings.sequences {
            let folder = c.path + "/" + seq
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
                record.failures.append(.init(sequence: seq, reason: "folder \(seq) is missing"))
                continue
            }
            switch catching({ () throws(DicomPrepError) in try convertSequence(c, seq, folder: folder, settings: settings, threads: threads) }) {
            case let .success(s): record.sequences.append(s)
            case let .failure(e): record.failures.append(.init(sequence: seq, reason: e.description))
            }
        }
        return record
    }

    func relative(_ path: String) -> String {
        let base = options.outputDir.hasSuffix("/") ? options.outputDir : options.outputDir + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    func fileRecord(_ path: String) throws(DicomPrepError) -> FileRecord {
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "written file cannot be read back") }
        return FileRecord(path: relative(path), sha256: SHA256.hex([UInt8](data)))
    }

    func convertSequence(_ c: CaseFolder, _ seq: String, folder: String, settings: DatasetSettings, threads: Int) throws(DicomPrepError) -> SequenceRecord {
        let prepared = try ModelInputPreparer.prepare(folder: folder, name: "\(c.id)/\(seq)", settings: settings, threads: threads)
        let dir = caseDir(c)
        let writer = NiftiWriter(gzip: true, compressionLevel: settings.compressionLevel, threads: threads)
        let volumePath = dir + "/" + seq + ".nii.gz", sidecarPath = dir + "/" + seq + ".json"
        try writer.write(prepared.full, to: volumePath, description: "dicomprep \(DicomPrepVersion.string)")
        let sidecar = Sidecar(plan: prepared.plan, volume: prepared.full, transforms: [], fingerprint: settings.fingerprint, keepPHI: false)
        try JSONOutput.write(sidecar, to: sidecarPath)
        var inputWriter = writer
        inputWriter.storage = settings.storage
        let inputPath = dir + "/" + seq + "_input.nii.gz"
        try inputWriter.write(prepared.input, to: inputPath, description: "dicomprep model input")
        var groups: [FileRecord] = []
        if let g = settings.groupSize {
            let normalized = try Normalize(settings.normalize).apply(prepared.resized)
            for (k, v) in try SliceGroups(size: g, remainder: settings.remainder).split(normalized).enumerated() {
                let p = dir + "/" + seq + "_group-\(k + 1).nii.gz"
                try inputWriter.write(v, to: p, description: "dicomprep slice group")
                groups.append(try fileRecord(p))
            }
        }
        var qc: FileRecord?
        if options.qc {
            let p = options.outputDir + "/qc/" + OutputNamer.sanitize(c.split) + "/" + OutputNamer.sanitize(c.id) + "_" + OutputNamer.sanitize(seq) + ".png"
            try QCReport.contactSheet(prepared.input).write(to: p)
            qc = try fileRecord(p)
        }
        return SequenceRecord(
            sequence: seq, source: String(folder.dropFirst(options.root.count).drop { $0 == "/" }), sourceFiles: prepared.plan.usedPaths.count,
            volume: try fileRecord(volumePath), sidecar: try fileRecord(sidecarPath),
            shape: prepared.full.dims, spacing: prepared.full.spacing, acquisitionPlane: prepared.plan.geometry.acquisitionPlane,
            input: try fileRecord(inputPath), inputShape: prepared.input.dims, inputSpacing: prepared.input.spacing,
            window: prepared.input.metadata.sliceWindow!, groups: groups, qc: qc, warnings: prepared.warnings)
    }
}

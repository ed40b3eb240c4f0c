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
        guard FileManager.default.fileExists(atPath: options.root, isDirectory: &isDir), isDir.boolValue || ArchiveReader.isArchive(options.root) else {
            throw .usage("dataset root \(options.root) is not a folder or an archive (zip, tar, tar.gz)")
        }
    }

    /// Whether the dataset is read from an archive file rather than a folder.
    var fromArchive: Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: options.root, isDirectory: &isDir) && !isDir.boolValue
    }

    /// Finds the cases of every split; folders that do not look like cases are returned as skipped.
    public func discover() throws(DicomPrepError) -> (cases: [CaseFolder], skipped: [DatasetManifest.Skipped], excluded: [DatasetManifest.Skipped]) {
        try discover(archive: fromArchive ? DatasetArchive.index(options.root, layout: options.layout) : nil)
    }

    func discover(archive: DatasetArchive?) throws(DicomPrepError) -> (cases: [CaseFolder], skipped: [DatasetManifest.Skipped], excluded: [DatasetManifest.Skipped]) {
        let layout = options.layout
        let labels: [String: Int]
        if let archive {
            if let lf = layout.labels {
                guard let text = archive.labelText else { throw .io(path: archive.root + lf.file, reason: "label file not found in the archive") }
                labels = try layout.readLabels(text: text, path: archive.root + lf.file)
            } else { labels = [:] }
        } else {
            labels = try layout.readLabels(root: options.root)
        }
        let re = try? NSRegularExpression(pattern: layout.caseFolderPattern)
        var cases: [CaseFolder] = [], skipped: [DatasetManifest.Skipped] = [], excluded: [DatasetManifest.Skipped] = []
        let excludedIDs = Dictionary(layout.exclude.map { (layout.normalizeID($0.id), $0.reason) }, uniquingKeysWith: { a, _ in a })
        var foundSplit = false
        for split in layout.splits {
            let dir = (archive.map { String($0.root.dropLast()) } ?? options.root) + "/" + split.folder
            let names: [String], folders: Set<String>
            if let archive {
                guard let e = archive.splitEntries[split.folder] else { continue }
                names = Array(e.folders.union(e.files))
                folders = e.folders
            } else {
                guard let n = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
                names = n
                folders = Set(n.filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: dir + "/" + $0, isDirectory: &d) && d.boolValue })
            }
            foundSplit = true
            for name in names.sorted(by: NaturalOrder.less) {
                guard folders.contains(name) else {
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
        if let archive {
            for r in archive.refused { skipped.append(.init(id: r.path, split: "", reason: r.reason)) }
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
        let archive = fromArchive ? DatasetArchive.index(options.root, layout: options.layout) : nil
        let (cases, skippedFound, excluded) = try discover(archive: archive)
        var skipped = skippedFound
        let settings = options.settings
        let fingerprint = settings.fingerprint
        let records = UnsafeSendableBox([CaseRecord?](repeating: nil, count: cases.count))
        let progress = UnsafeSendableBox((done: 0, resumed: 0))
        let jobs = max(1, min(options.jobs, max(cases.count, 1)))
        let decodeThreads = max(1, Parallel.cores / jobs)
        let sourceRoot = archive.map { String($0.root.dropLast()) } ?? options.root
        @Sendable func process(_ i: Int, notes: [String] = []) {
            let c = cases[i]
            var resumed = false
            var record: CaseRecord
            if options.resume, let old = previousRecord(c, fingerprint: fingerprint) {
                record = old
                resumed = true
            } else {
                record = convertCase(c, settings: settings, fingerprint: fingerprint, threads: decodeThreads, sourceRoot: sourceRoot)
                for n in notes { record.failures.append(.init(sequence: nil, reason: n)) }
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
        if let archive {
            // Stream the archive once more: a case is converted as soon as all its members have arrived
            // (at most `jobs` cases at a time, the reader waiting), then its members are forgotten.
            var pending: [String: Int] = [:]
            for (i, c) in cases.enumerated() {
                if options.resume && previousRecord(c, fingerprint: fingerprint) != nil { process(i) } else { pending[c.path] = i }
            }
            var seen: [String: Int] = [:], notes: [String: [String]] = [:]
            let slots = DispatchSemaphore(value: jobs), group = DispatchGroup()
            let queue = DispatchQueue(label: "dicomprep.dataset.archive", attributes: .concurrent)
            func dispatch(_ folder: String) {
                guard let i = pending.removeValue(forKey: folder) else { return }
                let n = notes[folder] ?? []
                slots.wait()
                queue.async(group: group) {
                    process(i, notes: n)
                    ArchiveMembers.shared.release(under: folder)
                    slots.signal()
                }
            }
            let damage = ArchiveReader.walk(options.root) { m in
                guard m.isFile, m.refused == nil, let folder = archive.caseFolder(of: m.inner), pending[folder] != nil else { return true }
                switch m.read() {
                case let .success(bytes): ArchiveMembers.shared.keep(options.root + "/" + m.inner, bytes)
                case let .failure(e): notes[folder, default: []].append(e.description)
                }
                seen[folder, default: 0] += 1
                if seen[folder] == archive.memberCount[folder] { dispatch(folder) }
                return true
            }
            if let d = damage ?? archive.damage {
                skipped.append(.init(id: d.path, split: "", reason: d.reason))
                for folder in Array(pending.keys) { notes[folder, default: []].append("the archive is damaged before all of this case's files: \(d.reason)") }
            }
            for folder in pending.keys.sorted() { dispatch(folder) }
            group.wait()
        } else {
            Parallel.forEach(count: cases.count, threads: jobs) { i in process(i) }
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
    func convertCase(_ c: CaseFolder, settings: DatasetSettings, fingerprint: String, threads: Int, sourceRoot: String) -> CaseRecord {
        var record = CaseRecord(id: c.id, split: c.split, label: c.label, sequences: [], failures: [], optionsFingerprint: fingerprint)
        for seq in settings.sequences {
            let folder = c.path + "/" + seq
            var isDir: ObjCBool = false
            let onDisk = FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) && isDir.boolValue
            guard onDisk || !ArchiveMembers.shared.files(under: folder).isEmpty else {
                record.failures.append(.init(sequence: seq, reason: "folder \(seq) is missing"))
                continue
            }
            switch catching({ () throws(DicomPrepError) in try convertSequence(c, seq, folder: folder, settings: settings, threads: threads, sourceRoot: sourceRoot) }) {
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

    func convertSequence(_ c: CaseFolder, _ seq: String, folder: String, settings: DatasetSettings, threads: Int, sourceRoot: String) throws(DicomPrepError) -> SequenceRecord {
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
            sequence: seq, source: String(folder.dropFirst(sourceRoot.count).drop { $0 == "/" }), sourceFiles: prepared.plan.usedPaths.count,
            volume: try fileRecord(volumePath), sidecar: try fileRecord(sidecarPath),
            shape: prepared.full.dims, spacing: prepared.full.spacing, acquisitionPlane: prepared.plan.geometry.acquisitionPlane,
            input: try fileRecord(inputPath), inputShape: prepared.input.dims, inputSpacing: prepared.input.spacing,
            window: prepared.input.metadata.sliceWindow!, groups: groups, qc: qc, warnings: prepared.warnings)
    }
}

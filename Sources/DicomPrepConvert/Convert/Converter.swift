import DicomPrepCore
import Foundation

/// Options of `dicomprep convert`.
public struct ConvertOptions: Sendable {
    public var inputs: [String]
    public var outputDir: String
    public var values = ValueOptions()
    /// Apply the VOI LUT / window (as pydicom's apply_voi_lut) after the modality LUT.
    public var applyVOI = false
    public var reorient: String?
    public var gzip = true
    public var compressionLevel = 1
    public var nameTemplate = OutputNamer.defaultTemplate
    public var mirrorFolders = true
    public var jobs = Parallel.cores
    public var reportPath: String?
    public var strict = false
    public var keepPHI = false
    public var spacingTolerance = 0.1
    public var resume = false
    /// Echoes of a series in one 4D output instead of one output per echo.
    public var mergeEchoes = false

    public init(inputs: [String], outputDir: String) {
        self.inputs = inputs
        self.outputDir = outputDir
    }
}

/// Something that happened during a conversion, for the CLI to render.
public enum ConversionEvent: Sendable {
    case scanned(files: Int)
    case parsed(series: Int)
    case wrote(path: String, series: String, warnings: [SeriesWarning])
    case resumed(path: String)
    case skipped(SkippedEntry)
    case duplicate(DuplicateEntry)
}

/// Runs a whole conversion: scan, parse headers in parallel, group and sort, build volumes, transform,
/// write NIfTI and sidecars atomically, and account for every input file in the report.
public struct Converter: Sendable {
    public let options: ConvertOptions
    public let onEvent: @Sendable (ConversionEvent) -> Void

    public init(options: ConvertOptions, onEvent: @escaping @Sendable (ConversionEvent) -> Void = { _ in }) {
        self.options = options
        self.onEvent = onEvent
    }

    /// Checks options before any work starts.
    public func validate() throws(DicomPrepError) {
        if options.inputs.isEmpty { throw .usage("no input given") }
        if !(0...12).contains(options.compressionLevel) { throw .usage("--compression-level must be 0...12") }
        if options.jobs < 1 { throw .usage("--jobs must be at least 1") }
        if options.spacingTolerance <= 0 { throw .usage("--spacing-tolerance must be positive") }
        if let r = options.reorient { _ = try Reorient(r) }
        _ = try OutputNamer(template: options.nameTemplate, keepPHI: options.keepPHI)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: options.outputDir, isDirectory: &isDir), !isDir.boolValue {
            throw .usage("output \(options.outputDir) exists and is not a folder")
        }
    }

    /// Converts everything; never throws for bad input files, which end up in the report.
    public func run() throws(DicomPrepError) -> ConversionReport {
        try validate()
        let out = options.outputDir
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            throw .io(path: out, reason: "cannot create the output folder (\(error.localizedDescription))")
        }
        AtomicFile.removeStaleTemporaries(under: out)
        // 1. Scan.
        let (files, scanSkips) = FileScanner.scan(options.inputs, exclude: [out])
        onEvent(.scanned(files: files.count))
        var skipped = scanSkips
        for s in scanSkips { onEvent(.skipped(s)) }

        // 2. Parse headers in parallel.
        let parsed = InstanceParser.parseAll(files, threads: options.jobs)
        for s in parsed.skipped { onEvent(.skipped(s)) }
        skipped += parsed.skipped
        let instances = parsed.instances, relDir = parsed.relativeDir

        // 3. Group, split, sort.
        let builder = SeriesBuilder(spacingTolerance: options.spacingTolerance, mergeEchoes: options.mergeEchoes)
        let built = builder.build(instances, relativeDir: { relDir[$0.path] ?? "" })
        onEvent(.parsed(series: built.plans.count))
        for d in built.duplicates { onEvent(.duplicate(d)) }
        var failed: [ConversionReport.FailedSeries] = built.failures.map { .init(series: $0.label, reason: $0.reason, files: $0.paths) }
        var plans: [SeriesPlan] = []
        for plan in built.plans {
            if options.strict, let w = plan.warnings.first(where: { $0.kind == .missingSlices || $0.kind == .nonUniformSpacing }) {
                failed.append(.init(series: plan.label, reason: "refused by --strict: \(w.message)", files: plan.usedPaths))
            } else {
                plans.append(plan)
            }
        }

        // The headers' parsed and grouped copies are garbage now, which the volumes (mapped apart) cannot reuse.
        ProcessMemory.returnFreedMemory()

        // 4. Names, decided in order so that they do not depend on timing.
        var namer = try OutputNamer(template: options.nameTemplate, keepPHI: options.keepPHI, mirrorFolders: options.mirrorFolders)
        // Every output may compress on all cores: while several are written at once the members share the
        // cores, and the last one written alone does not leave the others idle.
        let writer = NiftiWriter(gzip: options.gzip, compressionLevel: options.compressionLevel, threads: Parallel.cores)
        let names = plans.map { namer.relativePath(for: $0) }
        var steps: [any VolumeTransform] = []
        if options.applyVOI {
            steps.append(VOIWindow())
            if let t = options.values.dataType { steps.append(CastTo(t)) }
        }
        if let r = options.reorient { steps.append(try Reorient(r)) }
        let pipeline = Pipeline(steps)

        // 5. Build and write volumes, a few at a time (bounded memory).
        let plansToWrite = plans
        let results = UnsafeSendableBox([Result<ConversionReport.OutputEntry, DicomPrepError>?](repeating: nil, count: plans.count))
        let jobs = max(1, min(options.jobs, plans.count))
        let decodeThreads = max(1, Parallel.cores / jobs)
        Parallel.forEach(count: plans.count, threads: jobs) { k in
            let r = catching { () throws(DicomPrepError) in
                try convertOne(plansToWrite[k], name: names[k], pipeline: pipeline, writer: writer, threads: decodeThreads)
            }
            results.withLock { $0[k] = r }
            if case let .success(entry) = r {
                onEvent(entry.resumed ? .resumed(path: entry.nifti) : .wrote(path: entry.nifti, series: entry.series, warnings: entry.warnings))
            }
        }
        var outputs: [ConversionReport.OutputEntry] = []
        for (k, r) in results.take().enumerated() {
            switch r! {
            case let .success(e): outputs.append(e)
            case let .failure(e): failed.append(.init(series: plans[k].label, reason: e.description, files: plans[k].usedPaths))
            }
        }

        // 6. Account for every file.
        let used = Set(outputs.flatMap(\.sources))
        var dupFiles = Set<String>()
        for d in built.duplicates where d.frame == nil && !used.contains(d.path) { dupFiles.insert(d.path) }
        for f in failed {
            for p in f.files where !used.contains(p) {
                let s = SkippedEntry(path: p, reason: "series \(f.series) not written: \(f.reason)")
                skipped.append(s)
                onEvent(.skipped(s))
            }
        }
        let skippedPaths = Set(skipped.map(\.path))
        for f in files where !used.contains(f.path) && !dupFiles.contains(f.path) && !skippedPaths.contains(f.path) {
            // Should not happen; if it does, the file is still named rather than lost.
            let s = SkippedEntry(path: f.path, reason: "not used by any written volume")
            skipped.append(s)
            onEvent(.skipped(s))
        }
        let scannedSet = Set(files.map(\.path))
        let skippedFiles = Set(skipped.map(\.path)).intersection(scannedSet).subtracting(used).subtracting(dupFiles)
        // Files that are not DICOM at all (a README, a spreadsheet in the export) are listed but are no error.
        let problems = skipped.filter { $0.notDicom != true }
        let exit: Int = outputs.isEmpty ? 2 : ((problems.isEmpty && failed.isEmpty) ? 0 : 1)
        let report = ConversionReport(
            inputs: options.inputs, outputDir: out, filesScanned: files.count, outputs: outputs,
            duplicates: built.duplicates, skipped: skipped, failedSeries: failed,
            counts: .init(scanned: files.count, used: used.intersection(scannedSet).count, duplicate: dupFiles.count,
                          skipped: skippedFiles.count, volumes: outputs.count),
            exitStatus: exit)
        let reportPath = options.reportPath ?? (out + "/dicomprep-report.json")
        try JSONOutput.write(report, to: reportPath)
        return report
    }

    /// Builds, transforms and writes one series; with --resume, leaves a complete earlier output alone.
    func convertOne(_ plan: SeriesPlan, name: String, pipeline: Pipeline, writer: NiftiWriter, threads: Int) throws(DicomPrepError) -> ConversionReport.OutputEntry {
        let nifti = options.outputDir + "/" + name + writer.fileExtension
        let sidecarPath = options.outputDir + "/" + name + ".json"
        let fingerprint = fingerprintOf(plan)
        func entry(_ dims: [Int], resumed: Bool) -> ConversionReport.OutputEntry {
            .init(nifti: nifti, sidecar: sidecarPath, series: plan.label, part: plan.part, dimensions: dims,
                  sortKey: plan.geometry.sortKey, warnings: plan.warnings, sources: plan.usedPaths, resumed: resumed)
        }
        if options.resume, FileManager.default.fileExists(atPath: nifti),
           let data = FileManager.default.contents(atPath: sidecarPath),
           let old = try? JSONDecoder().decode(Sidecar.self, from: data), old.SourceFingerprint == fingerprint,
           (try? NiftiIO.read(nifti, withValues: false)) != nil {
            return entry(old.Dimensions, resumed: true)
        }
        var values = options.values
        if options.applyVOI { values.dataType = nil } // the type is chosen after the window
        var volume = try VolumeBuilder.build(plan, values: values, threads: threads)
        volume = try pipeline.apply(volume)
        let acquisition = AcquisitionFields(plan: plan, affine: volume.affine)
        let sidecar = Sidecar(plan: plan, volume: volume, transforms: pipeline.names, fingerprint: fingerprint, keepPHI: options.keepPHI,
                              acquisition: acquisition, philipsDisplayValues: options.values.philipsDisplayValues)
        // The volume first, then its gradient table, then its sidecar: a sidecar always describes a complete output.
        try writer.write(volume, to: nifti, description: "dicomprep \(DicomPrepVersion.string) \(plan.geometry.sortKey)")
        let stem = options.outputDir + "/" + name
        if let bval = acquisition.bvalText { try AtomicFile.write(text: bval, to: stem + ".bval") }
        if let bvec = acquisition.bvecText { try AtomicFile.write(text: bvec, to: stem + ".bvec") }
        try JSONOutput.write(sidecar, to: sidecarPath)
        return entry(volume.dims, resumed: false)
    }

    /// Identifies the sources and the options that shape the output.
    func fingerprintOf(_ plan: SeriesPlan) -> String {
        var h = SHA256()
        for inst in plan.instances {
            var st = stat()
            let mtime = stat(inst.path, &st) == 0 ? "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" : "?"
            h.update(Array("\(inst.path)|\(inst.fileSize)|\(mtime)\n".utf8))
        }
        let o = options
        h.update(Array("voi=\(o.applyVOI) philipsDisplay=\(o.values.philipsDisplayValues) merge=\(o.mergeEchoes) dtype=\(o.values.dataType?.rawValue ?? "auto") reorient=\(o.reorient ?? "-") gzip=\(o.gzip) tol=\(o.spacingTolerance) phi=\(o.keepPHI) v=\(DicomPrepVersion.string)".utf8))
        return h.finalize()
    }
}

import DicomPrepCore
import DicomPrepConvert

/// One sequence folder made into a model input, in memory: the conversion core (scan, parse, plan, the
/// largest series), the full-resolution volume, and the model-input pipeline. `dataset convert` writes
/// the results; `predict` uses them directly on raw DICOM with the settings recorded in a model bundle,
/// so training and inference preprocess identically.
public enum ModelInputPreparer {
    public struct Prepared: Sendable {
        public var plan: SeriesPlan
        /// Full resolution, real-world values, acquired orientation.
        public var full: Volume
        /// After VOI, polarity, plane and resize (before the window and normalisation).
        public var resized: Volume
        /// The model input.
        public var input: Volume
        public var warnings: [String]
    }

    /// The transforms before the slice window, in order: the VOI window first (it needs the acquired slices).
    public static func basePipeline(_ s: DatasetSettings) -> Pipeline {
        var base: [any VolumeTransform] = s.voi ? [VOIWindow()] : []
        base += [ToFloat(), DisplayPolarity()]
        if let p = s.plane { base.append(ReorientToPlane(p)) }
        base.append(Resize(width: s.size, height: s.size))
        return Pipeline(base)
    }

    /// The largest series of a DICOM folder (by slices × time points) and what was left aside, as warnings.
    public static func largestSeries(folder: String, name: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> (plan: SeriesPlan, warnings: [String]) {
        let (files, scanSkips) = FileScanner.scan([folder])
        let parsed = InstanceParser.parseAll(files, threads: threads)
        let instances = parsed.instances
        var warnings: [String] = (scanSkips + parsed.skipped).map { "skipped \($0.path): \($0.reason)" }
        guard !instances.isEmpty else { throw .invalidSeries(name: name, reason: "no readable DICOM image in \(folder)") }
        let built = SeriesBuilder().build(instances)
        for f in built.failures { warnings.append("series \(f.label) not used: \(f.reason)") }
        for d in built.duplicates { warnings.append("duplicate \(d.path): \(d.reason)") }
        guard let main = built.plans.max(by: { $0.geometry.slices * $0.geometry.timepoints < $1.geometry.slices * $1.geometry.timepoints }) else {
            throw .invalidSeries(name: name, reason: built.failures.first?.reason ?? "no series could be assembled")
        }
        for p in built.plans where p.usedPaths != main.usedPaths {
            warnings.append("another series in the folder (\(p.label), \(p.geometry.slices) slices) not used: the largest one was taken")
        }
        warnings += main.warnings.map(\.message)
        return (main, warnings)
    }

    public static func prepare(folder: String, name: String, settings: DatasetSettings, threads: Int = Parallel.cores) throws(DicomPrepError) -> Prepared {
        let (main, warnings) = try largestSeries(folder: folder, name: name, threads: threads)
        // One build (real-world values), then one pipeline.
        let full = try VolumeBuilder.build(main, threads: threads)
        let resized = try basePipeline(settings).apply(full)
        let input = try Pipeline([SliceWindow(count: settings.slices), Normalize(settings.normalize)]).apply(resized)
        return Prepared(plan: main, full: full, resized: resized, input: input, warnings: warnings)
    }
}

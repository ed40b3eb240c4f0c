import DicomPrepCore

/// What dicomprep parses and derives from DICOM input, without writing anything.
public struct InspectReport: Codable, Sendable {
    public var schema = "inspect-report.schema.json"
    public var filesScanned: Int
    public var series: [SeriesSummary]
    public var duplicates: [DuplicateEntry]
    public var skipped: [SkippedEntry]

    public struct SeriesSummary: Codable, Sendable {
        public var series: String
        public var part: Int?
        public var modality: String
        public var files: Int
        public var transferSyntax: String
        public var dimensions: [Int]
        public var pixelSpacing: [Double]
        public var sliceSpacing: Double
        public var acquisitionPlane: String
        public var sortKey: String
        public var affine: [[Double]]
        public var axisCodes: String
        public var warnings: [SeriesWarning]
        public var folder: String
        // What real-scanner handling used: kind of image, mosaic, echo, diffusion, timing and encoding.
        public var imageComponent: String
        public var nameSuffix: String?
        public var mosaicSlices: Int?
        public var echoNumber: Int?
        public var echoTimeMs: Double?
        public var bValues: [Double]?
        public var diffusionSource: String?
        public var sliceTimingSource: String?
        public var multibandAccelerationFactor: Int?
        public var phaseEncoding: String?
        public var philipsScaleSlope: Double?
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case filesScanned, series, duplicates, skipped
    }
}

/// Scans and plans like `convert`, and reports the result.
public enum Inspector {
    public static func inspect(_ inputs: [String], spacingTolerance: Double = 0.1, jobs: Int = Parallel.cores) -> InspectReport {
        let (files, scanSkips) = FileScanner.scan(inputs)
        let parsed = InstanceParser.parseAll(files, threads: jobs)
        var skipped = scanSkips + parsed.skipped
        let instances = parsed.instances, rel = parsed.relativeDir
        let built = SeriesBuilder(spacingTolerance: spacingTolerance).build(instances, relativeDir: { rel[$0.path] ?? "" })
        for f in built.failures { for p in f.paths { skipped.append(SkippedEntry(path: p, reason: "series \(f.label): \(f.reason)")) } }
        let series = built.plans.map { p in
            let acq = AcquisitionFields(plan: p, affine: p.geometry.affine)
            let f0 = p.frame(p.volumes[0][0])
            return InspectReport.SeriesSummary(
                series: p.label, part: p.part, modality: p.first.modality, files: p.usedPaths.count,
                transferSyntax: TransferSyntax.name(p.first.transferSyntax),
                dimensions: [p.geometry.columns, p.geometry.rows, p.geometry.slices, p.geometry.timepoints],
                pixelSpacing: p.geometry.pixelSpacing, sliceSpacing: p.geometry.sliceSpacing,
                acquisitionPlane: p.geometry.acquisitionPlane, sortKey: p.geometry.sortKey, affine: p.geometry.affine.nested,
                axisCodes: p.geometry.affine.axisCodes, warnings: p.warnings, folder: p.relativeDir,
                imageComponent: p.component.rawValue, nameSuffix: p.suffix.isEmpty ? nil : p.suffix, mosaicSlices: p.first.mosaic?.slices,
                echoNumber: f0.echoNumber, echoTimeMs: f0.echoTime ?? p.first.echoTime,
                bValues: acq.bValues.map { Array(Set($0)).sorted() }, diffusionSource: acq.bValues != nil ? p.first.acquisition.diffusionSource : nil,
                sliceTimingSource: acq.sliceTiming != nil ? p.first.acquisition.sliceTimeSource : nil,
                multibandAccelerationFactor: acq.multibandAccelerationFactor,
                phaseEncoding: acq.phaseEncodingDirection ?? acq.phaseEncodingAxis,
                philipsScaleSlope: p.usesPhilipsScale ? f0.philipsScaleSlope : nil)
        }
        return InspectReport(filesScanned: files.count, series: series, duplicates: built.duplicates, skipped: skipped)
    }
}

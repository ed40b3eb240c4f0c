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
            InspectReport.SeriesSummary(
                series: p.label, part: p.part, modality: p.first.modality, files: p.usedPaths.count,
                transferSyntax: TransferSyntax.name(p.first.transferSyntax),
                dimensions: [p.geometry.columns, p.geometry.rows, p.geometry.slices, p.geometry.timepoints],
                pixelSpacing: p.geometry.pixelSpacing, sliceSpacing: p.geometry.sliceSpacing,
                acquisitionPlane: p.geometry.acquisitionPlane, sortKey: p.geometry.sortKey, affine: p.geometry.affine.nested,
                axisCodes: p.geometry.affine.axisCodes, warnings: p.warnings, folder: p.relativeDir)
        }
        return InspectReport(filesScanned: files.count, series: series, duplicates: built.duplicates, skipped: skipped)
    }
}

import DicomPrepCore

/// What a conversion did with every input file: used (in which output), duplicate, or skipped (why).
public struct ConversionReport: Codable, Sendable {
    public var schema = "conversion-report.schema.json"
    public var tool = "dicomprep"
    public var version = DicomPrepVersion.string
    public var inputs: [String]
    public var outputDir: String
    public var filesScanned: Int
    public var outputs: [OutputEntry]
    public var duplicates: [DuplicateEntry]
    public var skipped: [SkippedEntry]
    public var failedSeries: [FailedSeries]
    public var counts: Counts
    public var exitStatus: Int

    public struct OutputEntry: Codable, Sendable, Equatable {
        public var nifti: String
        public var sidecar: String
        public var series: String
        public var part: Int?
        public var dimensions: [Int]
        public var sortKey: String
        public var warnings: [SeriesWarning]
        public var sources: [String]
        /// True when --resume found this output complete and left it alone.
        public var resumed: Bool
    }

    public struct FailedSeries: Codable, Sendable, Equatable {
        public var series: String
        public var reason: String
        public var files: [String]
    }

    public struct Counts: Codable, Sendable, Equatable {
        public var scanned: Int
        public var used: Int
        public var duplicate: Int
        public var skipped: Int
        public var volumes: Int
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case tool, version, inputs, outputDir, filesScanned, outputs, duplicates, skipped, failedSeries, counts, exitStatus
    }
}

import DicomPrepCore

/// A file written for a dataset, with its checksum (paths relative to the dataset folder).
public struct FileRecord: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
}

/// One sequence of one case: the full-resolution volume, the model input, and what was decided.
public struct SequenceRecord: Codable, Sendable, Equatable {
    public var sequence: String
    /// Source folder relative to the dataset root.
    public var source: String
    public var sourceFiles: Int
    public var volume: FileRecord
    public var sidecar: FileRecord
    /// Full-resolution dimensions (x, y, z, t) and voxel size (mm).
    public var shape: [Int]
    public var spacing: [Double]
    public var acquisitionPlane: String
    public var input: FileRecord
    public var inputShape: [Int]
    public var inputSpacing: [Double]
    public var window: SliceWindowInfo
    public var groups: [FileRecord]
    public var qc: FileRecord?
    public var warnings: [String]
}

/// One case: its id, split, label and sequences; failures of single sequences are listed with reasons.
public struct CaseRecord: Codable, Sendable, Equatable {
    public var schema = "case-record.schema.json"
    public var id: String
    public var split: String
    public var label: Int?
    public var sequences: [SequenceRecord]
    public var failures: [Failure]
    /// Identifies the options that produced this record (resume redoes a case when they change).
    public var optionsFingerprint: String

    public struct Failure: Codable, Sendable, Equatable {
        public var sequence: String?
        public var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case id, split, label, sequences, failures, optionsFingerprint
    }

    public func sequence(_ name: String) -> SequenceRecord? { sequences.first { $0.sequence == name } }
}

/// The options of a dataset conversion that shape its outputs.
public struct DatasetSettings: Codable, Sendable, Equatable {
    public var layout: String
    public var sequences: [String]
    public var slices: Int
    public var size: Int
    public var plane: ReorientToPlane.Plane?
    public var normalize: Normalize.Mode
    public var storage: NiftiWriter.Storage
    public var voi: Bool
    public var groupSize: Int?
    public var remainder: SliceGroups.Remainder
    public var keepExcluded: Bool
    public var compressionLevel: Int

    /// A hash of the settings and the tool version.
    public var fingerprint: String {
        let text = (try? JSONOutput.encode(self)) ?? ""
        return SHA256.hex(Array((text + DicomPrepVersion.string).utf8))
    }
}

/// `dataset.json`: every case of a dataset conversion (or of one shard of it).
public struct DatasetManifest: Codable, Sendable, Equatable {
    public var schema = "dataset.schema.json"
    public var tool = "dicomprep"
    public var version = DicomPrepVersion.string
    public var layout: String
    public var root: String
    public var settings: DatasetSettings
    public var optionsFingerprint: String
    public var shard: Shard?
    public var cases: [CaseRecord]
    /// Cases (or case folders) not converted at all, with the reason.
    public var failed: [Skipped]
    public var excluded: [Skipped]
    public var counts: Counts

    public struct Shard: Codable, Sendable, Equatable {
        public var index: Int
        public var count: Int
    }
    public struct Skipped: Codable, Sendable, Equatable {
        public var id: String
        public var split: String?
        public var reason: String
        public init(id: String, split: String? = nil, reason: String) {
            self.id = id
            self.split = split
            self.reason = reason
        }
    }
    public struct Counts: Codable, Sendable, Equatable {
        public var cases: Int
        public var labeled: Int
        public var positive: Int
        public var sequences: Int
        public var failed: Int
        public var excluded: Int
        public var resumed: Int
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case tool, version, layout, root, settings, optionsFingerprint, shard, cases, failed, excluded, counts
    }
}

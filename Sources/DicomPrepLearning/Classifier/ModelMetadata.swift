import DicomPrepCore
import DicomPrepDataset
import Foundation

/// `metadata.json` of a model bundle (MONAI-bundle-like): what the network is, what it eats, how its
/// inputs were made, what it was trained on, how well it did, and with which versions.
public struct ModelMetadata: Codable, Sendable, Equatable {
    public var schema = "model-metadata.schema.json"
    public var name: String
    public var created: String
    public var architecture: Architecture
    public var input: Input
    /// The dataset preprocessing of the training inputs; `predict` repeats it on raw DICOM.
    public var preprocessing: DatasetSettings?
    public var labels: [String: String]
    public var output: String
    public var training: Training
    public var metrics: Metrics_
    public var versions: [String: String]

    public struct Architecture: Codable, Sendable, Equatable {
        public var name: String
        public var monai: String?
        public var spatialDims: Int
        public var inChannels: Int
        public var numClasses: Int
        public var stemStride: [Int]
        public var parameters: Int
    }
    public struct Input: Codable, Sendable, Equatable {
        /// channels, slices, rows, columns
        public var shape: [Int]
        public var sequence: String
        public var axes: String
    }
    public struct Training: Codable, Sendable, Equatable {
        public var epochs: Int
        public var batchSize: Int
        public var learningRate: Double
        public var milestones: [Int]
        public var gamma: Double
        public var seed: UInt64
        public var augment: [String]
        public var optimizer: String
        public var loss: String
        public var trainCases: Int
        public var validationCases: Int
        public var trainManifest: String
        public var validationManifest: String
        /// sha256 over the sorted (case, label, input sha256) of every training and validation sample.
        public var dataChecksum: String
        public var bestEpoch: Int
        public var device: String
        public var threads: Int
    }
    public struct Metrics_: Codable, Sendable, Equatable {
        public var bestValidationAUROC: Double?
        public var bestValidationLoss: Double?
        public var finalTrainLoss: Double?
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case name, created, architecture, input, preprocessing, labels, output, training, metrics, versions
    }

    public static func load(bundle dir: String) throws(DicomPrepError) -> ModelMetadata {
        let p = dir + "/metadata.json"
        guard let data = FileManager.default.contents(atPath: p) else { throw .io(path: p, reason: "no metadata.json: not a model bundle") }
        do { return try JSONDecoder().decode(ModelMetadata.self, from: data) } catch { throw .io(path: p, reason: "not valid model metadata: \(error)") }
    }
}

/// One epoch's numbers, a line of metrics.jsonl.
public struct EpochMetrics: Codable, Sendable, Equatable {
    public var epoch: Int
    public var learningRate: Double
    public var trainLoss: Double
    public var validationLoss: Double
    public var validationAUROC: Double?
    public var validationAccuracy: Double
    public var samplesPerSecond: Double
    public var seconds: Double
}

func isoNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}

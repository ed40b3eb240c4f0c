import DicomPrepCore
import Foundation

/// MONAI's UNet arguments (spatial_dims=3); the defaults are the ones MONAI's tutorials use.
public struct UNetConfig: Codable, Sendable, Equatable {
    public var inChannels = 1
    public var outChannels = 2
    public var channels = [16, 32, 64, 128, 256]
    public var strides = [2, 2, 2, 2]
    public var residualUnits = 2
    /// "instance" (MONAI's default) or "batch".
    public var norm = "instance"

    public init() {}

    /// The Python expression that builds the same network.
    public var monai: String {
        "monai.networks.nets.UNet(spatial_dims=3, in_channels=\(inChannels), out_channels=\(outChannels), channels=(\(channels.map(String.init).joined(separator: ", "))), "
            + "strides=(\(strides.map(String.init).joined(separator: ", "))), num_res_units=\(residualUnits)\(norm == "batch" ? ", norm=\"batch\"" : ""))"
    }

    /// Spatial sizes must be multiples of this.
    public var divisor: Int { strides.reduce(1, *) }
}

/// Post-processing of predicted label maps, recorded in the bundle and applied by `predict`.
public struct SegmentationPostprocessing: Codable, Sendable, Equatable {
    /// Keep only the largest connected component of each foreground label.
    public var largestComponent = false
    /// Fill holes (3D) of each foreground label.
    public var fillHoles = false
    public init(largestComponent: Bool = false, fillHoles: Bool = false) {
        self.largestComponent = largestComponent
        self.fillHoles = fillHoles
    }
    public var names: [String] { (largestComponent ? ["largest-component"] : []) + (fillHoles ? ["fill-holes"] : []) }
}

/// One epoch of segmentation training.
public struct SegmentationEpoch: Codable, Sendable, Equatable {
    public var epoch: Int
    public var learningRate: Double
    public var trainLoss: Double
    /// Soft Dice of the foreground classes on the training patches.
    public var trainDice: Double
    /// Mean Dice of the foreground classes on the validation images (sliding window, argmax); nil on epochs
    /// without validation.
    public var validationDice: Double?
    public var patchesPerSecond: Double
    public var seconds: Double
}

/// `metadata.json` of a segmentation bundle: the network, its tensors, the preprocessing, the inference
/// and post-processing settings, the training and its result.
public struct SegmentationMetadata: Codable, Sendable, Equatable {
    public var schema = "segmentation-model.schema.json"
    public var task = "segment"
    public var name: String
    public var created: String
    public var network: UNetConfig
    public var monai: String
    public var parameters: Int
    /// Label value -> name.
    public var labels: [String: String]
    public var preprocessing: SegmentationPreprocessing
    public var tensorAxes = "batch, channel, x (R), y (A), z (S) of the preprocessing grid: MONAI's order after LoadImage + Orientation(\"RAS\")"
    /// Training patch = sliding-window size, voxels along x, y, z.
    public var patch: [Int]
    public var overlap: Double
    public var postprocessing: SegmentationPostprocessing
    public var training: Training
    public var metrics: Metrics
    public var versions: [String: String]

    public struct Training: Codable, Sendable, Equatable {
        public var epochs: Int
        public var epochsDone: Int
        public var samplesPerCase: Int
        public var batchSize: Int
        public var learningRate: Double
        public var schedule: String
        public var seed: UInt64
        public var augmentation: SegmentationAugmentation
        public var optimizer: String
        public var loss: String
        /// What the loss compares the prediction with: "indices" (one class per voxel) or "fractions"
        /// (each class's share of the voxel: partial volume from tissue maps or from the interpolated label
        /// map); nil in bundles made before the choice existed (indices).
        public var targets: String?
        /// Compute precision of the training steps, "float32" or "bfloat16" (mixed precision); nil in bundles
        /// made before the choice existed (float32).
        public var precision: String?
        /// Decay of the moving average of the weights that validation and model.pt / best.pt use; nil when
        /// the run kept none (the live weights).
        public var weightAveraging: Double?
        public var trainCases: Int
        public var validationCases: Int
        public var datalist: String
        /// sha256 over the sorted (case, image sha256, label sha256) of every case.
        public var dataChecksum: String
        public var bestEpoch: Int
        /// Which weights model.pt holds: "last" or "best" (validation Dice); nil in bundles made before the choice existed (best).
        public var weights: String?
        public var device: String
        public var threads: Int
        public var seconds: Double
        public var stoppedBy: String
    }

    public struct Metrics: Codable, Sendable, Equatable {
        public var bestValidationDice: Double?
        public var finalTrainLoss: Double?
        public var finalTrainDice: Double?
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case task, name, created, network, monai, parameters, labels, preprocessing, tensorAxes, patch, overlap, postprocessing, training, metrics, versions
    }

    public static func load(bundle dir: String) throws(DicomPrepError) -> SegmentationMetadata {
        let path = dir + "/metadata.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "no metadata.json in the model bundle") }
        do { return try JSONDecoder().decode(SegmentationMetadata.self, from: data) } catch {
            throw .io(path: path, reason: "not a segmentation model's metadata: \(error)")
        }
    }

    /// Whether a bundle folder (or a model.pt inside it) holds a segmentation model.
    public static func isSegmentation(bundle dir: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: dir + "/metadata.json"),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return obj["task"] as? String == "segment"
    }
}

extension CurvesPlot {
    /// Segmentation training curves: loss (Dice + CE), and training / validation Dice.
    public static func segmentationSVG(_ history: [SegmentationEpoch]) -> String {
        let epochs = history.map { Double($0.epoch) }
        let loss = [Series(label: "training loss", color: "#1f77b4", dashed: false, values: history.map(\.trainLoss))]
        let quality = [
            Series(label: "training Dice (patches)", color: "#1f77b4", dashed: true, values: history.map(\.trainDice)),
            Series(label: "validation Dice", color: "#2ca02c", dashed: false, values: history.map(\.validationDice)),
        ]
        let lossMax = max(1e-6, history.map(\.trainLoss).max() ?? 1)
        return document(title: "Segmentation training", epochs: history.count,
                        panel(x0: 60, title: "Loss (Dice + cross-entropy)", yLabel: "loss", epochs: epochs, series: loss, yRange: (0, niceCeiling(lossMax)))
                            + panel(x0: 560, title: "Dice (foreground)", yLabel: "Dice", epochs: epochs, series: quality, yRange: (0, 1)))
    }
}

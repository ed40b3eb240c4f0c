import DicomPrepCore
import DicomPrepDataset
import Foundation

/// Options of `dicomprep train`.
public struct TrainOptions: Sendable {
    public var trainManifest: String
    public var validationManifest: String
    public var sequence: String?
    public var outputDir: String
    public var epochs = 15
    public var batchSize = 8
    public var learningRate = 1e-4
    public var milestones = [10]
    public var gamma = 0.5
    /// slices, rows, columns
    public var input = [64, 256, 256]
    public var seed: UInt64 = 518
    public var threads = Parallel.cores
    public var resume = false
    public var augment = Augmentation()
    public var architecture = "resnet10"
    public var stemStride = [1, 2, 2]
    /// auto (CUDA when the engine has it), cpu or cuda.
    public var device = "auto"
    public var cache = TensorCache.Mode.memory

    public init(trainManifest: String, validationManifest: String, outputDir: String) {
        self.trainManifest = trainManifest
        self.validationManifest = validationManifest
        self.outputDir = outputDir
    }

    /// MultiStepLR: the rate of epoch e (0-based).
    public func learningRate(epoch e: Int) -> Double {
        learningRate * pow(gamma, Double(milestones.filter { $0 <= e }.count))
    }

    /// What must not change between a run and its --resume.
    var fingerprint: String {
        let t = "\(trainManifest)|\(validationManifest)|\(sequence ?? "")|\(batchSize)|\(learningRate)|\(milestones)|\(gamma)|\(input)|\(seed)|\(augment.names)|\(architecture)|\(stemStride)"
        return SHA256.hex(Array(t.utf8))
    }
}

/// What training reports to the CLI.
public enum TrainEvent: Sendable {
    case started(trainCases: Int, validationCases: Int, parameters: Int, device: String, threads: Int)
    case step(epoch: Int, done: Int, total: Int, loss: Double, samplesPerSecond: Double)
    case epoch(EpochMetrics, best: Bool)
    case resumed(fromEpoch: Int)
}

/// Trains the classifier: Adam, BCE with logits, MultiStepLR; validation AUROC and loss every epoch; the
/// best-AUROC weights (model.pt) and the last ones (last.pt) kept; metrics.jsonl, curves.svg and
/// metadata.json in the bundle; `--resume` continues exactly from the last finished epoch.
public struct Trainer: Sendable {
    public let options: TrainOptions
    public let onEvent: @Sendable (TrainEvent) -> Void

    public init(options: TrainOptions, onEvent: @escaping @Sendable (TrainEvent) -> Void = { _ in }) {
        self.options = options
        self.onEvent = onEvent
    }

    struct State: Codable {
        var fingerprint: String
        var epochsDone: Int
        var bestAUROC: Double?
        var bestLoss: Double?
        var bestEpoch: Int
        var history: [EpochMetrics]
    }

    public func run() throws(DicomPrepError) -> ModelMetadata {
        let o = options
        guard o.epochs >= 1, o.batchSize >= 1, o.learningRate > 0, o.input.count == 3, o.input.allSatisfy({ $0 > 0 }) else {
            throw .usage("--epochs, --batch-size, --lr and --input must be positive")
        }
        let (train, trainList) = try DatalistReader.samples(o.trainManifest, key: "training", sequence: o.sequence)
        let sequence = o.sequence ?? trainList.sequence
        let (val, _) = try DatalistReader.samples(o.validationManifest, key: "validation", sequence: sequence)
        guard !train.isEmpty else { throw .usage("\(o.trainManifest) has no training cases") }
        guard !val.isEmpty else { throw .usage("\(o.validationManifest) has no validation cases") }
        for s in train + val where s.label == nil { throw .io(path: s.path, reason: "case \(s.caseID) has no label") }
        let overlap = Set(train.map(\.caseID)).intersection(val.map(\.caseID))
        guard overlap.isEmpty else { throw .usage("cases in both training and validation: \(overlap.sorted().joined(separator: ", "))") }

        let engine = try TorchEngine.load()
        engine.setThreads(o.threads)
        let device = o.device == "auto" ? (engine.cudaAvailable ? "cuda" : "cpu") : o.device
        engine.manualSeed(o.seed)
        let model = try engine.makeModel(architecture: o.architecture, stemStride: o.stemStride, device: device)
        try model.configureAdam(learningRate: o.learningRate)

        let out = o.outputDir
        let checkpoint = try TrainingCheckpoint.open(out)
        var state = State(fingerprint: o.fingerprint, epochsDone: 0, bestAUROC: nil, bestLoss: nil, bestEpoch: 0, history: [])
        if o.resume, let s = try checkpoint.resume(State.self, fingerprint: o.fingerprint, of: \.fingerprint, model: model) {
            state = s
            onEvent(.resumed(fromEpoch: s.epochsDone))
        }
        onEvent(.started(trainCases: train.count, validationCases: val.count, parameters: model.parameterCount, device: device, threads: engine.threads))

        let shape = o.input
        let cache = TensorCache(mode: o.cache, shape: shape, directory: o.cache == .disk ? out + "/cache" : nil)
        let per = shape.reduce(1, *)
        let checksum = try dataChecksum(train + val)

        for epoch in state.epochsDone..<o.epochs {
            let started = Date()
            let lr = o.learningRate(epoch: epoch)
            try model.setLearningRate(lr)
            // The order and the augmentation depend only on (seed, epoch): a resumed epoch is the same epoch.
            var order = SeededRandom(seed: o.seed &+ UInt64(epoch) &* 7919)
            let indices = Array(train.indices).shuffled(using: &order)
            let batches = stride(from: 0, to: indices.count, by: o.batchSize).map { Array(indices[$0..<min($0 + o.batchSize, indices.count)]) }
            let augment = o.augment, seed = o.seed
            let prefetch = Prefetcher<([Float], [Float], Int)>(count: batches.count) { k in
                catching { () throws(DicomPrepError) in
                    var x = [Float](); x.reserveCapacity(batches[k].count * per)
                    var y = [Float]()
                    for i in batches[k] {
                        var t = try cache.tensor(train[i].path)
                        var rng = SeededRandom(seed: seed ^ (UInt64(epoch) << 32) ^ UInt64(i) &* 0x9E3779B97F4A7C15)
                        augment.apply(&t, shape: shape, rng: &rng)
                        x += t
                        y.append(Float(train[i].label!))
                    }
                    return (x, y, batches[k].count)
                }
            }
            var lossSum = 0.0, seen = 0
            for k in 0..<batches.count {
                let (x, y, n) = try prefetch.batch(k)
                let r = try model.trainStep(x, targets: y, batch: n, shape: [1] + shape)
                guard r.loss.isFinite else { throw .io(path: out, reason: "training diverged (loss \(r.loss)) in epoch \(epoch + 1)") }
                lossSum += Double(r.loss) * Double(n)
                seen += n
                onEvent(.step(epoch: epoch + 1, done: seen, total: train.count, loss: lossSum / Double(seen),
                              samplesPerSecond: Double(seen) / max(Date().timeIntervalSince(started), 1e-9)))
            }
            let trainSeconds = Date().timeIntervalSince(started)
            // Validation.
            var logits: [Double] = []
            for b in stride(from: 0, to: val.count, by: o.batchSize) {
                let part = val[b..<min(b + o.batchSize, val.count)]
                var x = [Float](); x.reserveCapacity(part.count * per)
                for s in part { x += try cache.tensor(s.path) }
                logits += try model.predict(x, batch: part.count, shape: [1] + shape).map(Double.init)
            }
            let labels = val.map { $0.label! }
            let probs = logits.map(Metrics.sigmoid)
            let summary = Metrics.summary(probabilities: probs, labels: labels)
            let m = EpochMetrics(epoch: epoch + 1, learningRate: lr, trainLoss: lossSum / Double(max(seen, 1)),
                                 validationLoss: Metrics.bceWithLogits(logits: logits, labels: labels), validationAUROC: summary.auroc,
                                 validationAccuracy: summary.accuracy, samplesPerSecond: Double(seen) / max(trainSeconds, 1e-9),
                                 seconds: Date().timeIntervalSince(started))
            state.history.append(m)
            let better = state.bestEpoch == 0 || (m.validationAUROC ?? -1) > (state.bestAUROC ?? -1)
                || ((m.validationAUROC ?? -1) == (state.bestAUROC ?? -1) && m.validationLoss < (state.bestLoss ?? .infinity))
            if better {
                state.bestAUROC = m.validationAUROC
                state.bestLoss = m.validationLoss
                state.bestEpoch = epoch + 1
                try model.saveWeights(to: out + "/model.pt")
            }
            state.epochsDone = epoch + 1
            try checkpoint.save(state, history: state.history, model: model)
            try CurvesPlot.write(state.history, to: out + "/curves.svg")
            let meta = metadata(state: state, train: train, val: val, list: trainList, sequence: sequence, parameters: model.parameterCount,
                                device: device, threads: engine.threads, checksum: checksum, torch: engine.torchVersion)
            try JSONOutput.write(meta, to: out + "/metadata.json")
            onEvent(.epoch(m, best: better))
        }
        return metadata(state: state, train: train, val: val, list: trainList, sequence: sequence, parameters: model.parameterCount,
                        device: device, threads: engine.threads, checksum: checksum, torch: engine.torchVersion)
    }

    func dataChecksum(_ samples: [Sample]) throws(DicomPrepError) -> String {
        var lines: [String] = []
        for s in samples {
            guard let data = FileManager.default.contents(atPath: s.path) else { throw .io(path: s.path, reason: "model input cannot be read") }
            lines.append("\(s.caseID)|\(s.label ?? -1)|\(SHA256.hex([UInt8](data)))")
        }
        return SHA256.hex(Array(lines.sorted().joined(separator: "\n").utf8))
    }

    func metadata(state: State, train: [Sample], val: [Sample], list: Datalist, sequence: String, parameters: Int, device: String,
                  threads: Int, checksum: String, torch: String) -> ModelMetadata {
        let o = options
        let monai: String? = ["resnet10", "resnet18"].contains(o.architecture)
            ? "monai.networks.nets.\(o.architecture)(spatial_dims=3, n_input_channels=1, num_classes=1, conv1_t_stride=(\(o.stemStride.map(String.init).joined(separator: ", "))))" : nil
        return ModelMetadata(
            name: "dicomprep-\(list.settings?.layout ?? "dataset")-\(sequence)-\(o.architecture)", created: isoNow(),
            architecture: .init(name: o.architecture, monai: monai, spatialDims: 3, inChannels: 1, numClasses: 1, stemStride: o.stemStride, parameters: parameters),
            input: .init(shape: [1] + o.input, sequence: sequence, axes: "channel, slices, rows, columns"),
            preprocessing: list.settings,
            labels: ["0": "negative (MGMT promoter unmethylated)", "1": "positive (MGMT promoter methylated)"],
            output: "one logit; sigmoid(logit) is the probability of label 1",
            training: .init(epochs: o.epochs, batchSize: o.batchSize, learningRate: o.learningRate, milestones: o.milestones, gamma: o.gamma,
                            seed: o.seed, augment: o.augment.names, optimizer: "Adam", loss: "BCEWithLogits", trainCases: train.count,
                            validationCases: val.count, trainManifest: o.trainManifest, validationManifest: o.validationManifest,
                            dataChecksum: checksum, bestEpoch: state.bestEpoch, device: device, threads: threads),
            metrics: .init(bestValidationAUROC: state.bestAUROC, bestValidationLoss: state.bestLoss, finalTrainLoss: state.history.last?.trainLoss),
            versions: ["dicomprep": DicomPrepVersion.string, "libtorch": torch])
    }
}

extension JSONOutput {
    /// One compact JSON line (for .jsonl files).
    public static func encodeLine<T: Encodable>(_ value: T) throws(DicomPrepError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return String(decoding: try e.encode(value), as: UTF8.self) } catch { throw .io(path: "", reason: "cannot encode JSON: \(error)") }
    }
}

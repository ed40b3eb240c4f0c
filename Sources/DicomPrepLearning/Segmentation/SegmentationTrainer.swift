import DicomPrepCore
import DicomPrepDataset
import Foundation

/// Options of `dicomprep train --task segment`.
public struct SegmentationTrainOptions: Sendable {
    /// A Decathlon dataset.json, or separate training / validation lists in that layout.
    public var datalist: String?
    public var trainList: String?
    public var validationList: String?
    public var outputDir: String
    public var epochs = 40
    /// Patches drawn from each training case per epoch (MONAI's num_samples).
    public var samplesPerCase = 4
    /// One patch per step (nnU-Net's 3D batch is 2): on 2 CPU cores a step of one patch takes about 70% of
    /// a step of two, so a time budget gives 1.4 times the updates, which scored higher (README).
    public var batchSize = 1
    /// x, y, z voxels; multiples of the network's stride product.
    public var patch = [96, 96, 96]
    public var learningRate = 1e-3
    public var weightDecay = 1e-5
    /// What the loss compares with: "fractions" (each class's share of every voxel: partial volume, from
    /// the case's tissue map when it has one, else the label map's one-hot maps interpolated onto the
    /// model grid and into every patch) or "indices" (the largest of those shares, one class per voxel).
    public var targets = "indices"
    /// Compute precision of the training steps: "float32", "bfloat16" (mixed precision: the forward pass's
    /// convolutions in bfloat16 on oneDNN, weights, gradients, Adam and the loss in float32) or "auto"
    /// (bfloat16 on a CPU with native bfloat16 arithmetic, AVX512-BF16 or AMX, else float32). Validation and
    /// prediction run in float32 either way. The default is auto: on the bench's CPU (AVX512-BF16) a 96³ step
    /// takes 0.33 s against 0.43 in float32, and within the same budget the model scored higher (README).
    public var precision = "auto"
    /// Decay of an exponential moving average of the weights, updated after every step (0: off). With it,
    /// validation, best.pt and model.pt use the average; last.pt and the checkpoint keep the live weights.
    public var weightAveraging = 0.0
    /// "poly" (lr × (1 - epoch/epochs)^0.9, nnU-Net's) or "constant".
    public var schedule = "poly"
    public var seed: UInt64 = 518
    public var threads = Parallel.cores
    public var resume = false
    public var device = "auto"
    public var network = UNetConfig()
    public var preprocessing = SegmentationPreprocessing()
    public var augmentation = SegmentationAugmentation()
    public var postprocessing = SegmentationPostprocessing(largestComponent: true, fillHoles: true)
    /// Share of the training cases kept for validation when the datalist has no "validation".
    public var validationFraction = 0.2
    public var validateEvery = 1
    /// Which weights become model.pt: "last" (the weights after the last epoch, as nnU-Net's final
    /// checkpoint; right when the schedule anneals the rate) or "best" (the best validation Dice). The
    /// best-validation weights are also kept as best.pt either way.
    public var keep = "last"
    public var overlap = 0.25
    /// Stop after the epoch that would overrun this many minutes of training (counted across resumes).
    public var maxMinutes: Double?
    /// Stop after this epoch (as an interrupted run would; not part of the run's identity, so --resume continues).
    public var stopAfterEpoch: Int?

    public init(outputDir: String) { self.outputDir = outputDir }

    var fingerprint: String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        let parts = [(try? e.encode(network)) ?? Data(), (try? e.encode(preprocessing)) ?? Data(), (try? e.encode(augmentation)) ?? Data()]
        let t = "\(datalist ?? "")|\(trainList ?? "")|\(validationList ?? "")|\(epochs)|\(samplesPerCase)|\(batchSize)|\(patch)|\(learningRate)|\(weightDecay)|\(schedule)|\(seed)|\(validationFraction)|\(targets)|\(precision)|" + (weightAveraging > 0 ? "ema \(weightAveraging)|" : "")
            + parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "|")
        return SHA256.hex(Array(t.utf8))
    }

    /// The rate of epoch e (0-based): poly decay over the epochs, or — with a time budget — over the
    /// budget (`elapsed`: training seconds before the epoch), so the rate anneals within the time given.
    public func learningRate(epoch e: Int, elapsed: Double = 0) -> Double {
        guard schedule == "poly" else { return learningRate }
        var progress = Double(e) / Double(max(epochs, 1))
        if let m = maxMinutes, m > 0 { progress = max(progress, min(elapsed / (m * 60), 0.97)) }
        return learningRate * pow(1 - progress, 0.9)
    }
}

public enum SegmentationTrainEvent: Sendable {
    case prepared(trainCases: Int, validationCases: Int, seconds: Double)
    case started(parameters: Int, device: String, threads: Int)
    case step(epoch: Int, done: Int, total: Int, loss: Double, patchesPerSecond: Double)
    case epoch(SegmentationEpoch, best: Bool)
    case resumed(fromEpoch: Int)
    case stopped(reason: String)
    case warning(String)
}

/// Trains MONAI's UNet natively through the torch engine: the cases prepared once in memory (the bundle's
/// preprocessing), random patches with augmentation every epoch, Dice + cross-entropy with Adam, sliding-
/// window validation Dice per epoch with the best weights kept (model.pt) beside the last (last.pt);
/// metrics.jsonl, curves.svg, metadata.json; `--resume` continues from the last finished epoch.
public struct SegmentationTrainer: Sendable {
    public let options: SegmentationTrainOptions
    public let onEvent: @Sendable (SegmentationTrainEvent) -> Void

    public init(options: SegmentationTrainOptions, onEvent: @escaping @Sendable (SegmentationTrainEvent) -> Void = { _ in }) {
        self.options = options
        self.onEvent = onEvent
    }

    struct State: Codable {
        var fingerprint: String
        var epochsDone: Int
        var bestDice: Double?
        var bestEpoch: Int
        var seconds: Double
        var history: [SegmentationEpoch]
    }

    /// Training and validation cases and the label names.
    func cases() throws(DicomPrepError) -> (train: [SegmentationCase], val: [SegmentationCase], labels: [String: String], source: String) {
        let o = options
        var train: [SegmentationCase] = [], val: [SegmentationCase] = [], labels: [String: String] = [:], source = ""
        if let d = o.datalist {
            let list = try SegmentationDatalist.load(d)
            train = list.training
            val = list.validation
            labels = list.labels
            source = d
        } else if let t = o.trainList {
            let list = try SegmentationDatalist.load(t)
            train = list.training
            labels = list.labels
            source = t
            if let v = o.validationList {
                let vl = try SegmentationDatalist.load(v)
                val = vl.validation.isEmpty ? vl.training : vl.validation
            }
        } else {
            throw .usage("train --task segment needs --datalist dataset.json (or --train and --val lists)")
        }
        guard !train.isEmpty else { throw .usage("\(source) has no training cases") }
        for c in train + val where c.label == nil { throw .io(path: source, reason: "case \(c.id) (\(c.image)) has no label") }
        if val.isEmpty {
            // A deterministic split by seed.
            var rng = SeededRandom(seed: o.seed)
            let order = Array(train.indices).shuffled(using: &rng)
            let n = max(1, Int((Double(train.count) * o.validationFraction).rounded()))
            guard train.count > n else { throw .usage("\(source) has too few training cases to keep \(n) for validation") }
            let valSet = Set(order.prefix(n))
            val = valSet.sorted().map { train[$0] }
            train = train.indices.filter { !valSet.contains($0) }.map { train[$0] }
        }
        if labels.isEmpty { labels = ["0": "background", "1": "foreground"] }
        return (train, val, labels, source)
    }

    /// Loads and preprocesses cases in parallel.
    func prepare(_ cs: [SegmentationCase], classes: Int, crop: Bool) throws(DicomPrepError) -> [PreparedCase] {
        let pre = options.preprocessing
        let out = UnsafeSendableBox([PreparedCase?](repeating: nil, count: cs.count))
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        let decodeThreads = max(1, options.threads / 2)
        Parallel.forEach(count: cs.count, threads: min(options.threads, 4)) { i in
            do throws(DicomPrepError) {
                let c = cs[i]
                let img = try ImageLoader.load(c.image, threads: decodeThreads).volume
                let lab = try ImageLoader.load(c.label!, threads: decodeThreads).volume
                guard lab.dims.prefix(3) == img.dims.prefix(3) else {
                    throw .io(path: c.label!, reason: "label map is \(lab.dims.prefix(3).map(String.init).joined(separator: "x")) but its image is \(img.dims.prefix(3).map(String.init).joined(separator: "x"))")
                }
                let grid = pre.grid(for: img)
                let x = try pre.image(img, grid: grid)
                // Training cases with fraction targets keep each class's share of every voxel.
                let soft = crop && options.targets == "fractions"
                let fractions = try pre.labelFractions(lab, grid: grid, classes: classes, path: c.label!)
                let y = SegmentationPreprocessing.largestClass(fractions, classes: classes, count: grid.count)
                var p = PreparedCase(id: c.id, dims: grid.dims, spacing: grid.spacing, image: x.floatValues, label: y, foreground: [], background: [])
                let resynthesize = (options.augmentation.resynthesize ?? 0) > 0
                if crop, let t = c.tissues, resynthesize || soft {
                    let (maps, k) = try Self.tissueFractions(t, grid: grid, threads: decodeThreads)
                    p.setTissues(maps, count: k)
                    if soft { p.setClassFractionsFromTissues(classes: classes) }
                    if !resynthesize { p.tissues = []; p.tissueCount = 0 }
                } else if soft {
                    p.setClassFractions(fractions, classes: classes)
                }
                if crop && pre.cropForeground {
                    p.cropForeground(threshold: Float(pre.cropThreshold), margin: grid.spacing.map { Int((pre.cropMarginMM / $0).rounded(.up)) })
                }
                p.indexVoxels()
                if crop, (options.augmentation.layerStretch ?? 0) > 0 { p.computeOutsideDistance() }
                out.withLock { $0[i] = p }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
        }
        if let e = failure.take() { throw e }
        return out.take().map { $0! }
    }

    /// Most tissue labels a map may have (one fraction block per label in memory).
    static let largestTissueCount = 64

    /// A tissue map on `grid`, as one block of fractions per tissue: a 4D map's volumes are the fractions
    /// (resampled trilinearly); a 3D map's integer labels become one-hot blocks first, resampled the same
    /// way, so partial volume at the map's resolution carries over to the model grid.
    static func tissueFractions(_ path: String, grid: VoxelGrid, threads: Int) throws(DicomPrepError) -> (maps: [Float], count: Int) {
        var v = try ImageLoader.load(path, threads: threads).volume
        if v.dims[3] == 1 {
            let f = v.floatValues
            var k = 0
            for x in f {
                guard x >= 0, x == x.rounded(), x < Float(largestTissueCount) else {
                    throw .io(path: path, reason: "tissue label \(x) is not an integer in 0..<\(largestTissueCount) (give integer labels, or one volume of fractions per tissue)")
                }
                k = max(k, Int(x) + 1)
            }
            k = max(k, 2)
            var oneHot = [Float](repeating: 0, count: k * f.count)
            for (i, x) in f.enumerated() { oneHot[Int(x) * f.count + i] = 1 }
            v = Volume(dims: Array(v.dims.prefix(3)) + [k], voxels: .float32(oneHot), affine: v.affine)
        } else if v.dims[3] > largestTissueCount {
            throw .io(path: path, reason: "\(v.dims[3]) tissue volumes; at most \(largestTissueCount)")
        }
        var r = ResampleToGrid(grid, interpolation: .linear, fill: 0)
        r.threads = threads
        let out = try r.apply(v)
        return (out.floatValues, v.dims[3])
    }

    public func run() throws(DicomPrepError) -> SegmentationMetadata {
        let o = options
        let div = o.network.divisor
        guard o.epochs >= 1, o.batchSize >= 1, o.samplesPerCase >= 1, o.learningRate > 0 else {
            throw .usage("--epochs, --batch-size, --samples-per-case and --lr must be positive")
        }
        guard ["last", "best"].contains(o.keep) else { throw .usage("--keep is last or best") }
        guard o.weightAveraging >= 0, o.weightAveraging < 1 else { throw .usage("--ema is a decay in 0..<1 (0: off)") }
        guard ["fractions", "indices"].contains(o.targets) else { throw .usage("--targets is fractions or indices") }
        guard o.patch.count == 3, o.patch.allSatisfy({ $0 > 0 && $0 % div == 0 }) else {
            throw .usage("--patch needs three sizes that are multiples of \(div) (the product of the UNet strides)")
        }
        let (trainCases, valCases, labels, source) = try cases()
        var net = o.network
        net.outChannels = max(2, (labels.keys.compactMap(Int.init).max() ?? 1) + 1)
        let classes = net.outChannels
        let t0 = Date()
        let train = try prepare(trainCases, classes: classes, crop: true)
        let val = try prepare(valCases, classes: classes, crop: false)
        for c in train where c.foreground.isEmpty { onEvent(.warning("training case \(c.id) has no foreground voxel")) }
        onEvent(.prepared(trainCases: train.count, validationCases: val.count, seconds: Date().timeIntervalSince(t0)))
        let checksum = try dataChecksum(trainCases + valCases)

        let engine = try TorchEngine.load()
        engine.setThreads(o.threads)
        let device = o.device == "auto" ? (engine.cudaAvailable ? "cuda" : "cpu") : o.device
        engine.manualSeed(o.seed)
        let model = try engine.makeUNet(inChannels: 1, outChannels: classes, channels: net.channels, strides: net.strides,
                                        residualUnits: net.residualUnits, norm: net.norm, device: device)
        try model.configureAdam(learningRate: o.learningRate, weightDecay: o.weightDecay)
        let precision = try Self.resolvePrecision(o.precision, device: device)
        try model.setPrecision(precision)
        let averaged = o.weightAveraging > 0
        if averaged { try model.setWeightAveraging(decay: o.weightAveraging) }
        /// Runs `body` with the weights the run validates and keeps: the average when there is one.
        func withKeptWeights<T>(_ body: () throws(DicomPrepError) -> T) throws(DicomPrepError) -> T {
            averaged ? try model.withAveragedWeights(body) : try body()
        }

        let out = o.outputDir
        let checkpoint = try TrainingCheckpoint.open(out)
        var state = State(fingerprint: o.fingerprint, epochsDone: 0, bestDice: nil, bestEpoch: 0, seconds: 0, history: [])
        if o.resume, let s = try checkpoint.resume(State.self, fingerprint: o.fingerprint, of: \.fingerprint, model: model, averaged: averaged) {
            state = s
            onEvent(.resumed(fromEpoch: s.epochsDone))
        }
        onEvent(.started(parameters: model.parameterCount, device: device, threads: engine.threads))
        let patch = o.patch, per = patch.reduce(1, *)
        var stoppedBy = "epochs"
        let window = SlidingWindow(window: patch, overlap: o.overlap, batch: 1)
        for epoch in state.epochsDone..<o.epochs {
            if let stop = o.stopAfterEpoch, epoch >= stop {
                stoppedBy = "stopped after epoch \(stop)"
                break
            }
            if let budget = o.maxMinutes, let last = state.history.last, state.seconds + last.seconds > budget * 60 {
                stoppedBy = "time budget (\(budget) min)"
                onEvent(.stopped(reason: stoppedBy))
                break
            }
            let started = Date()
            let lr = o.learningRate(epoch: epoch, elapsed: state.seconds)
            try model.setLearningRate(lr)
            var order = SeededRandom(seed: o.seed &+ UInt64(epoch) &* 7919)
            let draws = Array((0..<(train.count * o.samplesPerCase))).shuffled(using: &order)
            let batches = stride(from: 0, to: draws.count, by: o.batchSize).map { Array(draws[$0..<min($0 + o.batchSize, draws.count)]) }
            let aug = o.augmentation, seed = o.seed, samples = o.samplesPerCase, scaling = o.preprocessing.intensity
            let soft = o.targets == "fractions"
            let prefetch = Prefetcher<([Float], [UInt8], [Float], Int)>(count: batches.count) { k in
                var x = [Float](), y = [UInt8](), f = [Float]()
                x.reserveCapacity(batches[k].count * per)
                if soft { f.reserveCapacity(batches[k].count * per * classes) } else { y.reserveCapacity(batches[k].count * per) }
                for d in batches[k] {
                    var rng = SeededRandom(seed: seed ^ (UInt64(epoch) << 32) ^ UInt64(d) &* 0x9E3779B97F4A7C15)
                    let p = aug.patch(train[d / samples], size: patch, intensity: scaling, fractions: soft, rng: &rng)
                    x += p.image
                    if soft { f += p.fractions } else { y += p.label }
                }
                return .success((x, y, f, batches[k].count))
            }
            var lossSum = 0.0, diceSum = 0.0, seen = 0
            for k in 0..<batches.count {
                let (x, y, f, n) = try prefetch.batch(k)
                let r = soft ? try model.trainStepSegment(x, fractions: f, batch: n, shape: [1] + patch)
                    : try model.trainStepSegment(x, labels: y, batch: n, shape: [1] + patch)
                guard r.loss.isFinite else { throw .io(path: out, reason: "training diverged (loss \(r.loss)) in epoch \(epoch + 1)") }
                lossSum += Double(r.loss) * Double(n)
                diceSum += Double(r.dice.dropFirst().reduce(0, +)) / Double(max(1, classes - 1)) * Double(n)
                seen += n
                onEvent(.step(epoch: epoch + 1, done: seen, total: draws.count, loss: lossSum / Double(seen),
                              patchesPerSecond: Double(seen) / max(Date().timeIntervalSince(started), 1e-9)))
            }
            let trainSeconds = Date().timeIntervalSince(started)
            // Validation and the kept weights.
            var better = false
            let valDice = try withKeptWeights { () throws(DicomPrepError) -> Double? in
                var d: Double?
                if !val.isEmpty, (epoch + 1) % max(1, o.validateEvery) == 0 || epoch + 1 == o.epochs {
                    d = try Self.validationDice(model, val, window: window, classes: classes)
                }
                if let v = d, v > (state.bestDice ?? -1) {
                    better = true
                    state.bestDice = v
                    state.bestEpoch = epoch + 1
                    try model.saveWeights(to: out + "/best.pt")
                    if o.keep == "best" { try model.saveWeights(to: out + "/model.pt") }
                }
                if o.keep == "last" { try model.saveWeights(to: out + "/model.pt") }
                return d
            }
            let m = SegmentationEpoch(epoch: epoch + 1, learningRate: lr, trainLoss: lossSum / Double(max(seen, 1)),
                                      trainDice: diceSum / Double(max(seen, 1)), validationDice: valDice,
                                      patchesPerSecond: Double(seen) / max(trainSeconds, 1e-9), seconds: Date().timeIntervalSince(started))
            state.history.append(m)
            state.epochsDone = epoch + 1
            state.seconds += m.seconds
            try checkpoint.save(state, history: state.history, model: model, averaged: averaged)
            try AtomicFile.write(text: CurvesPlot.segmentationSVG(state.history), to: out + "/curves.svg")
            let meta = metadata(state: state, net: net, labels: labels, train: train.count, val: val.count, source: source, parameters: model.parameterCount, precision: precision,
                                device: device, threads: engine.threads, checksum: checksum, torch: engine.torchVersion, stoppedBy: "running")
            try JSONOutput.write(meta, to: out + "/metadata.json")
            onEvent(.epoch(m, best: better))
        }
        // The chosen weights, also when a resumed run keeps other weights than its first part did.
        if o.keep == "best", let best = FileManager.default.contents(atPath: out + "/best.pt") {
            try AtomicFile.write([UInt8](best), to: out + "/model.pt")
        } else if o.keep == "last" || !FileManager.default.fileExists(atPath: out + "/model.pt") {
            try withKeptWeights { () throws(DicomPrepError) in try model.saveWeights(to: out + "/model.pt") }
        }
        let meta = metadata(state: state, net: net, labels: labels, train: train.count, val: val.count, source: source, parameters: model.parameterCount, precision: precision,
                            device: device, threads: engine.threads, checksum: checksum, torch: engine.torchVersion, stoppedBy: stoppedBy)
        try JSONOutput.write(meta, to: out + "/metadata.json")
        return meta
    }

    /// Mean foreground Dice of sliding-window predictions on the model grid (no post-processing).
    static func validationDice(_ model: TorchModel, _ val: [PreparedCase], window: SlidingWindow, classes: Int) throws(DicomPrepError) -> Double {
        var sum = 0.0
        for c in val {
            let probs = try window.run(c.image, dims: c.dims, classes: classes) { (x: [Float], n: Int) throws(DicomPrepError) -> [Float] in
                try model.predictSegment(x, batch: n, shape: [1] + window.window)
            }
            let pred = SegmentationInference.argmax(probs, classes: classes, count: c.image.count)
            var d = 0.0
            for cl in 1..<classes { d += SegmentationMetrics.dice(pred.map { $0 == UInt8(cl) }, c.label.map { $0 == UInt8(cl) }) }
            sum += d / Double(classes - 1)
        }
        return sum / Double(val.count)
    }

    func dataChecksum(_ cs: [SegmentationCase]) throws(DicomPrepError) -> String {
        func digest(_ path: String) -> String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue, let d = FileManager.default.contents(atPath: path) {
                return SHA256.hex([UInt8](d))
            }
            return "folder:" + path
        }
        let lines = cs.map { "\($0.id)|\(digest($0.image))|\($0.label.map(digest) ?? "")" + ($0.tissues.map { "|" + digest($0) } ?? "") }
        return SHA256.hex(Array(lines.sorted().joined(separator: "\n").utf8))
    }

    func metadata(state: State, net: UNetConfig, labels: [String: String], train: Int, val: Int, source: String, parameters: Int, precision: String,
                  device: String, threads: Int, checksum: String, torch: String, stoppedBy: String) -> SegmentationMetadata {
        let o = options
        return SegmentationMetadata(
            name: "dicomprep-unet-" + (labels.sorted { $0.key < $1.key }.last?.value ?? "segment"), created: isoNow(), network: net, monai: net.monai,
            parameters: parameters, labels: labels, preprocessing: o.preprocessing, patch: o.patch, overlap: o.overlap, postprocessing: o.postprocessing,
            training: .init(epochs: o.epochs, epochsDone: state.epochsDone, samplesPerCase: o.samplesPerCase, batchSize: o.batchSize,
                            learningRate: o.learningRate, schedule: o.schedule, seed: o.seed, augmentation: o.augmentation, optimizer: "Adam (weight decay \(o.weightDecay))",
                            loss: o.targets == "fractions" ? "DiceCE (softmax, class fractions, background included)" : "DiceCE (softmax, one-hot, background included)",
                            targets: o.targets, precision: precision, weightAveraging: o.weightAveraging > 0 ? o.weightAveraging : nil, trainCases: train, validationCases: val, datalist: source,
                            dataChecksum: checksum, bestEpoch: state.bestEpoch, weights: o.keep, device: device, threads: threads, seconds: state.seconds, stoppedBy: stoppedBy),
            metrics: .init(bestValidationDice: state.bestDice, finalTrainLoss: state.history.last?.trainLoss, finalTrainDice: state.history.last?.trainDice),
            versions: ["dicomprep": DicomPrepVersion.string, "libtorch": torch])
    }
}

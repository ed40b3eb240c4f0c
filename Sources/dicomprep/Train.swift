import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the 3D ResNet classifier or (--task segment) the 3D U-Net segmenter natively (libtorch); writes a model bundle.",
        discussion: """
        Classifier: datalists from `manifest split`. Segmenter: --datalist dataset.json in the Medical Segmentation \
        Decathlon layout ("training": [{"image", "label"}], "labels", optional "validation"; images and labels NIfTI files \
        or DICOM folders), or --train/--val lists in that layout; without "validation" a seeded --val-fraction is held out. \
        The segmenter is MONAI's UNet (same parameter names; model.pt loads with strict=True), trained on random patches \
        (--patch, positive/negative centres, rotation/scale/flip/gamma/bias/noise/resolution augmentation) of images \
        scaled (--intensity) and resampled to RAS at --spacing, with Dice + cross-entropy against each class's share of every \
        voxel (--targets fractions: partial volume from the datalist's "tissues" maps, else the label map interpolated) and Adam \
        (--precision auto: bfloat16 mixed precision on CPUs with native bfloat16); validation Dice by \
        sliding window every --validate-every epochs; model.pt holds the last weights (--keep best: the best validation \
        Dice's; best.pt either way); --max-minutes bounds the training time.
        RUNDIR gets model.pt (best validation AUROC; a state dict that loads in PyTorch/MONAI), last.pt, metadata.json, \
        metrics.jsonl, curves.svg and checkpoint/ for --resume. With --folds DIR (the output of `manifest split --folds K`) \
        every fold is trained into RUNDIR/fold-K and RUNDIR/folds.json summarises them.
        """
    )

    @Option(help: "classify (the ResNet classifier) or segment (the U-Net).")
    var task = "classify"

    @Option(help: "Segmentation: a Decathlon-layout dataset.json.")
    var datalist: String?

    @Option(help: "Training datalist (train.json).")
    var train: String?

    @Option(help: "Validation datalist (val.json).")
    var val: String?

    @Option(help: "Folder with fold-K/train.json and fold-K/val.json: train every fold.")
    var folds: String?

    @Option(help: "Sequence whose model input is used (default: the datalist's).")
    var sequence: String?

    @Option(name: .shortAndLong, help: "Run folder (the model bundle).")
    var output: String

    @Option(help: "Epochs (default \(Self.classifyDefaults.epochs); segment: \(Self.segmentDefaults.epochs)).") var epochs: Int?
    @Option(help: "Batch size (default \(Self.classifyDefaults.batchSize); segment: \(Self.segmentDefaults.batchSize) patch).") var batchSize: Int?
    @Option(help: "Adam learning rate (default \(Self.classifyDefaults.learningRate); segment: \(Self.segmentDefaults.learningRate) with poly decay).") var lr: Double?
    @Option(parsing: .upToNextOption, help: "MultiStepLR milestones (epochs).") var milestones: [Int] = [10]
    @Option(help: "MultiStepLR factor.") var gamma = 0.5
    @Option(help: "Input SLICESxROWSxCOLUMNS; inputs of another size are resized in-plane and centre-cropped/padded along slices.")
    var input = SizeArgument(argument: "64x256x256")!
    @Option(help: "Random seed (initialisation, order, augmentation).") var seed: UInt64 = 518
    @Option(help: "libtorch intra-op threads (default: all cores).") var threads: Int?
    @Flag(help: "Continue exactly from the last finished epoch of RUNDIR.") var resume = false
    @Option(help: "Augmentations: flip, rotate (comma-separated) or none.") var augment = AugmentationArgument(argument: "none")!
    @Option(help: "Architecture: resnet10 (MONAI's, the RSNA winner's), resnet18, resnet-small (a fast CPU variant).") var arch: ArchitectureArgument = .resnet10
    @Option(help: "Stem convolution stride over slices,rows,columns (MONAI 0.6: 1,2,2).") var stemStride = TripleArgument(argument: "1,2,2")!
    @Option(help: "Compute device (auto: CUDA when available).") var device: DeviceArgument = .auto
    @Option(help: "Decoded-tensor cache: memory, disk (RUNDIR/cache) or none.") var cache: TensorCache.Mode = .memory

    @Option(help: "Segment: patch XxYxZ voxels (multiples of 16), also the sliding-window size.") var patch = SizeArgument(argument: "96x96x96")!
    @Option(help: "Segment: voxel spacing of the model grid, mm (one value or R,A,S).") var spacing = "2"
    @Option(help: "Segment: intensity scaling, percentiles:LO,HI (default percentiles:0.5,99.5) or range:A,B (e.g. CT range:-57,164), mapped to 0..1 and clipped.")
    var intensity = "percentiles:0.5,99.5"
    @Flag(inversion: .prefixedNo, help: "Segment: crop training images to the foreground (image above 2% or labelled) plus 10 mm.") var cropForeground = true
    @Option(help: "Segment: patches per training case per epoch.") var samplesPerCase = Self.segmentDefaults.samplesPerCase
    @Option(help: "Segment: positive:negative patch centres.") var posNeg = "1:1"
    @Option(help: "Segment: maximum random rotation about each axis, degrees (0: none).") var rotate = Self.segmentDefaults.augmentation.rotateDegrees
    @Flag(help: "Segment: no augmentation at all (centre sampling only).") var noAugment = false
    @Option(help: "Segment: probability per patch of a fresh appearance synthesised from the case's \"tissues\" map (each tissue its own intensity); 0, the default, always uses the stored image, as do cases without a tissue map.")
    var resynthesize = 0.0
    @Option(help: "Segment: maximum displacement (mm) of a smooth random non-linear warp per patch (control points every 48 mm; 0: none).")
    var warp = Self.segmentDefaults.augmentation.warp ?? 0
    @Option(help: "Segment: largest share (0..<1) by which the layers within 15 mm outside the foreground (for a brain: CSF, skull, scalp) are stretched or squeezed along the distance to it, smoothly varied over each patch (0: off).")
    var layerStretch = Self.segmentDefaults.augmentation.layerStretch ?? 0
    @Option(help: "Segment: UNet channels per level.") var channels = "16,32,64,128,256"
    @Option(help: "Segment: UNet strides between levels.") var strides = "2,2,2,2"
    @Option(help: "Segment: residual units per level.") var resUnits = Self.segmentDefaults.network.residualUnits
    @Option(help: "Segment: normalisation, instance (MONAI's default) or batch.") var norm = Self.segmentDefaults.network.norm
    @Option(help: "Segment: post-processing recorded for predict: largest, fill, both (largest,fill) or none.") var post = "largest,fill"
    @Option(help: "Segment: held-out share of training cases when the datalist has no validation.") var valFraction = Self.segmentDefaults.validationFraction
    @Option(help: "Segment: validate every N epochs.") var validateEvery = Self.segmentDefaults.validateEvery
    @Option(help: "Segment: the weights model.pt holds: last (after the last epoch; the poly schedule anneals to it) or best (best validation Dice). best.pt keeps the best either way.")
    var keep = Self.segmentDefaults.keep
    @Option(help: "Segment: stop after the epoch that would exceed this many minutes of training.") var maxMinutes: Double?
    @Option(help: "Segment: what the loss compares with: fractions (each class's share of every voxel: partial volume from the datalist's tissue maps, else from the label map interpolated onto the model grid) or indices (one class per voxel).")
    var targets = Self.segmentDefaults.targets
    @Option(help: "Segment: compute precision of the training steps: float32, bfloat16 (mixed precision: the forward pass's convolutions in bfloat16, weights, gradients, Adam and the loss float32) or auto (bfloat16 on a CPU with native bfloat16, AVX512-BF16 or AMX, else float32). Validation and predict run in float32.")
    var precision = Self.segmentDefaults.precision
    @Option(help: "Segment: decay of an exponential moving average of the weights, updated after every step (0: off). Validation, best.pt and model.pt then use the average; last.pt and the checkpoint the live weights.")
    var ema = Self.segmentDefaults.weightAveraging

    /// The library's defaults, the one place they are set; the options and help texts take theirs from them.
    static let classifyDefaults = TrainOptions(trainManifest: "", validationManifest: "", outputDir: "")
    static let segmentDefaults = SegmentationTrainOptions(outputDir: "")

    func validate() throws {
        guard ["classify", "segment"].contains(task) else { throw ValidationError("--task is classify or segment") }
        if task == "segment" {
            if datalist == nil && train == nil { throw ValidationError("give --datalist dataset.json (or --train and --val lists)") }
            return
        }
        if datalist != nil { throw ValidationError("--datalist is for --task segment") }
        if folds == nil && (train == nil || val == nil) { throw ValidationError("give --train and --val, or --folds DIR") }
        if folds != nil && (train != nil || val != nil) { throw ValidationError("--folds replaces --train/--val") }
    }

    func options(train: String, val: String, output: String) throws -> TrainOptions {
        var o = TrainOptions(trainManifest: train, validationManifest: val, outputDir: output)
        o.sequence = sequence
        if let epochs { o.epochs = epochs }
        if let batchSize { o.batchSize = batchSize }
        if let lr { o.learningRate = lr }
        o.milestones = milestones
        o.gamma = gamma
        o.input = input.values
        o.seed = seed
        if let threads { o.threads = threads }
        o.resume = resume
        o.augment = augment.value
        o.architecture = arch.rawValue
        o.stemStride = stemStride.values
        o.device = device.rawValue
        o.cache = cache
        return o
    }

    /// Renders the trainer's events: a progress bar per epoch, a line per finished epoch.
    static func render(_ e: TrainEvent, label: String, bar: UnsafeBox<(ProgressBar, Int)?>) {
        switch e {
        case let .started(t, v, p, d, th):
            Terminal.out("\(label)training \(t) cases, validating \(v); \(p) parameters on \(d) with \(th) threads")
        case let .resumed(n): Terminal.out("\(label)resuming after epoch \(n)")
        case let .step(ep, done, total, loss, sps):
            if bar.value == nil || bar.value!.1 != ep { bar.value = (ProgressBar(total: total, label: "\(label)epoch \(ep)"), ep) }
            bar.value!.0.update(done: done, note: String(format: "loss %.4f %.2f samples/s", loss, sps))
        case let .epoch(m, best):
            Terminal.out("\(label)epoch \(m.epoch): lr \(m.learningRate) train loss \(String(format: "%.4f", m.trainLoss)) val loss \(String(format: "%.4f", m.validationLoss)) val AUROC \(m.validationAUROC.map { String(format: "%.3f", $0) } ?? "n/a") accuracy \(String(format: "%.3f", m.validationAccuracy)) \(String(format: "%.1f", m.seconds)) s\(best ? " (best)" : "")")
        }
    }

    static func numbers(_ s: String, _ name: String) throws -> [Double] {
        let v = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else { throw ValidationError("\(name) needs comma-separated numbers, got '\(s)'") }
        return v.map { $0! }
    }

    func segmentOptions() throws -> SegmentationTrainOptions {
        var o = SegmentationTrainOptions(outputDir: output)
        o.datalist = datalist
        o.trainList = train
        o.validationList = val
        if let epochs { o.epochs = epochs }
        if let batchSize { o.batchSize = batchSize }
        if let lr { o.learningRate = lr }
        o.patch = patch.values
        o.seed = seed
        if let threads { o.threads = threads }
        o.resume = resume
        o.device = device.rawValue
        let sp = try Self.numbers(spacing, "--spacing")
        guard sp.count == 1 || sp.count == 3, sp.allSatisfy({ $0 > 0 }) else { throw ValidationError("--spacing needs one or three positive values") }
        o.preprocessing.spacing = sp.count == 1 ? [sp[0], sp[0], sp[0]] : sp
        let parts = intensity.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["percentiles", "range"].contains(parts[0]) else { throw ValidationError("--intensity is percentiles:LO,HI or range:A,B") }
        let b = try Self.numbers(parts[1], "--intensity")
        guard b.count == 2, b[0] < b[1] else { throw ValidationError("--intensity needs two increasing values") }
        o.preprocessing.intensity = ScaleIntensity(parts[0] == "range" ? .fixed : .percentiles, b[0], b[1])
        o.preprocessing.cropForeground = cropForeground
        o.samplesPerCase = samplesPerCase
        let pn = posNeg.split(separator: ":").compactMap { Double($0) }
        guard pn.count == 2, pn[0] >= 0, pn[1] >= 0, pn[0] + pn[1] > 0 else { throw ValidationError("--pos-neg is P:N, e.g. 1:1") }
        o.augmentation = noAugment ? .none : SegmentationAugmentation()
        o.augmentation.positive = pn[0]
        o.augmentation.negative = pn[1]
        if !noAugment {
            o.augmentation.rotateDegrees = rotate
            guard (0...1).contains(resynthesize) else { throw ValidationError("--resynthesize is a probability (0...1)") }
            o.augmentation.resynthesize = resynthesize
            guard warp >= 0 else { throw ValidationError("--warp is a displacement in mm (0 or more)") }
            o.augmentation.warp = warp
            guard layerStretch >= 0, layerStretch < 1 else { throw ValidationError("--layer-stretch is a share in 0..<1") }
            o.augmentation.layerStretch = layerStretch
        }
        o.network.channels = try Self.numbers(channels, "--channels").map { Int($0) }
        o.network.strides = try Self.numbers(strides, "--strides").map { Int($0) }
        guard o.network.strides.count == o.network.channels.count - 1 else { throw ValidationError("--strides needs one value fewer than --channels") }
        o.network.residualUnits = resUnits
        o.network.norm = norm
        let p = Set(post.split(separator: ",").map { String($0) })
        guard p.isSubset(of: ["largest", "fill", "none"]) else { throw ValidationError("--post is largest, fill, largest,fill or none") }
        o.postprocessing = SegmentationPostprocessing(largestComponent: p.contains("largest"), fillHoles: p.contains("fill"))
        o.validationFraction = valFraction
        o.validateEvery = validateEvery
        o.keep = keep   // SegmentationTrainer refuses anything but last or best
        o.maxMinutes = maxMinutes
        guard ["fractions", "indices"].contains(targets) else { throw ValidationError("--targets is fractions or indices") }
        o.targets = targets
        guard ["float32", "bfloat16", "auto"].contains(precision) else { throw ValidationError("--precision is float32, bfloat16 or auto") }
        o.precision = precision
        guard ema >= 0, ema < 1 else { throw ValidationError("--ema is a decay in 0..<1 (0: off)") }
        o.weightAveraging = ema
        return o
    }

    static func renderSegment(_ e: SegmentationTrainEvent, bar: UnsafeBox<(ProgressBar, Int)?>) {
        switch e {
        case let .prepared(t, v, s): Terminal.out("prepared \(t) training and \(v) validation cases in \(String(format: "%.1f", s)) s")
        case let .started(p, d, th): Terminal.out("UNet with \(p) parameters on \(d) with \(th) threads")
        case let .resumed(n): Terminal.out("resuming after epoch \(n)")
        case let .warning(w): Terminal.error("warning: \(w)")
        case let .stopped(r): Terminal.out("stopped: \(r)")
        case let .step(ep, done, total, loss, pps):
            if bar.value == nil || bar.value!.1 != ep { bar.value = (ProgressBar(total: total, label: "epoch \(ep)"), ep) }
            bar.value!.0.update(done: done, note: String(format: "loss %.4f %.2f patches/s", loss, pps))
        case let .epoch(m, best):
            Terminal.out("epoch \(m.epoch): lr \(String(format: "%.2e", m.learningRate)) loss \(String(format: "%.4f", m.trainLoss)) train Dice \(String(format: "%.3f", m.trainDice)) val Dice \(m.validationDice.map { String(format: "%.4f", $0) } ?? "n/a") \(String(format: "%.1f", m.seconds)) s\(best ? " (best)" : "")")
        }
    }

    func run() throws {
        let bar = UnsafeBox<(ProgressBar, Int)?>(nil)
        if task == "segment" {
            let trainer = SegmentationTrainer(options: try segmentOptions()) { Self.renderSegment($0, bar: bar) }
            let m = try orExit { () throws(DicomPrepError) in try trainer.run() }
            Terminal.out("best validation Dice \(m.metrics.bestValidationDice.map { String(format: "%.4f", $0) } ?? "n/a") at epoch \(m.training.bestEpoch) (\(String(format: "%.1f", m.training.seconds / 60)) min); bundle: \(output) (model.pt: the \(m.training.weights == "best" ? "best validation epoch's" : "last epoch's") weights)")
            return
        }
        if let folds {
            let template = try options(train: "", val: "", output: output)
            let r: FoldsReport = try orExit { () throws(DicomPrepError) in
                try FoldTraining.run(foldsDir: folds, outputDir: output, template: template) { fold, e in Self.render(e, label: "[\(fold)] ", bar: bar) }
            }
            Terminal.out("\(r.folds.count) folds; mean best validation AUROC \(r.meanBestValidationAUROC.map { String(format: "%.3f", $0) } ?? "n/a"); predict with every fold: dicomprep predict \(r.folds.map { "--model \($0.bundle)" }.joined(separator: " ")) INPUT")
        } else {
            let trainer = Trainer(options: try options(train: train!, val: val!, output: output)) { Self.render($0, label: "", bar: bar) }
            let m = try orExit { () throws(DicomPrepError) in try trainer.run() }
            Terminal.out("best validation AUROC \(m.metrics.bestValidationAUROC.map { String(format: "%.3f", $0) } ?? "n/a") at epoch \(m.training.bestEpoch); bundle: \(output)")
        }
    }
}

import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the 3D ResNet classifier (libtorch) on manifests from `manifest split`; writes a model bundle.",
        discussion: """
        RUNDIR gets model.pt (best validation AUROC; a state dict that loads in PyTorch/MONAI), last.pt, metadata.json, \
        metrics.jsonl, curves.svg and checkpoint/ for --resume. With --folds DIR (the output of `manifest split --folds K`) \
        every fold is trained into RUNDIR/fold-K and RUNDIR/folds.json summarises them.
        """
    )

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

    @Option(help: "Epochs.") var epochs = 15
    @Option(help: "Batch size.") var batchSize = 8
    @Option(help: "Adam learning rate.") var lr = 1e-4
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

    func validate() throws {
        if folds == nil && (train == nil || val == nil) { throw ValidationError("give --train and --val, or --folds DIR") }
        if folds != nil && (train != nil || val != nil) { throw ValidationError("--folds replaces --train/--val") }
    }

    func options(train: String, val: String, output: String) throws -> TrainOptions {
        var o = TrainOptions(trainManifest: train, validationManifest: val, outputDir: output)
        o.sequence = sequence
        o.epochs = epochs
        o.batchSize = batchSize
        o.learningRate = lr
        o.milestones = milestones
        o.gamma = gamma
        o.input = input.values
        o.seed = seed
        o.threads = threads ?? Parallel.cores
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

    func run() throws {
        let bar = UnsafeBox<(ProgressBar, Int)?>(nil)
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

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
        metrics.jsonl, curves.png and checkpoint/ for --resume. With --folds DIR (the output of `manifest split --folds K`) \
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
    var input = "64x256x256"
    @Option(help: "Random seed (initialisation, order, augmentation).") var seed: UInt64 = 518
    @Option(help: "libtorch intra-op threads (default: all cores).") var threads: Int?
    @Flag(help: "Continue exactly from the last finished epoch of RUNDIR.") var resume = false
    @Option(help: "Augmentations: flip, rotate (comma-separated) or none.") var augment = "none"
    @Option(help: "Architecture: resnet10 (MONAI's, the RSNA winner's), resnet18, resnet-small (a fast CPU variant).") var arch = "resnet10"
    @Option(help: "Stem convolution stride over slices,rows,columns (MONAI 0.6: 1,2,2).") var stemStride = "1,2,2"
    @Option(help: "auto, cpu or cuda.") var device = "auto"
    @Option(help: "Decoded-tensor cache: memory, disk (RUNDIR/cache) or none.") var cache = "memory"

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
        let dims = input.split(separator: "x").compactMap { Int($0) }
        guard dims.count == 3 else { throw ValidationError("--input must be SLICESxROWSxCOLUMNS") }
        o.input = dims
        o.seed = seed
        o.threads = threads ?? Parallel.cores
        o.resume = resume
        switch Result(catching: { () throws(DicomPrepError) in try Augmentation(parsing: augment) }) {
        case let .success(a): o.augment = a
        case let .failure(e): throw ValidationError(e.description)
        }
        o.architecture = arch
        let st = stemStride.split(separator: ",").compactMap { Int($0) }
        guard st.count == 3 else { throw ValidationError("--stem-stride must be three integers, e.g. 1,2,2") }
        o.stemStride = st
        guard ["auto", "cpu", "cuda"].contains(device) else { throw ValidationError("--device must be auto, cpu or cuda") }
        o.device = device
        guard let c = TensorCache.Mode(rawValue: cache) else { throw ValidationError("--cache must be memory, disk or none") }
        o.cache = c
        return o
    }

    func trainOne(_ o: TrainOptions, label: String) throws -> ModelMetadata {
        let bar = UnsafeBox<(ProgressBar, Int)?>(nil)
        let trainer = Trainer(options: o) { e in
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
        return try orExit { () throws(DicomPrepError) in try trainer.run() }
    }

    func run() throws {
        if let folds {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folds)) ?? []).filter { $0.hasPrefix("fold-") }.sorted(by: NaturalOrder.less)
            guard !names.isEmpty else { Terminal.error("error: \(folds) holds no fold-K folders"); throw ExitCode(2) }
            var summary: [FoldSummary] = []
            for n in names {
                let m = try trainOne(try options(train: "\(folds)/\(n)/train.json", val: "\(folds)/\(n)/val.json", output: "\(output)/\(n)"), label: "[\(n)] ")
                summary.append(FoldSummary(fold: n, bundle: "\(output)/\(n)", bestValidationAUROC: m.metrics.bestValidationAUROC, bestEpoch: m.training.bestEpoch))
            }
            let aucs = summary.compactMap(\.bestValidationAUROC)
            let mean = aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count)
            try JSONOutput.write(FoldsReport(folds: summary, meanBestValidationAUROC: mean), to: output + "/folds.json")
            Terminal.out("\(names.count) folds; mean best validation AUROC \(mean.map { String(format: "%.3f", $0) } ?? "n/a"); predict with every fold: dicomprep predict \(summary.map { "--model \($0.bundle)" }.joined(separator: " ")) INPUT")
        } else {
            let m = try trainOne(try options(train: train!, val: val!, output: output), label: "")
            Terminal.out("best validation AUROC \(m.metrics.bestValidationAUROC.map { String(format: "%.3f", $0) } ?? "n/a") at epoch \(m.training.bestEpoch); bundle: \(output)")
        }
    }
}

struct FoldSummary: Codable {
    var fold: String
    var bundle: String
    var bestValidationAUROC: Double?
    var bestEpoch: Int
}

struct FoldsReport: Codable {
    var folds: [FoldSummary]
    var meanBestValidationAUROC: Double?
}

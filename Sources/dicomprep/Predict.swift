import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict with one or more model bundles: the classifier writes Kaggle's submission CSV and predictions.json; a segmentation bundle writes masks.",
        discussion: """
        Segmentation (a bundle from `train --task segment`): each INPUT is a NIfTI file, a DICOM folder, a folder of \
        either, or a Decathlon datalist (its test images); OUT/<name>.nii.gz is a uint8 label map on the input's own \
        voxel grid and affine (for DICOM: the grid `convert` writes), after sliding-window inference on the model grid \
        (Gaussian blending) and resampling back; --probabilities adds <name>_prob.nii.gz, --apply-mask \
        <name>_masked.nii.gz (e.g. the skull-stripped head); OUT/segmentation.json lists every output and every input that failed.
        Classification: INPUT is a datalist (val/test manifest), a dataset.json, a raw DICOM case folder (holding the sequence folders), \
        or a folder of case folders laid out like the dataset (e.g. Kaggle's test/). Raw input is converted and \
        preprocessed in memory with the preprocessing recorded in each bundle. Several models (folds, sequences) are averaged.
        """
    )

    @Option(name: .customLong("model"), help: "A model bundle (RUNDIR); repeat to average several.")
    var models: [String]

    @Argument(help: "Classifier: a datalist, dataset.json, raw case folder, or folder of case folders. Segmenter: NIfTI files, DICOM folders, folders of them, or a datalist.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output CSV (classifier, default predictions.csv) or output folder (segmenter, default predictions).")
    var output: String?

    @Flag(help: "Segmenter: also write class probabilities (<name>_prob.nii.gz, float32, one volume per foreground class).")
    var probabilities = false

    @Flag(help: "Segmenter: also write the image with everything outside the mask set to 0 (<name>_masked.nii.gz).")
    var applyMask = false

    @Option(help: "Segmenter: post-processing instead of the bundle's: largest, fill, largest,fill or none.")
    var post: String?

    @Option(help: "Segmenter: how inference covers an image: patch (sliding windows of the training patch, 25% overlap, Gaussian blending; the default) or whole (one window over the whole image on the model grid when it has at most 160³ voxels: several times faster, slightly less accurate).")
    var window = WindowArgument.patch

    @Flag(inversion: .prefixedNo, help: "Segmenter: also predict the left-right mirrored image and average the two (test-time augmentation, twice the inference time).")
    var mirror = false

    @Option(help: "libtorch threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give an input") }
    }

    func runSegmentation() throws {
        var p = SegmentationPredictor(bundles: models, inputs: inputs, outputDir: output ?? "predictions")
        p.threads = threads ?? Parallel.cores
        p.writeProbabilities = probabilities
        p.applyMask = applyMask
        p.mirror = mirror
        p.window = window.window
        if let post {
            let s = Set(post.split(separator: ",").map(String.init))
            guard s.isSubset(of: ["largest", "fill", "none"]) else { throw ValidationError("--post is largest, fill, largest,fill or none") }
            p.postprocessing = SegmentationPostprocessing(largestComponent: s.contains("largest"), fillHoles: s.contains("fill"))
        }
        let bar = UnsafeBox<ProgressBar?>(nil)
        p.onInput = { name, n, total in
            if bar.value == nil { bar.value = ProgressBar(total: total, label: "images") }
            bar.value?.update(done: n, note: name)
        }
        let r: SegmentationReport = try orExit { () throws(DicomPrepError) in try p.run() }
        for o in r.outputs {
            Terminal.out("\(o.name): \(p.outputDir)/\(o.mask) " + o.labels.map { "\($0.name) \(String(format: "%.1f", $0.ml)) mL" }.joined(separator: ", ") + String(format: " (%.1f s)", o.seconds))
        }
        Terminal.out("\(r.outputs.count) masks in \(p.outputDir) (report: \(p.outputDir)/segmentation.json)")
        for f in r.failed { Terminal.error("not segmented: \(f.input): \(f.reason)") }
        if !r.failed.isEmpty { throw ExitCode(1) }
    }

    func run() throws {
        let segment = models.map { m in SegmentationMetadata.isSegmentation(bundle: m.hasSuffix(".pt") ? URL(fileURLWithPath: m).deletingLastPathComponent().path : m) }
        if segment.contains(true) {
            guard !segment.contains(false) else { throw ValidationError("--model mixes segmentation and classification bundles") }
            return try runSegmentation()
        }
        guard inputs.count == 1 else { throw ValidationError("the classifier takes one INPUT") }
        if probabilities || applyMask || post != nil { throw ValidationError("--probabilities, --apply-mask and --post are for segmentation bundles") }
        let input = inputs[0], output = self.output ?? "predictions.csv"
        var p = Predictor(bundles: models, input: input)
        p.threads = threads ?? Parallel.cores
        let bar = UnsafeBox<ProgressBar?>(nil)
        p.onCase = { id, n, total in
            if bar.value == nil { bar.value = ProgressBar(total: total, label: "cases") }
            bar.value?.update(done: n, note: id)
        }
        let r: PredictionsReport = try orExit { () throws(DicomPrepError) in try p.run() }
        let json: String = try orExit { () throws(DicomPrepError) in try Predictor.writeSubmission(r, csv: output, bundles: models) }
        Terminal.out("\(r.predictions.count) cases predicted with \(models.count) model(s): \(output), \(json)")
        for f in r.failed { Terminal.error("not predicted: \(f.id): \(f.reason)") }
        if !r.failed.isEmpty { throw ExitCode(1) }
    }
}

import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth

struct Manifest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Build training manifests from dataset.json.",
        subcommands: [ManifestSplitCommand.self]
    )
}

struct ManifestSplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split",
        abstract: "Patient-level, label-stratified, deterministic split into MONAI Decathlon datalists (train.json, val.json, datalist.json; or fold-K/ for --folds).",
        discussion: "Image paths are relative to the manifest, so monai.data.load_decathlon_datalist(path, is_segmentation=False, data_list_key=\"training\") reads them. A case never appears on both sides."
    )

    @Argument(help: "dataset.json written by `dataset convert` or `dataset merge`.")
    var dataset: String

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String

    @Option(help: "Fraction of labelled cases for validation (per label).")
    var valFraction = 0.2

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    @Option(help: "Write K stratified folds instead of one split.")
    var folds: Int?

    @Option(help: "Sequence whose model input is \"image\" (default: the dataset's first).")
    var sequence: String?

    func run() throws {
        let r = try orExit { () throws(DicomPrepError) in
            try ManifestSplit.split(datasetFile: dataset, out: output, valFraction: valFraction, seed: seed, folds: folds, sequence: sequence)
        }
        Terminal.out("\(r.trainCount) training and \(r.validationCount) validation cases\(folds.map { " per fold (\($0) folds)" } ?? ""); wrote \(r.files.count) files to \(output)")
    }
}

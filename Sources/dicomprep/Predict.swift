import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict with one or more model bundles; writes Kaggle's submission CSV (BraTS21ID,MGMT_value) and predictions.json.",
        discussion: """
        INPUT is a datalist (val/test manifest), a dataset.json, a raw DICOM case folder (holding the sequence folders), \
        or a folder of case folders laid out like the dataset (e.g. Kaggle's test/). Raw input is converted and \
        preprocessed in memory with the preprocessing recorded in each bundle. Several models (folds, sequences) are averaged.
        """
    )

    @Option(name: .customLong("model"), help: "A model bundle (RUNDIR); repeat to average several.")
    var models: [String]

    @Argument(help: "Datalist, dataset.json, raw case folder, or folder of case folders.")
    var input: String

    @Option(name: .shortAndLong, help: "Output CSV.")
    var output: String = "predictions.csv"

    @Option(help: "libtorch threads (default: all cores).")
    var threads: Int?

    func run() throws {
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

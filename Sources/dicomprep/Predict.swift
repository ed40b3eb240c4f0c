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
        var idColumn = "BraTS21ID", valueColumn = "MGMT_value"
        if let layoutName = try? ModelMetadata.load(bundle: models[0]).preprocessing?.layout,
           let layout = try? DatasetLayout.named(layoutName), let sub = layout.submission {
            idColumn = sub.idColumn
            valueColumn = sub.valueColumn
        }
        let json = URL(fileURLWithPath: output).deletingPathExtension().path + ".json"
        try orExit { () throws(DicomPrepError) in
            try AtomicFile.write(text: Predictor.csv(r, idColumn: idColumn, valueColumn: valueColumn), to: output)
            try JSONOutput.write(r, to: json)
        }
        Terminal.out("\(r.predictions.count) cases predicted with \(models.count) model(s): \(output), \(json)")
        for f in r.failed { Terminal.error("not predicted: \(f.id): \(f.reason)") }
        if !r.failed.isEmpty { throw ExitCode(1) }
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score predictions against labels: AUROC, accuracy, sensitivity/specificity at a threshold, confusion matrix."
    )

    @Argument(help: "Predictions CSV (id, probability).")
    var predictions: String

    @Option(help: "Labels CSV (id, 0/1).")
    var labels: String

    @Option(help: "Decision threshold.")
    var threshold = 0.5

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let r: EvaluationReport = try orExit { () throws(DicomPrepError) in try EvaluationReport.evaluate(predictions: predictions, labels: labels, threshold: threshold) }
        if json {
            let text: String = try orExit { () throws(DicomPrepError) in try JSONOutput.encode(r) }
            Terminal.out(text.trimmingCharacters(in: .newlines))
        } else {
            let m = r.metrics
            func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "n/a" }
            Terminal.out("cases \(m.cases) (\(m.positives) positive)")
            Terminal.out("AUROC        \(f(m.auroc))")
            Terminal.out("accuracy     \(f(m.accuracy)) at threshold \(m.threshold)")
            Terminal.out("sensitivity  \(f(m.sensitivity))")
            Terminal.out("specificity  \(f(m.specificity))")
            Terminal.out("confusion    predicted 1: \(m.truePositives) true, \(m.falsePositives) false; predicted 0: \(m.trueNegatives) true, \(m.falseNegatives) false")
            if !r.unmatched.isEmpty { Terminal.error("\(r.unmatched.count) predictions have no label: \(r.unmatched.prefix(10).joined(separator: ", "))") }
        }
    }
}

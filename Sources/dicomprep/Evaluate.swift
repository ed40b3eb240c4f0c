import ArgumentParser
import DicomPrepCore
import DicomPrepLearning

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

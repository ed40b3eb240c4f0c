import ArgumentParser
import DicomPrepCore
import DicomPrepLearning
import Foundation

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score predictions: classifier AUROC, accuracy, sensitivity/specificity, confusion; or (--task segment) Dice, IoU, HD95 and volume difference per case with a QC page.",
        discussion: """
        Segmentation: --truth and --pred are folders (or files) of NIfTI label maps matched by name (<name>.nii.gz) on \
        the same grid; --images (NIfTI files or DICOM folders by name) gives the QC pictures their background; \
        --qc DIR writes DIR/index.html with the prediction (red) and truth (green) outlined on three mid planes per case; \
        -o writes segmentation-evaluation.json.
        """
    )

    @Option(help: "classify or segment.")
    var task = "classify"

    @Argument(help: "Classifier: predictions CSV (id, probability).")
    var predictions: String?

    @Option(help: "Classifier: labels CSV (id, 0/1).")
    var labels: String?

    @Option(help: "Segmenter: true label maps (folder or file).")
    var truth: String?

    @Option(help: "Segmenter: predicted label maps (folder or file).")
    var pred: String?

    @Option(help: "Segmenter: images for the QC pictures (folder of NIfTI files or DICOM folders by case name).")
    var images: String?

    @Option(help: "Segmenter: QC page folder.")
    var qc: String?

    @Option(name: .shortAndLong, help: "Segmenter: write the evaluation JSON here.")
    var output: String?

    @Option(help: "Decision threshold.")
    var threshold = 0.5

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard ["classify", "segment"].contains(task) else { throw ValidationError("--task is classify or segment") }
        if task == "segment" {
            guard truth != nil, pred != nil else { throw ValidationError("--task segment needs --truth and --pred") }
        } else {
            guard predictions != nil, labels != nil else { throw ValidationError("give the predictions CSV and --labels") }
        }
    }

    func runSegment() throws {
        let r: SegmentationEvaluation = try orExit { () throws(DicomPrepError) in
            try SegmentationEvaluation.evaluate(truth: truth!, predictions: pred!, images: images, qcDir: qc)
        }
        if let output { try orExit { () throws(DicomPrepError) in try JSONOutput.write(r, to: output) } }
        if json {
            let text: String = try orExit { () throws(DicomPrepError) in try JSONOutput.encode(r) }
            Terminal.out(text.trimmingCharacters(in: .newlines))
            return
        }
        func f(_ x: Double?) -> String { x.map { String(format: "%.4f", $0) } ?? "n/a" }
        for c in r.cases {
            Terminal.out("\(c.name): " + c.scores.map { "label \($0.label) Dice \(f($0.dice)) IoU \(f($0.iou)) HD95 \($0.hd95.map { String(format: "%.2f mm", $0) } ?? "n/a") volume \(String(format: "%.1f/%.1f mL", $0.predictedML, $0.truthML))" }.joined(separator: "; "))
        }
        for m in r.mean {
            Terminal.out("mean label \(m.label) over \(m.cases) cases: Dice \(f(m.dice)) IoU \(f(m.iou)) HD95 \(m.hd95.map { String(format: "%.2f mm", $0) } ?? "n/a") |volume diff| \(m.absVolumeDifferencePercent.map { String(format: "%.1f%%", $0) } ?? "n/a")")
        }
        if let qc { Terminal.out("QC page: \(qc)/index.html") }
        if !r.unmatched.isEmpty { Terminal.error("\(r.unmatched.count) names without a counterpart: \(r.unmatched.prefix(10).joined(separator: ", "))") }
        for f in r.failed { Terminal.error("not scored: \(f.input): \(f.reason)") }
        if !r.failed.isEmpty { throw ExitCode(1) }
    }

    func run() throws {
        if task == "segment" { return try runSegment() }
        let predictions = self.predictions!, labels = self.labels!
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

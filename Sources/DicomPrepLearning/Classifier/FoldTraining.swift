import DicomPrepCore
import Foundation

/// One fold of a k-fold run, as folds.json lists it.
public struct FoldSummary: Codable, Sendable, Equatable {
    public var fold: String
    public var bundle: String
    public var bestValidationAUROC: Double?
    public var bestEpoch: Int
}

/// folds.json: every fold's bundle and best validation AUROC, and their mean.
public struct FoldsReport: Codable, Sendable, Equatable {
    public var schema = "folds.schema.json"
    public var folds: [FoldSummary]
    public var meanBestValidationAUROC: Double?

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case folds, meanBestValidationAUROC
    }
}

/// Trains every fold of `manifest split --folds K` (FOLDS/fold-K/{train,val}.json) into OUTDIR/fold-K with
/// the same options, and writes OUTDIR/folds.json.
public enum FoldTraining {
    /// The fold folders of a split, in natural order.
    public static func folds(in dir: String) throws(DicomPrepError) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("fold-") }.sorted(by: NaturalOrder.less)
        guard !names.isEmpty else { throw .usage("\(dir) holds no fold-K folders (made by `manifest split --folds K`)") }
        return names
    }

    /// `template` gives every option but the manifests and the output folder; `onEvent` gets each fold's
    /// name with the trainer's events.
    public static func run(foldsDir: String, outputDir: String, template: TrainOptions,
                           onEvent: @escaping @Sendable (String, TrainEvent) -> Void = { _, _ in }) throws(DicomPrepError) -> FoldsReport {
        var summary: [FoldSummary] = []
        for name in try folds(in: foldsDir) {
            var o = template
            o.trainManifest = "\(foldsDir)/\(name)/train.json"
            o.validationManifest = "\(foldsDir)/\(name)/val.json"
            o.outputDir = "\(outputDir)/\(name)"
            let m = try Trainer(options: o) { onEvent(name, $0) }.run()
            summary.append(FoldSummary(fold: name, bundle: o.outputDir, bestValidationAUROC: m.metrics.bestValidationAUROC, bestEpoch: m.training.bestEpoch))
        }
        let aucs = summary.compactMap(\.bestValidationAUROC)
        let report = FoldsReport(folds: summary, meanBestValidationAUROC: aucs.isEmpty ? nil : aucs.reduce(0, +) / Double(aucs.count))
        try JSONOutput.write(report, to: outputDir + "/folds.json")
        return report
    }
}

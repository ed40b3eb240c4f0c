import DicomPrepCore
import Foundation

/// Binary classification metrics.
public enum Metrics {
    /// Area under the ROC curve (Mann–Whitney U with ties counted half); nil when a class is absent.
    public static func auroc(scores: [Double], labels: [Int]) -> Double? {
        let pos = zip(scores, labels).filter { $0.1 == 1 }.map(\.0), neg = zip(scores, labels).filter { $0.1 == 0 }.map(\.0)
        guard !pos.isEmpty, !neg.isEmpty else { return nil }
        // Rank-based: sort all, average ranks of ties.
        let all = (pos.map { ($0, 1) } + neg.map { ($0, 0) }).sorted { $0.0 < $1.0 }
        var ranks = [Double](repeating: 0, count: all.count)
        var i = 0
        while i < all.count {
            var j = i
            while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
            let r = Double(i + j) / 2 + 1
            for k in i...j { ranks[k] = r }
            i = j + 1
        }
        var sumPos = 0.0
        for (k, e) in all.enumerated() where e.1 == 1 { sumPos += ranks[k] }
        let np = Double(pos.count), nn = Double(neg.count)
        return (sumPos - np * (np + 1) / 2) / (np * nn)
    }

    /// Mean binary cross-entropy of logits, computed stably as PyTorch's BCEWithLogitsLoss.
    public static func bceWithLogits(logits: [Double], labels: [Int]) -> Double {
        guard !logits.isEmpty else { return .nan }
        var s = 0.0
        for (x, y) in zip(logits, labels) { s += max(x, 0) - x * Double(y) + log1p(exp(-abs(x))) }
        return s / Double(logits.count)
    }

    public static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    /// Confusion counts and rates at a threshold.
    public struct Summary: Codable, Sendable, Equatable {
        public var cases: Int
        public var positives: Int
        public var auroc: Double?
        public var accuracy: Double
        public var sensitivity: Double?
        public var specificity: Double?
        public var threshold: Double
        public var truePositives: Int, falsePositives: Int, trueNegatives: Int, falseNegatives: Int
    }

    public static func summary(probabilities p: [Double], labels: [Int], threshold: Double = 0.5) -> Summary {
        var tp = 0, fp = 0, tn = 0, fn = 0
        for (x, y) in zip(p, labels) {
            let pred = x >= threshold ? 1 : 0
            switch (pred, y) {
            case (1, 1): tp += 1
            case (1, _): fp += 1
            case (0, 1): fn += 1
            default: tn += 1
            }
        }
        let n = max(1, p.count)
        return Summary(cases: p.count, positives: labels.filter { $0 == 1 }.count, auroc: auroc(scores: p, labels: labels),
                       accuracy: Double(tp + tn) / Double(n), sensitivity: tp + fn > 0 ? Double(tp) / Double(tp + fn) : nil,
                       specificity: tn + fp > 0 ? Double(tn) / Double(tn + fp) : nil, threshold: threshold,
                       truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn)
    }
}

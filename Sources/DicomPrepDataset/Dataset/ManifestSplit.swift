import DicomPrepCore
import Foundation

/// One entry of a Decathlon-style datalist: the image (model input of the chosen sequence), the label,
/// the case id, and every sequence's input by name.
public struct DatalistItem: Codable, Sendable, Equatable {
    public var image: String
    public var label: Int?
    public var case_: String
    public var sequences: [String: String]

    enum CodingKeys: String, CodingKey { case image, label, case_ = "case" }

    public init(image: String, label: Int?, case_: String, sequences: [String: String]) {
        self.image = image
        self.label = label
        self.case_ = case_
        self.sequences = sequences
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: DynamicKey.self)
        try c.encode(image, forKey: DynamicKey("image"))
        if let label { try c.encode(label, forKey: DynamicKey("label")) }
        try c.encode(case_, forKey: DynamicKey("case"))
        for (k, v) in sequences { try c.encode(v, forKey: DynamicKey(k)) }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: DynamicKey.self)
        image = try c.decode(String.self, forKey: DynamicKey("image"))
        label = try c.decodeIfPresent(Int.self, forKey: DynamicKey("label"))
        case_ = try c.decode(String.self, forKey: DynamicKey("case"))
        var s: [String: String] = [:]
        for k in c.allKeys where !["image", "label", "case"].contains(k.stringValue) {
            if let v = try? c.decode(String.self, forKey: k) { s[k.stringValue] = v }
        }
        sequences = s
    }
}

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A MONAI Decathlon datalist: {"training": [...], "validation": [...], "test": [...]}.
public struct Datalist: Codable, Sendable, Equatable {
    public var schema = "datalist.schema.json"
    public var description: String
    public var sequence: String
    public var training: [DatalistItem]?
    public var validation: [DatalistItem]?
    public var test: [DatalistItem]?
    /// The preprocessing that made the images (copied from dataset.json), recorded in model bundles.
    public var settings: DatasetSettings?

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case description, sequence, training, validation, test, settings
    }
}

/// Patient-level, label-stratified, deterministic train/validation splits and k folds of a dataset.json.
public enum ManifestSplit {
    public struct Result: Sendable {
        public var files: [String]
        public var trainCount: Int
        public var validationCount: Int
    }

    /// Splits the labelled cases that have `sequence`; writes train.json, val.json and datalist.json
    /// (or fold-K/...) into `out`, with image paths relative to `out`.
    public static func split(datasetFile: String, out: String, valFraction: Double, seed: UInt64, folds: Int?, sequence: String?) throws(DicomPrepError) -> Result {
        guard let data = FileManager.default.contents(atPath: datasetFile) else { throw .io(path: datasetFile, reason: "cannot be read") }
        let m: DatasetManifest
        do { m = try JSONDecoder().decode(DatasetManifest.self, from: data) } catch { throw .io(path: datasetFile, reason: "not a dataset.json: \(error)") }
        let seq = sequence ?? m.settings.sequences.first!
        guard m.settings.sequences.contains(seq) else { throw .usage("sequence \(seq) is not in \(datasetFile) (\(m.settings.sequences.joined(separator: ", ")))") }
        if let k = folds { guard k >= 2 else { throw .usage("--folds must be at least 2") } } else {
            guard valFraction > 0 && valFraction < 1 else { throw .usage("--val-fraction must be between 0 and 1") }
        }
        let datasetDir = URL(fileURLWithPath: datasetFile).deletingLastPathComponent().path
        func item(_ c: CaseRecord, relativeTo dir: String) -> DatalistItem? {
            guard let s = c.sequence(seq) else { return nil }
            let prefix = DatasetMerge.relativePath(from: dir, to: datasetDir)
            func rel(_ p: String) -> String { prefix.isEmpty ? p : prefix + "/" + p }
            var all: [String: String] = [:]
            for r in c.sequences { all[r.sequence] = rel(r.input.path) }
            return DatalistItem(image: rel(s.input.path), label: c.label, case_: c.id, sequences: all)
        }
        let labeled = m.cases.filter { $0.label != nil && $0.sequence(seq) != nil }.sorted { $0.id < $1.id }
        let unlabeled = m.cases.filter { $0.label == nil && $0.sequence(seq) != nil }.sorted { $0.id < $1.id }
        guard labeled.count >= 2 else { throw .usage("\(datasetFile) has \(labeled.count) labelled cases with \(seq); a split needs at least 2") }
        // Stratify: shuffle each label's cases with the seed, then deal them out.
        var rng = SeededRandom(seed: seed)
        let byLabel = Dictionary(grouping: labeled, by: { $0.label! })
        var assignment: [String: Int] = [:] // case id -> fold (or 0 = validation, 1 = training)
        for label in byLabel.keys.sorted() {
            var group = byLabel[label]!
            group.shuffle(using: &rng)
            if let k = folds {
                for (i, c) in group.enumerated() { assignment[c.id] = i % k }
            } else {
                let nVal = max(1, min(group.count - 1, Int((Double(group.count) * valFraction).rounded())))
                for (i, c) in group.enumerated() { assignment[c.id] = i < nVal ? 0 : 1 }
                if group.count == 1 { assignment[group[0].id] = 1 }
            }
        }
        var files: [String] = []
        func write(_ dir: String, val: [CaseRecord], train: [CaseRecord], note: String) throws(DicomPrepError) {
            let tr = train.compactMap { item($0, relativeTo: dir) }, va = val.compactMap { item($0, relativeTo: dir) }
            let te = unlabeled.compactMap { item($0, relativeTo: dir) }
            try JSONOutput.write(Datalist(description: note + " (training)", sequence: seq, training: tr, settings: m.settings), to: dir + "/train.json")
            try JSONOutput.write(Datalist(description: note + " (validation)", sequence: seq, validation: va, settings: m.settings), to: dir + "/val.json")
            try JSONOutput.write(Datalist(description: note, sequence: seq, training: tr, validation: va, test: te.isEmpty ? nil : te, settings: m.settings), to: dir + "/datalist.json")
            files += [dir + "/train.json", dir + "/val.json", dir + "/datalist.json"]
        }
        var trainCount = 0, valCount = 0
        if let k = folds {
            for f in 0..<k {
                let val = labeled.filter { assignment[$0.id] == f }, train = labeled.filter { assignment[$0.id] != f }
                try write(out + "/fold-\(f)", val: val, train: train, note: "\(m.layout) \(seq) fold \(f) of \(k), seed \(seed)")
                trainCount = train.count; valCount = val.count
            }
        } else {
            let val = labeled.filter { assignment[$0.id] == 0 }, train = labeled.filter { assignment[$0.id] == 1 }
            try write(out, val: val, train: train, note: "\(m.layout) \(seq), validation fraction \(valFraction), seed \(seed)")
            trainCount = train.count; valCount = val.count
        }
        return Result(files: files, trainCount: trainCount, validationCount: valCount)
    }
}

import DicomPrepCore
import DicomPrepDataset
import Foundation

/// A prediction for one case.
public struct CasePrediction: Codable, Sendable, Equatable {
    public var caseID: String
    /// Mean of the models' probabilities.
    public var probability: Double
    /// Each model's probability, by bundle folder.
    public var models: [String: Double]
    public var source: String
}

/// `predictions.json`, written beside the CSV.
public struct PredictionsReport: Codable, Sendable {
    public var schema = "predictions.schema.json"
    public var tool = "dicomprep"
    public var version = DicomPrepVersion.string
    public var input: String
    public var models: [String]
    public var predictions: [CasePrediction]
    public var failed: [DatasetManifest.Skipped]

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case tool, version, input, models, predictions, failed
    }
}

/// Runs one or more model bundles on a datalist, a dataset.json, a raw DICOM case folder, or a folder of
/// case folders (Kaggle's test/). Raw input is converted and preprocessed in memory with exactly the
/// preprocessing recorded in each bundle; the models' probabilities are averaged per case.
public struct Predictor: Sendable {
    public var bundles: [String]
    public var input: String
    public var threads = Parallel.cores
    public var onCase: @Sendable (String, Int, Int) -> Void = { _, _, _ in }

    public init(bundles: [String], input: String) {
        self.bundles = bundles
        self.input = input
    }

    struct Loaded {
        var dir: String
        var meta: ModelMetadata
        var model: TorchModel
    }

    /// What a case offers a model: a model-input file per sequence, or a raw folder per sequence.
    enum CaseSource { case inputs([String: String]), raw([String: String]) }

    /// Cases of the input, in order.
    func cases(sequences: [String]) throws(DicomPrepError) -> [(id: String, source: CaseSource)] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else { throw .usage("\(input) does not exist") }
        if !isDir.boolValue {
            let doc = try JSONValue.parse(file: input)
            let dir = URL(fileURLWithPath: input).deletingLastPathComponent().path
            if doc["$schema"]?.stringValue == "dataset.schema.json" {
                let m: DatasetManifest
                do { m = try JSONDecoder().decode(DatasetManifest.self, from: FileManager.default.contents(atPath: input)!) } catch {
                    throw .io(path: input, reason: "not a dataset.json: \(error)")
                }
                return m.cases.map { c in (c.id, .inputs(Dictionary(c.sequences.map { ($0.sequence, dir + "/" + $0.input.path) }, uniquingKeysWith: { a, _ in a }))) }
            }
            let list = try DatalistReader.load(input)
            let items = (list.test ?? []) + (list.validation ?? []) + (list.training ?? [])
            var seen = Set<String>()
            return items.filter { seen.insert($0.case_).inserted }.map { it in
                var s = it.sequences.mapValues { $0.hasPrefix("/") ? $0 : dir + "/" + $0 }
                if s[list.sequence] == nil { s[list.sequence] = it.image.hasPrefix("/") ? it.image : dir + "/" + it.image }
                return (it.case_, .inputs(s))
            }
        }
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: input)) ?? []).filter { !$0.hasPrefix(".") }.sorted(by: NaturalOrder.less)
        func seqFolders(_ dir: String) -> [String: String] {
            var out: [String: String] = [:]
            for s in sequences {
                var d: ObjCBool = false
                if fm.fileExists(atPath: dir + "/" + s, isDirectory: &d), d.boolValue { out[s] = dir + "/" + s }
            }
            return out
        }
        let own = seqFolders(input)
        if !own.isEmpty { return [(URL(fileURLWithPath: input).lastPathComponent, .raw(own))] }
        return names.compactMap { n in
            let f = seqFolders(input + "/" + n)
            return f.isEmpty ? nil : (n, .raw(f))
        }
    }

    public func run() throws(DicomPrepError) -> PredictionsReport {
        guard !bundles.isEmpty else { throw .usage("give at least one --model RUNDIR") }
        let engine = try TorchEngine.load()
        engine.setThreads(threads)
        var loaded: [Loaded] = []
        for b in bundles {
            let meta = try ModelMetadata.load(bundle: b)
            let model = try engine.makeModel(architecture: meta.architecture.name, inChannels: meta.architecture.inChannels,
                                             classes: meta.architecture.numClasses, stemStride: meta.architecture.stemStride,
                                             device: engine.cudaAvailable ? "cuda" : "cpu")
            try model.loadWeights(from: b + "/model.pt")
            loaded.append(Loaded(dir: b, meta: meta, model: model))
        }
        let sequences = Array(Set(loaded.map(\.meta.input.sequence))).sorted()
        let cases = try cases(sequences: sequences)
        guard !cases.isEmpty else { throw .usage("\(input) holds no cases with \(sequences.joined(separator: " or "))") }
        var predictions: [CasePrediction] = []
        var failed: [DatasetManifest.Skipped] = []
        for (n, c) in cases.enumerated() {
            onCase(c.id, n + 1, cases.count)
            var per: [String: Double] = [:]
            var problems: [String] = []
            var rawCache: [String: [Float]] = [:]
            for l in loaded {
                let seq = l.meta.input.sequence
                let shape = Array(l.meta.input.shape.dropFirst())
                let r = catching { () throws(DicomPrepError) -> [Float] in
                    switch c.source {
                    case let .inputs(files):
                        guard let f = files[seq] else { throw .usage("no \(seq) input") }
                        return try TensorCache.read(f, shape: shape)
                    case let .raw(folders):
                        guard let folder = folders[seq] else { throw .usage("no \(seq) folder") }
                        guard let settings = l.meta.preprocessing else {
                            throw .usage("bundle \(l.dir) has no preprocessing record, so raw DICOM cannot be prepared as in training")
                        }
                        let key = seq + "|" + settings.fingerprint
                        if let t = rawCache[key] { return t }
                        let prepared = try ModelInputPreparer.prepare(folder: folder, name: "\(c.id)/\(seq)", settings: settings, threads: threads)
                        // The values training read from files: with scaled-int16 storage, quantised the same way.
                        let input = settings.storage == .scaledInt16 ? try ScaledInt16RoundTrip().apply(prepared.input) : prepared.input
                        let t = try TensorCache.fit(input, shape: shape)
                        rawCache[key] = t
                        return t
                    }
                }
                switch r {
                case let .success(x):
                    let logit = try l.model.predict(x, batch: 1, shape: [1] + shape)[0]
                    per[l.dir] = Metrics.sigmoid(Double(logit))
                case let .failure(e):
                    problems.append("\(l.dir): \(e.description)")
                }
            }
            if per.isEmpty {
                failed.append(.init(id: c.id, split: nil, reason: problems.joined(separator: "; ")))
            } else {
                let src: String
                switch c.source {
                case .inputs: src = "model inputs"
                case .raw: src = "raw DICOM"
                }
                predictions.append(CasePrediction(caseID: c.id, probability: per.values.reduce(0, +) / Double(per.count), models: per, source: src))
            }
        }
        return PredictionsReport(input: input, models: bundles, predictions: predictions, failed: failed)
    }

    /// The submission CSV (Kaggle's format: id column, probability column).
    /// Writes the submission CSV (the columns the bundle's dataset layout names, Kaggle's BraTS21ID,MGMT_value
    /// by default) and predictions.json beside it, both atomically; returns the JSON's path.
    @discardableResult
    public static func writeSubmission(_ r: PredictionsReport, csv path: String, bundles: [String]) throws(DicomPrepError) -> String {
        var idColumn = "BraTS21ID", valueColumn = "MGMT_value"
        if let first = bundles.first, let layoutName = try? ModelMetadata.load(bundle: first).preprocessing?.layout,
           let layout = try? DatasetLayout.named(layoutName), let sub = layout.submission {
            idColumn = sub.idColumn
            valueColumn = sub.valueColumn
        }
        let json = URL(fileURLWithPath: path).deletingPathExtension().path + ".json"
        try AtomicFile.write(text: csv(r, idColumn: idColumn, valueColumn: valueColumn), to: path)
        try JSONOutput.write(r, to: json)
        return json
    }

    public static func csv(_ r: PredictionsReport, idColumn: String = "BraTS21ID", valueColumn: String = "MGMT_value") -> String {
        var s = "\(CSV.escape(idColumn)),\(CSV.escape(valueColumn))\n"
        for p in r.predictions { s += "\(CSV.escape(p.caseID)),\(String(format: "%.6f", p.probability))\n" }
        return s
    }
}

/// `evaluate`: predictions against labels.
public struct EvaluationReport: Codable, Sendable {
    public var schema = "evaluation.schema.json"
    public var predictions: String
    public var labels: String
    public var metrics: Metrics.Summary
    public var unmatched: [String]

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case predictions, labels, metrics, unmatched
    }

    /// Reads two CSVs (id, value) and compares them; ids match numerically when both are numbers ("12" = "00012").
    public static func evaluate(predictions: String, labels: String, threshold: Double = 0.5) throws(DicomPrepError) -> EvaluationReport {
        func table(_ path: String) throws(DicomPrepError) -> [(String, Double)] {
            guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot be read") }
            let rows = CSV.parse(String(decoding: data, as: UTF8.self))
            guard rows.count >= 2 else { throw .io(path: path, reason: "no rows") }
            var out: [(String, Double)] = []
            for (i, r) in rows.dropFirst().enumerated() {
                guard r.count >= 2, let v = Double(r[1].trimmingCharacters(in: .whitespaces)) else {
                    throw .io(path: path, reason: "row \(i + 2) is not id,number")
                }
                out.append((r[0].trimmingCharacters(in: .whitespaces), v))
            }
            return out
        }
        func key(_ id: String) -> String { Int(id).map(String.init) ?? id }
        let p = try table(predictions), l = try table(labels)
        let truth = Dictionary(l.map { (key($0.0), Int($0.1)) }, uniquingKeysWith: { a, _ in a })
        var probs: [Double] = [], ys: [Int] = [], unmatched: [String] = []
        for (id, v) in p {
            if let y = truth[key(id)] { probs.append(v); ys.append(y) } else { unmatched.append(id) }
        }
        guard !probs.isEmpty else { throw .usage("no prediction matches a label (ids in \(predictions) vs \(labels))") }
        return EvaluationReport(predictions: predictions, labels: labels, metrics: Metrics.summary(probabilities: probs, labels: ys, threshold: threshold), unmatched: unmatched)
    }
}

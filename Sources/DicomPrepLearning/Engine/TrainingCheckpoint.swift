import DicomPrepCore
import Foundation

/// A run folder's `checkpoint/`: the weights, Adam's state and the training state (written last,
/// atomically, so it never names files that are not there), for an exact `--resume`; shared by the trainers.
struct TrainingCheckpoint {
    let runDir: String
    var dir: String { runDir + "/checkpoint" }

    /// Creates the run folder and its checkpoint folder; removes temporaries an interrupted run left.
    static func open(_ runDir: String) throws(DicomPrepError) -> TrainingCheckpoint {
        let c = TrainingCheckpoint(runDir: runDir)
        do { try FileManager.default.createDirectory(atPath: c.dir, withIntermediateDirectories: true) } catch {
            throw .io(path: c.dir, reason: "cannot create the run folder")
        }
        AtomicFile.removeStaleTemporaries(under: runDir)
        return c
    }

    /// The saved state when there is one, after loading its weights and optimiser into `model`; a state
    /// made with other data or options is refused.
    func resume<S: Decodable>(_: S.Type, fingerprint: String, of stateFingerprint: (S) -> String, model: TorchModel, averaged: Bool = false) throws(DicomPrepError) -> S? {
        guard let data = FileManager.default.contents(atPath: dir + "/state.json") else { return nil }
        guard let s = try? JSONDecoder().decode(S.self, from: data) else { throw .io(path: dir + "/state.json", reason: "unreadable training state") }
        guard stateFingerprint(s) == fingerprint else {
            throw .usage("\(runDir) was trained with other data or options; --resume needs the same ones (or use a new run folder)")
        }
        try model.loadWeights(from: dir + "/model.pt")
        try model.loadOptimizer(from: dir + "/optimizer.pt")
        if averaged { try model.loadAveragedWeights(from: dir + "/ema.pt") }
        return s
    }

    /// Weights, optimiser, then the state that names them; and `metrics.jsonl` from the history.
    /// `averaged`: the model keeps a moving average of its weights, saved too.
    func save<S: Encodable, E: Encodable>(_ state: S, history: [E], model: TorchModel, averaged: Bool = false) throws(DicomPrepError) {
        try model.saveWeights(to: runDir + "/last.pt")
        try model.saveWeights(to: dir + "/model.pt")
        try model.saveOptimizer(to: dir + "/optimizer.pt")
        if averaged { try model.saveAveragedWeights(to: dir + "/ema.pt") }
        try JSONOutput.write(state, to: dir + "/state.json")
        var lines = ""
        for h in history { lines += try JSONOutput.encodeLine(h) + "\n" }
        try AtomicFile.write(text: lines, to: runDir + "/metrics.jsonl")
    }
}

import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepDataset
@testable import DicomPrepLearning

/// Mixed precision (bfloat16) for the segmentation training steps: which precision a run gets, that a
/// bfloat16 step computes the same loss as a float32 one from the same weights (to bfloat16's rounding),
/// and that a bfloat16 run learns and says so in its metadata.
final class PrecisionTests: XCTestCase {
    func testAutoChoosesBFloat16OnlyWithNativeSupportOnTheCPU() throws {
        XCTAssertEqual(try SegmentationTrainer.resolvePrecision("auto", device: "cpu", cpuFlags: ["avx2", "avx512f", "avx512_bf16"]), "bfloat16")
        XCTAssertEqual(try SegmentationTrainer.resolvePrecision("auto", device: "cpu", cpuFlags: ["avx2", "amx_bf16", "amx_tile"]), "bfloat16")
        // AVX512 without bfloat16 arithmetic emulates it (slower than float32); AVX2 has no fast path at all.
        XCTAssertEqual(try SegmentationTrainer.resolvePrecision("auto", device: "cpu", cpuFlags: ["avx2", "avx512f", "avx512bw"]), "float32")
        XCTAssertEqual(try SegmentationTrainer.resolvePrecision("auto", device: "cuda", cpuFlags: ["avx512_bf16"]), "float32")
        XCTAssertEqual(try SegmentationTrainer.resolvePrecision("float32", device: "cpu", cpuFlags: ["avx512_bf16"]), "float32")
        XCTAssertEqual(try SegmentationTrainer.resolvePrecision("bfloat16", device: "cpu", cpuFlags: []), "bfloat16")
        XCTAssertThrowsError(try SegmentationTrainer.resolvePrecision("half", device: "cpu", cpuFlags: [])) { err in
            XCTAssertTrue("\(err)".contains("half"), "\(err)")
        }
        // This machine's flags are read (a Linux CPU always lists some).
        if FileManager.default.fileExists(atPath: "/proc/cpuinfo") { XCTAssertFalse(SegmentationTrainer.cpuFlags().isEmpty) }
    }

    /// bfloat16 needs oneDNN's bfloat16 kernels (AVX512); elsewhere the test has nothing to check.
    static func bfloat16Engine() throws -> TorchEngine {
        let e = try TestSupport.torchEngine()
        guard SegmentationTrainer.cpuFlags().contains("avx512bw") else { throw XCTSkip("this CPU has no AVX512: no bfloat16 convolutions to test") }
        return e
    }

    func testABFloat16StepGivesTheFloat32LossToItsRounding() throws {
        let e = try Self.bfloat16Engine()
        e.setThreads(2)
        // Large enough that every convolution path of the engine runs (the top level's 2 -> 2 at 64^3).
        let shape = [1, 64, 64, 32], n = 64 * 64 * 32
        var rng = SeededRandom(seed: 8)
        var x = [Float](repeating: 0, count: n), labels = [UInt8](repeating: 0, count: n)
        for k in 0..<32 { for j in 0..<64 { for i in 0..<64 {
            let r2 = (i - 30) * (i - 30) + (j - 34) * (j - 34) + 4 * (k - 15) * (k - 15)
            let idx = (i * 64 + j) * 32 + k
            labels[idx] = r2 < 400 ? 1 : 0
            x[idx] = (r2 < 400 ? 0.7 : 0.2) + Float(rng.unit()) * 0.1
        } } }
        func model(_ precision: String) throws -> TorchModel {
            e.manualSeed(21)
            let m = try e.makeUNet(outChannels: 2, channels: [8, 16, 32], strides: [2, 2], residualUnits: 2)
            try m.configureAdam(learningRate: 1e-3, weightDecay: 0)
            try m.setPrecision(precision)
            return m
        }
        let full = try model("float32"), mixed = try model("bfloat16")
        let a = try full.trainStepSegment(x, labels: labels, batch: 1, shape: shape)
        let b = try mixed.trainStepSegment(x, labels: labels, batch: 1, shape: shape)
        XCTAssertEqual(b.loss, a.loss, accuracy: 0.02 * a.loss, "bfloat16 keeps about 3 significant digits")
        XCTAssertNotEqual(b.loss, a.loss, "the mixed step did run in bfloat16")
        // Prediction is float32 whatever the training precision: after the same step, the two models agree
        // to what the different gradients make of one Adam step (lr 1e-3), far below any decision.
        let pa = try full.predictSegment(x, batch: 1, shape: shape), pb = try mixed.predictSegment(x, batch: 1, shape: shape)
        XCTAssertLessThan(zip(pa, pb).map { abs($0 - $1) }.max() ?? 1, 0.05)
        XCTAssertThrowsError(try full.setPrecision("float16")) { err in XCTAssertTrue("\(err)".contains("float16"), "\(err)") }
    }

    func testABFloat16RunLearnsAndRecordsItsPrecision() throws {
        _ = try Self.bfloat16Engine()
        let (meta, o) = try SegmentationTests.trainTiny { $0.precision = "bfloat16" }
        let run = URL(fileURLWithPath: o.outputDir)
        XCTAssertEqual(meta.training.precision, "bfloat16")
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: run.appendingPathComponent("metadata.json").path).map(\.description), [])
        let lines = try String(contentsOfFile: run.appendingPathComponent("metrics.jsonl").path, encoding: .utf8).split(separator: "\n")
        let losses = lines.map { SegmentationTests.lossAndDice(String($0)).0 }
        XCTAssertLessThan(losses.last ?? 9, (losses.first ?? 0) * 0.7, "the loss falls: \(losses)")
        XCTAssertGreaterThan(meta.metrics.bestValidationDice ?? 0, 0.85, "held-out blobs are found, as in float32")
        // The run's precision is part of its identity: a float32 run in the same folder does not resume it.
        var f = o
        f.precision = "float32"
        XCTAssertNotEqual(f.fingerprint, o.fingerprint)
    }
}

import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepDataset
@testable import DicomPrepLearning

/// The exponential moving average of the weights (`train --ema`): the engine's average is the decayed sum
/// of the weights after each step (checked in PyTorch on the saved weights), swapping it in and out leaves
/// the live weights untouched, and a run with it validates and keeps the average, records it, and resumes
/// with the average it had.
final class WeightAveragingTests: XCTestCase {
    func testTheAverageIsTheDecayedSumOfTheWeightsAfterEachStep() throws {
        let e = try TestSupport.torchEngine()
        e.setThreads(2)
        e.manualSeed(5)
        let m = try e.makeUNet(outChannels: 2, channels: [4, 8], strides: [2], residualUnits: 1)
        try m.configureAdam(learningRate: 1e-2, weightDecay: 0)
        let shape = [1, 16, 16, 16], n = 16 * 16 * 16
        let x = (0..<n).map { Float(($0 * 7) % 23) / 23 }, labels = x.map { UInt8($0 > 0.5 ? 1 : 0) }
        XCTAssertThrowsError(try m.swapAveragedWeights(), "no average yet") { err in XCTAssertTrue("\(err)".contains("not on"), "\(err)") }
        XCTAssertThrowsError(try m.setWeightAveraging(decay: 1))
        try m.setWeightAveraging(decay: 0.5)
        let before = try m.predictSegment(x, batch: 1, shape: shape)
        XCTAssertEqual(try m.withAveragedWeights { () throws(DicomPrepError) in try m.predictSegment(x, batch: 1, shape: shape) }, before,
                       "before any step the average is the weights themselves")

        let dir = TestSupport.tempDir()
        func save(_ name: String) throws -> String { let p = dir.appendingPathComponent(name).path; try m.saveWeights(to: p); return p }
        let w0 = try save("w0.pt")
        _ = try m.trainStepSegment(x, labels: labels, batch: 1, shape: shape)
        let w1 = try save("w1.pt")
        _ = try m.trainStepSegment(x, labels: labels, batch: 1, shape: shape)
        let w2 = try save("w2.pt")
        let live = try m.predictSegment(x, batch: 1, shape: shape)
        let averaged = try m.withAveragedWeights { () throws(DicomPrepError) in try m.predictSegment(x, batch: 1, shape: shape) }
        XCTAssertNotEqual(averaged, live, "the average lags the steps")
        XCTAssertEqual(try m.predictSegment(x, batch: 1, shape: shape), live, "swapping back restores the live weights exactly")
        try m.swapAveragedWeights()
        let e2 = try save("e2.pt")
        try m.swapAveragedWeights()

        // In PyTorch: e2 = d2 (d1 w0 + (1 - d1) w1) + (1 - d2) w2 with the warm-up's d1 = 1/10 and d2 = 2/11.
        let script = """
        import sys, torch
        w0, w1, w2, e2 = (torch.jit.load(p).state_dict() for p in sys.argv[1:5])
        d1, d2 = min(0.5, 1 / 10), min(0.5, 2 / 11)
        worst = max(float((e2[k] - (d2 * (d1 * w0[k] + (1 - d1) * w1[k]) + (1 - d2) * w2[k])).abs().max()) for k in w0)
        moved = max(float((w2[k] - w0[k]).abs().max()) for k in w0)
        print("worst", worst, "moved", moved)
        """
        let (rc, out) = try TestSupport.run(TestSupport.python, ["-c", script, w0, w1, w2, e2])
        if rc != 0, out.contains("No module named 'torch'") { throw XCTSkip("no PyTorch to read the weights with") }
        XCTAssertEqual(rc, 0, out)
        let words = out.split(whereSeparator: \.isWhitespace)
        let worst = Double(words[1]) ?? 1, moved = Double(words[3]) ?? 0
        XCTAssertLessThan(worst, 1e-6, out)
        XCTAssertGreaterThan(moved, 1e-3, "the steps changed the weights: \(out)")
    }

    func testARunKeepsTheAverageRecordsItAndResumesWithIt() throws {
        _ = try TestSupport.torchEngine()
        let (meta, o) = try SegmentationTests.trainTiny { $0.weightAveraging = 0.99 }
        let run = o.outputDir
        XCTAssertEqual(meta.training.weightAveraging, 0.99)
        XCTAssertGreaterThan(meta.metrics.bestValidationDice ?? 0, 0.85, "held-out blobs are found with the averaged weights")
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: run + "/metadata.json").map(\.description), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/checkpoint/ema.pt"))
        func output(_ r: String, _ f: String) throws -> [Float] {
            let m = try SegmentationModel.load(bundle: r, weights: r + "/" + f)
            return try m.model.predictSegment((0..<(16 * 16 * 16)).map { Float($0 % 17) / 17 }, batch: 1, shape: [1, 16, 16, 16])
        }
        // model.pt is the average, last.pt the live weights.
        let kept = try output(run, "model.pt"), last = try output(run, "last.pt")
        XCTAssertGreaterThan(zip(kept, last).map { abs($0 - $1) }.max() ?? 0, 1e-4)

        // Interrupted after epoch 4 and resumed: the average goes on from where it was (a fresh one would
        // start again from the live weights and keep far less of the first epochs).
        var first = o
        first.outputDir = URL(fileURLWithPath: run).deletingLastPathComponent().appendingPathComponent("run2").path
        first.stopAfterEpoch = 4
        _ = try SegmentationTrainer(options: first).run()
        var second = first
        second.stopAfterEpoch = nil
        second.resume = true
        let resumed = try SegmentationTrainer(options: second).run()
        XCTAssertEqual(resumed.training.epochsDone, 8)
        let again = try output(second.outputDir, "model.pt")
        XCTAssertLessThan(zip(kept, again).map { abs($0 - $1) }.max() ?? 1, 2e-3, "the resumed run keeps the same average")
        // Averaging is part of the run's identity.
        var plain = o
        plain.weightAveraging = 0
        XCTAssertNotEqual(plain.fingerprint, o.fingerprint)
    }

    func testTheCommandLineTakesTheDecayAndRefusesOthers() throws {
        _ = try TestSupport.torchEngine()
        let exe = try TestSupport.executable()
        let dir = TestSupport.tempDir()
        let list = try SegmentationTests.blobDataset(dir, cases: 8)
        let run = dir.appendingPathComponent("run").path
        let tiny = ["train", "--task", "segment", "--datalist", list, "-o", run, "--patch", "16x16x16", "--channels", "8,16,32",
                    "--strides", "2,2", "--res-units", "1", "--epochs", "2", "--samples-per-case", "2", "--spacing", "2"]
        let (bad, text) = try TestSupport.run(exe, tiny + ["--ema", "1.5"])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(text.contains("--ema"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/metadata.json"), "refused before training")
        let (rc, out) = try TestSupport.run(exe, tiny + ["--ema", "0.9"])
        XCTAssertEqual(rc, 0, out)
        let meta = try SegmentationMetadata.load(bundle: run)
        XCTAssertEqual(meta.training.weightAveraging, 0.9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/checkpoint/ema.pt"))
    }
}

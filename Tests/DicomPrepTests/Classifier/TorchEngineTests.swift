import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// The libtorch engine: MONAI's ResNet structure, training steps, saving and loading.
final class TorchEngineTests: XCTestCase {
    func testResNet10HasMONAIsParametersAndKeys() throws {
        let e = try TestSupport.torchEngine()
        let m = try e.makeModel(architecture: "resnet10")
        XCTAssertEqual(m.parameterCount, 14_356_929, "monai.networks.nets.resnet10(spatial_dims=3, n_input_channels=1, num_classes=1)")
        let keys = m.stateKeys
        XCTAssertEqual(keys.count, 77)
        for k in ["conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.bias", "layer4.0.downsample.1.num_batches_tracked", "fc.weight", "fc.bias"] {
            XCTAssertTrue(keys.contains(k), k)
        }
        XCTAssertNoThrow(try e.makeModel(architecture: "resnet18"))
        XCTAssertThrowsError(try e.makeModel(architecture: "resnet99"))
    }

    func testTrainingLowersTheLossAndWeightsRoundTrip() throws {
        let e = try TestSupport.torchEngine()
        e.manualSeed(1)
        let m = try e.makeModel(architecture: "resnet-small")
        try m.configureAdam(learningRate: 1e-3)
        let shape = [1, 8, 16, 16], n = shape.reduce(1, *)
        // Two easy classes: bright blob or not.
        var x = [Float](repeating: 0, count: 4 * n)
        for b in 0..<4 where b % 2 == 1 { for i in 0..<n where i % 16 > 4 && i % 16 < 11 { x[b * n + i] = 1 } }
        let y: [Float] = [0, 1, 0, 1]
        var first: Float = 0, last: Float = 0
        for step in 0..<30 {
            let r = try m.trainStep(x, targets: y, batch: 4, shape: shape)
            XCTAssertTrue(r.loss.isFinite)
            if step == 0 { first = r.loss }
            last = r.loss
        }
        XCTAssertLessThan(last, first * 0.5)
        let before = try m.predict(x, batch: 4, shape: shape)
        let path = TestSupport.tempDir().appendingPathComponent("w.pt").path
        try m.saveWeights(to: path)
        let other = try e.makeModel(architecture: "resnet-small")
        try other.loadWeights(from: path)
        XCTAssertEqual(try other.predict(x, batch: 4, shape: shape), before)
        // libtorch's own errors come back as messages, never as a crash.
        XCTAssertThrowsError(try e.makeModel(architecture: "resnet10").loadWeights(from: path)) { err in
            XCTAssertTrue("\(err)".contains("w.pt"), "\(err)")
        }
        XCTAssertThrowsError(try other.loadWeights(from: "/nonexistent/weights.pt"))
    }
}

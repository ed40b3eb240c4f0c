import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepDataset
@testable import DicomPrepLearning

/// Training against class fractions (partial volume) instead of class indices: the loss, where the
/// fractions come from (tissue maps, or the label map interpolated) and how patches carry them.
final class FractionTargetTests: XCTestCase {
    func testOneHotFractionsGiveTheIndexLossAndFractionsAreChecked() throws {
        let e = try TestSupport.torchEngine()
        e.setThreads(2)
        let shape = [1, 16, 16, 16], n = 16 * 16 * 16
        var rng = SeededRandom(seed: 5)
        let x = (0..<n).map { _ in Float(rng.unit()) }
        // A ball as the label.
        var labels = [UInt8](repeating: 0, count: n)
        for i in 0..<16 { for j in 0..<16 { for k in 0..<16 where (i - 8) * (i - 8) + (j - 7) * (j - 7) + (k - 9) * (k - 9) < 25 {
            labels[(i * 16 + j) * 16 + k] = 1
        } } }
        let oneHot = labels.map { $0 == 0 ? Float(1) : 0 } + labels.map { $0 == 1 ? Float(1) : 0 }
        func model() throws -> TorchModel {
            e.manualSeed(11)
            let m = try e.makeUNet(outChannels: 2, channels: [8, 16], strides: [2], residualUnits: 1)
            try m.configureAdam(learningRate: 1e-3, weightDecay: 0)
            return m
        }
        let a = try model(), b = try model()
        XCTAssertEqual(try a.predictSegment(x, batch: 1, shape: shape), try b.predictSegment(x, batch: 1, shape: shape), "same seed, same weights")
        let hard = try a.trainStepSegment(x, labels: labels, batch: 1, shape: shape)
        let soft = try b.trainStepSegment(x, fractions: oneHot, batch: 1, shape: shape)
        XCTAssertEqual(soft.loss, hard.loss, accuracy: 1e-5)
        for c in 0..<2 { XCTAssertEqual(soft.dice[c], hard.dice[c], accuracy: 1e-5) }
        // The same step: the weights after it agree too.
        let pa = try a.predictSegment(x, batch: 1, shape: shape), pb = try b.predictSegment(x, batch: 1, shape: shape)
        XCTAssertLessThan(zip(pa, pb).map { abs($0 - $1) }.max() ?? 1, 1e-4)

        // Half-and-half fractions everywhere: cross-entropy alone is at least ln 2, whatever the output.
        let c = try model()
        let half = try c.trainStepSegment(x, fractions: [Float](repeating: 0.5, count: 2 * n), batch: 1, shape: shape)
        XCTAssertGreaterThan(half.loss, Float(log(2.0)))
        XCTAssertThrowsError(try c.trainStepSegment(x, fractions: [Float](repeating: 1.5, count: 2 * n), batch: 1, shape: shape)) { err in
            XCTAssertTrue("\(err)".contains("fraction"), "\(err)")
        }
    }

    func testLabelMapsGiveInterpolatedFractionsWithTheLabelsAsTheirLargest() throws {
        // A sphere of radius 21 mm labelled at 2.3 mm voxel centres, onto a shifted 2 mm grid.
        let n = [24, 24, 24], h = 2.3
        var src = [Float](repeating: 0, count: n.reduce(1, *))
        let o = -Double(n[0] - 1) / 2 * h
        for k in 0..<n[2] { for j in 0..<n[1] { for i in 0..<n[0] {
            let x = o + Double(i) * h, y = o + Double(j) * h, z = o + Double(k) * h
            if x * x + y * y + z * z < 21 * 21 { src[i + n[0] * (j + n[1] * k)] = 1 }
        } } }
        let label = Volume(dims: n + [1], voxels: .float32(src), affine: Matrix4(columns: Vector3(h, 0, 0), Vector3(0, h, 0), Vector3(0, 0, h), origin: Vector3(o, o, o)))
        var pre = SegmentationPreprocessing()
        pre.spacing = [2, 2, 2]
        var grid = pre.grid(for: label)
        grid.affine = Matrix4(columns: Vector3(2, 0, 0), Vector3(0, 2, 0), Vector3(0, 0, 2), origin: grid.affine.apply(Vector3(0.37, 0.21, 0.55)))
        let f = try pre.labelFractions(label, grid: grid, classes: 3, path: "sphere")
        let count = grid.count
        XCTAssertEqual(f.count, 3 * count)
        var partial = 0, volume = 0.0
        for v in 0..<count {
            XCTAssertEqual(f[v] + f[count + v] + f[2 * count + v], 1, accuracy: 1e-5)
            XCTAssertEqual(f[2 * count + v], 0, "an absent class has no share")
            if f[count + v] > 0.05 && f[count + v] < 0.95 { partial += 1 }
            volume += Double(f[count + v]) * 8
        }
        XCTAssertGreaterThan(partial, 500, "the sphere's boundary voxels are shared")
        XCTAssertEqual(volume / (4 / 3 * Double.pi * 21 * 21 * 21), 1, accuracy: 0.03)
        XCTAssertEqual(SegmentationPreprocessing.largestClass(f, classes: 3, count: count), try pre.label(label, grid: grid, classes: 3, path: "sphere"))

        var c = PreparedCase(id: "s", dims: grid.dims, spacing: grid.spacing, image: [Float](repeating: 0, count: count), label: [UInt8](repeating: 0, count: count))
        c.setClassFractions(f, classes: 3)
        XCTAssertEqual(c.fractionClasses, 3)
        for v in stride(from: 0, to: count, by: 7) {
            XCTAssertEqual(Int(c.fractions[v]) + Int(c.fractions[count + v]) + Int(c.fractions[2 * count + v]), 255)
            XCTAssertEqual(Float(c.fractions[count + v]) / 255, f[count + v], accuracy: 0.5 / 255 + 1e-6)
        }
    }

    func testTissueMapsGiveEachClassTheSharesOfItsTissues() {
        // Four tissues on a row of voxels: air, CSF outside the object, the object's tissue and CSF inside
        // it (as sulci are inside a brain mask). The label map says only which class each centre is in.
        let tissues: [[Float]] = [
            [1, 0.6, 0, 0, 0, 0, 0, 0],        // air
            [0, 0.4, 0.7, 0.2, 0, 0, 0.3, 0],  // outer CSF
            [0, 0, 0.3, 0.8, 1, 0.5, 0.7, 1],  // object
            [0, 0, 0, 0, 0, 0.5, 0, 0],        // inner CSF
        ]
        let labels: [UInt8] = [0, 0, 0, 1, 1, 1, 1, 1]
        var c = PreparedCase(id: "t", dims: [8, 1, 1], spacing: [1, 1, 1], image: [Float](repeating: 0, count: 8), label: labels)
        c.setTissues(tissues.flatMap { $0 }, count: 4)
        c.setClassFractionsFromTissues(classes: 2)
        let object = (0..<8).map { Float(c.fractions[8 + $0]) / 255 }
        let expected = (0..<8).map { tissues[2][$0] + tissues[3][$0] }
        for v in 0..<8 {
            XCTAssertEqual(object[v], expected[v], accuracy: 1.5 / 255, "voxel \(v)")
            XCTAssertEqual(Int(c.fractions[v]) + Int(c.fractions[8 + v]), 255)
        }
        XCTAssertEqual(object[2], 0.3, accuracy: 1.5 / 255, "a background voxel with some of the object in it")
        XCTAssertEqual(object[3], 0.8, accuracy: 1.5 / 255, "an object voxel with some outer CSF in it")
    }

    func testPatchFractionsFollowTheGeometryOfTheLabels() throws {
        var c = SegmentationTests.ellipsoidCase(spacing: [1, 1, 1.5])
        c.setClassFractions(c.label.map { $0 == 0 ? Float(1) : 0 } + c.label.map { $0 == 1 ? Float(1) : 0 }, classes: 2)
        var a = SegmentationAugmentation.none
        a.rotateDegrees = 30
        a.scaleRange = 0.2
        a.flip = [0.5, 0.5, 0.5]
        a.warp = 4
        let size = [24, 24, 16], per = size.reduce(1, *)
        var agree = 0, total = 0, partial = 0, outside = 0
        for s in 0..<6 {
            // The same draws with and without fractions: the same geometry.
            var r1 = SeededRandom(seed: UInt64(40 + s)), r2 = SeededRandom(seed: UInt64(40 + s))
            let hard = a.patch(c, size: size, rng: &r1), soft = a.patch(c, size: size, fractions: true, rng: &r2)
            XCTAssertEqual(hard.image, soft.image)
            XCTAssertTrue(soft.label.isEmpty)
            XCTAssertEqual(soft.fractions.count, 2 * per)
            for v in 0..<per {
                XCTAssertEqual(soft.fractions[v] + soft.fractions[per + v], 1, accuracy: 1e-5)
                if soft.fractions[per + v] > 0.05 && soft.fractions[per + v] < 0.95 { partial += 1 }
                if soft.image[v] == 0 && soft.fractions[v] == 1 { outside += 1 }
                guard abs(soft.fractions[per + v] - 0.5) > 1e-3 else { continue }
                total += 1
                if (soft.fractions[per + v] > 0.5) == (hard.label[v] == 1) { agree += 1 }
            }
        }
        XCTAssertEqual(Double(agree) / Double(total), 1, accuracy: 1e-9, "the largest fraction is the index patch's class")
        XCTAssertGreaterThan(partial, 100, "boundary voxels are shared between the classes")
        XCTAssertGreaterThan(outside, 0)
        // A case without fractions gives none.
        var r = SeededRandom(seed: 1)
        var plain = c
        plain.fractions = []
        plain.fractionClasses = 0
        XCTAssertTrue(a.patch(plain, size: size, fractions: true, rng: &r).fractions.isEmpty)
    }

    func testTrainingAgainstFractionsLearnsAndRecordsIt() throws {
        _ = try TestSupport.torchEngine()
        let (meta, o) = try SegmentationTests.trainTiny { $0.targets = "fractions" }
        let list = try XCTUnwrap(o.datalist), dir = URL(fileURLWithPath: list).deletingLastPathComponent()
        XCTAssertEqual(meta.training.targets, "fractions")
        XCTAssertTrue(meta.training.loss.contains("fractions"), meta.training.loss)
        XCTAssertGreaterThan(try XCTUnwrap(meta.metrics.bestValidationDice), 0.85)
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: o.outputDir + "/metadata.json").map(\.description), [])

        // Cases with a tissue map take their fractions from it: here the map is the label map itself, so the
        // fractions are its interpolated one-hot maps; validation cases keep class indices only.
        let text = try String(contentsOfFile: list, encoding: .utf8)
            .replacingOccurrences(of: "\"label\": \"./lab/c0.nii.gz\"", with: "\"label\": \"./lab/c0.nii.gz\", \"tissues\": \"./lab/c0.nii.gz\"")
        let withTissues = dir.appendingPathComponent("tissues.json").path
        try text.write(toFile: withTissues, atomically: true, encoding: .utf8)
        var t = o
        t.datalist = withTissues
        let trainer = SegmentationTrainer(options: t)
        let (train, val, _, _) = try trainer.cases()
        let prepared = try trainer.prepare(train, classes: 2, crop: true), held = try trainer.prepare(val, classes: 2, crop: false)
        XCTAssertTrue(prepared.allSatisfy { $0.fractionClasses == 2 && $0.fractions.count == 2 * $0.image.count })
        XCTAssertTrue(held.allSatisfy { $0.fractionClasses == 0 })
        let c0 = try XCTUnwrap(prepared.first { $0.id.contains("c0") })
        XCTAssertEqual(c0.tissueCount, 0, "the tissue fractions are not kept without --resynthesize")
        let n = c0.image.count
        for v in 0..<n where c0.fractions[n + v] > 140 || c0.fractions[n + v] < 115 {
            XCTAssertEqual(c0.label[v] == 1, c0.fractions[n + v] > 127, "voxel \(v)")
        }
        XCTAssertTrue(c0.fractions[n...].contains { $0 > 20 && $0 < 235 }, "partial volume at the blob's edge")
    }
}

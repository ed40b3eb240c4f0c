import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// The segmentation engine: MONAI's UNet, the trainer on tiny shapes, sliding-window inference, masks on
/// the input's own grid, the Decathlon datalist, the metrics and the reports' schemas.
final class SegmentationTests: XCTestCase {
    func testUNetHasMONAIsParametersAndKeys() throws {
        let e = try TestSupport.torchEngine()
        let m = try e.makeUNet(outChannels: 2, channels: [16, 32, 64, 128, 256], strides: [2, 2, 2, 2])
        // monai.networks.nets.UNet(spatial_dims=3, in_channels=1, out_channels=2, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2), num_res_units=2)
        XCTAssertEqual(m.parameterCount, 4_806_481)
        let keys = m.stateKeys
        XCTAssertEqual(keys.count, 63, "len(UNet(...).state_dict())")
        for k in ["model.0.conv.unit0.conv.weight", "model.0.conv.unit0.adn.A.weight", "model.0.residual.weight",
                  "model.1.submodule.1.submodule.1.submodule.1.submodule.residual.weight", "model.1.submodule.1.submodule.1.submodule.2.0.conv.weight",
                  "model.2.0.adn.A.weight", "model.2.1.conv.unit0.conv.bias"] {
            XCTAssertTrue(keys.contains(k), k)
        }
        XCTAssertFalse(keys.contains("model.2.1.conv.unit0.adn.A.weight"), "the last unit is conv only")
        let b = try e.makeUNet(outChannels: 3, channels: [8, 16, 32], strides: [2, 2], residualUnits: 1, norm: "batch")
        XCTAssertTrue(b.stateKeys.contains("model.0.conv.unit0.adn.N.running_mean"))
        XCTAssertThrowsError(try e.makeUNet(outChannels: 2, channels: [8], strides: []))
    }

    /// A tiny dataset: spheres and ellipsoids of random size, position and brightness on noise, in
    /// random orientations (some flipped axes), as NIfTI image + label in a Decathlon dataset.json.
    static func blobDataset(_ dir: URL, cases: Int, seed: UInt64 = 3) throws -> String {
        var rng = SeededRandom(seed: seed)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("lab"), withIntermediateDirectories: true)
        var items: [String] = []
        for c in 0..<cases {
            let d = [28 + Int(rng.next() % 8), 30 + Int(rng.next() % 8), 26 + Int(rng.next() % 6)]
            let sp = [1.5, 1.5, 2.0]
            let flipX = rng.unit() < 0.5
            let affine = Matrix4(columns: Vector3(flipX ? -sp[0] : sp[0], 0, 0), Vector3(0, sp[1], 0), Vector3(0, 0, sp[2]), origin: Vector3(flipX ? 20 : -20, -22, -25))
            let centre = Vector3(rng.unit() * 10 - 5, rng.unit() * 10 - 5, rng.unit() * 8 - 4)
            let axes = Vector3(8 + rng.unit() * 6, 8 + rng.unit() * 6, 7 + rng.unit() * 5)
            let bright = Float(200 + rng.unit() * 300)
            var img = [Float](repeating: 0, count: d[0] * d[1] * d[2]), lab = [UInt8](repeating: 0, count: img.count)
            for k in 0..<d[2] { for j in 0..<d[1] { for i in 0..<d[0] {
                let w = affine.apply(Vector3(Double(i), Double(j), Double(k))) - centre
                let e = (w.x / axes.x) * (w.x / axes.x) + (w.y / axes.y) * (w.y / axes.y) + (w.z / axes.z) * (w.z / axes.z)
                let idx = i + d[0] * (j + d[1] * k)
                lab[idx] = e < 1 ? 1 : 0
                img[idx] = (e < 1 ? bright : 60) + Float(rng.unit() * 40)
            } } }
            let w = NiftiWriter(gzip: true)
            try w.write(Volume(dims: d + [1], voxels: .float32(img), affine: affine), to: dir.appendingPathComponent("img/c\(c).nii.gz").path)
            try w.write(Volume(dims: d + [1], voxels: .uint8(lab), affine: affine), to: dir.appendingPathComponent("lab/c\(c).nii.gz").path)
            items.append("{\"image\": \"./img/c\(c).nii.gz\", \"label\": \"./lab/c\(c).nii.gz\"}")
        }
        let json = "{\"name\": \"blobs\", \"labels\": {\"0\": \"background\", \"1\": \"blob\"}, \"training\": [\(items.dropLast(2).joined(separator: ", "))], "
            + "\"validation\": [\(items.suffix(2).joined(separator: ", "))], \"test\": [\"./img/c\(cases - 1).nii.gz\"]}"
        let path = dir.appendingPathComponent("dataset.json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A tiny training run on 8 blob cases with one thing changed; its metadata and options (datalist, run folder).
    static func trainTiny(_ change: (inout SegmentationTrainOptions) -> Void) throws -> (meta: SegmentationMetadata, options: SegmentationTrainOptions) {
        let dir = TestSupport.tempDir()
        let list = try blobDataset(dir, cases: 8)
        var o = tinyOptions(list, out: dir.appendingPathComponent("run").path)
        change(&o)
        return (try SegmentationTrainer(options: o).run(), o)
    }

    static func tinyOptions(_ datalist: String, out: String) -> SegmentationTrainOptions {
        var o = SegmentationTrainOptions(outputDir: out)
        o.datalist = datalist
        o.epochs = 8
        o.samplesPerCase = 8
        o.batchSize = 4
        o.patch = [16, 16, 16]
        o.learningRate = 3e-3
        o.network.channels = [8, 16, 32]
        o.network.strides = [2, 2]
        o.network.residualUnits = 1
        o.preprocessing.spacing = [2, 2, 2]
        o.augmentation.rotateDegrees = 10
        return o
    }

    func testTrainingOnTinyShapesSegmentsHeldOutBlobsAndResumes() throws {
        _ = try TestSupport.torchEngine()
        let dir = TestSupport.tempDir()
        let list = try Self.blobDataset(dir, cases: 8)
        let run = dir.appendingPathComponent("run").path
        let events = UnsafeSendableBox<[String]>([])
        let meta = try SegmentationTrainer(options: Self.tinyOptions(list, out: run)) { e in
            if case let .epoch(m, _) = e { events.withLock { $0.append("\(m.epoch):\(m.validationDice ?? -1)") } }
        }.run()
        XCTAssertEqual(meta.training.trainCases, 6)
        XCTAssertEqual(meta.training.validationCases, 2)
        XCTAssertEqual(meta.training.epochsDone, 8)
        let best = try XCTUnwrap(meta.metrics.bestValidationDice)
        XCTAssertGreaterThan(best, 0.85, "validation Dice per epoch: \(events.take())")
        for f in ["model.pt", "last.pt", "best.pt", "metadata.json", "metrics.jsonl", "curves.svg", "checkpoint/state.json", "checkpoint/optimizer.pt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/" + f), f)
        }
        // Two weight files of a bundle hold the same weights when they give the same output (the archives name their files).
        func output(_ r: String, _ f: String) throws -> [Float] {
            let m = try SegmentationModel.load(bundle: r, weights: r + "/" + f)
            return try m.model.predictSegment((0..<(16 * 16 * 16)).map { Float($0 % 17) / 17 }, batch: 1, shape: [1, 16, 16, 16])
        }
        XCTAssertEqual(meta.training.weights, "last")
        XCTAssertEqual(try output(run, "model.pt"), try output(run, "last.pt"), "model.pt holds the last epoch's weights by default")
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: run + "/metadata.json").map(\.description), [])

        // Resume: 4 epochs, then the rest from the checkpoint, give the same history as all at once.
        let run2 = dir.appendingPathComponent("run2").path
        let o = Self.tinyOptions(list, out: run2)
        // The first run stops after epoch 4, as an interrupted one would.
        var first = o
        first.stopAfterEpoch = 4
        let partial = try SegmentationTrainer(options: first).run()
        XCTAssertEqual(partial.training.epochsDone, 4)
        var second = o
        second.resume = true
        second.keep = "best"   // not part of the run's identity: the resumed run keeps the best validation weights instead
        let resumed = try SegmentationTrainer(options: second).run()
        XCTAssertEqual(resumed.training.epochsDone, 8)
        XCTAssertEqual(resumed.training.weights, "best")
        XCTAssertEqual(try output(run2, "model.pt"), try output(run2, "best.pt"))
        if resumed.training.bestEpoch != 8 { XCTAssertNotEqual(try output(run2, "model.pt"), try output(run2, "last.pt")) }
        let a = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { Self.lossAndDice(String($0)) }
        let b = try String(contentsOfFile: run2 + "/metrics.jsonl", encoding: .utf8).split(separator: "\n").map { Self.lossAndDice(String($0)) }
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x.0, y.0, accuracy: 1e-3 * max(1, abs(x.0)), "train loss per epoch after resume")
            XCTAssertEqual(x.1, y.1, accuracy: 2e-3, "validation Dice per epoch after resume")
        }

        // Predict on a held-out NIfTI: the mask is on the input's own grid and overlaps its truth.
        let out = dir.appendingPathComponent("pred").path
        var p = SegmentationPredictor(bundles: [run], inputs: [list], outputDir: out)
        p.writeProbabilities = true
        p.applyMask = true
        let r = try p.run()
        XCTAssertEqual(r.outputs.count, 1)
        XCTAssertEqual(r.failed.count, 0)
        let mask = try Volume.readNifti(out + "/c7.nii.gz"), truth = try Volume.readNifti(dir.appendingPathComponent("lab/c7.nii.gz").path)
        XCTAssertEqual(mask.dims, truth.dims)
        TestSupport.assertAffine(mask.affine, truth.affine)
        XCTAssertEqual(try NiftiIO.read(out + "/c7.nii.gz", withValues: false).datatypeCode, 2, "uint8 labels")
        let d = SegmentationMetrics.dice(mask.floatValues.map { $0 > 0 }, truth.floatValues.map { $0 > 0 })
        XCTAssertGreaterThan(d, 0.85)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/c7_prob.nii.gz"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/c7_masked.nii.gz"))
        XCTAssertEqual(try store.validate(file: out + "/segmentation.json").map(\.description), [])

        // One window over the whole (padded) image, and the mirrored image averaged in: the same grid, as good.
        let model = try SegmentationModel.load(bundle: run)
        let patch = model.metadata.patch, stride = model.metadata.network.strides.reduce(1, *)
        XCTAssertEqual(model.windowSize(.whole(maxVoxels: .max), dims: [patch[0] + 1, 3, patch[2]]),
                       [(patch[0] + 1 + stride - 1) / stride * stride, patch[1], patch[2]])
        XCTAssertEqual(model.windowSize(.whole(maxVoxels: 1), dims: [200, 200, 200]), patch, "too large: sliding patches")
        let outWhole = dir.appendingPathComponent("pred-whole").path
        var pw = SegmentationPredictor(bundles: [run], inputs: [list], outputDir: outWhole)
        pw.window = .wholeDefault
        pw.mirror = true
        XCTAssertEqual(try pw.run().outputs.count, 1)
        let maskWhole = try Volume.readNifti(outWhole + "/c7.nii.gz")
        XCTAssertEqual(maskWhole.dims, truth.dims)
        XCTAssertGreaterThan(SegmentationMetrics.dice(maskWhole.floatValues.map { $0 > 0 }, truth.floatValues.map { $0 > 0 }), 0.85)

        // A bundle's weight file as a model, beside the bundle itself: the two are averaged, and the report names both.
        let outFiles = dir.appendingPathComponent("pred-files").path
        let both = try SegmentationPredictor(bundles: [run, run2 + "/last.pt"], inputs: [list], outputDir: outFiles).run()
        XCTAssertEqual(both.models, [run, run2 + "/last.pt"])
        XCTAssertEqual(both.outputs.count, 1)
        let maskFiles = try Volume.readNifti(outFiles + "/c7.nii.gz")
        XCTAssertGreaterThan(SegmentationMetrics.dice(maskFiles.floatValues.map { $0 > 0 }, truth.floatValues.map { $0 > 0 }), 0.85)
        XCTAssertThrowsError(try SegmentationPredictor(bundles: [run + "/missing.pt"], inputs: [list], outputDir: outFiles).run())

        // evaluate --task segment: JSON, schema, QC page.
        let ev = try SegmentationEvaluation.evaluate(truth: dir.appendingPathComponent("lab").path, predictions: out,
                                                     images: dir.appendingPathComponent("img").path, qcDir: dir.appendingPathComponent("qc").path)
        XCTAssertEqual(ev.cases.count, 1)
        XCTAssertEqual(ev.cases[0].scores[0].dice, d, accuracy: 1e-9)
        XCTAssertEqual(ev.unmatched.count, 7, "truths without a prediction are listed")
        let evPath = dir.appendingPathComponent("eval.json").path
        try JSONOutput.write(ev, to: evPath)
        XCTAssertEqual(try store.validate(file: evPath).map(\.description), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("qc/index.html").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("qc/c7.png").path))
        let qcPage = try String(contentsOfFile: dir.appendingPathComponent("qc/index.html").path, encoding: .utf8)
        XCTAssertTrue(qcPage.contains("<svg"), "the intensity histogram")
        if FileManager.default.fileExists(atPath: "/usr/share/javascript/three/build/three.min.js") {
            XCTAssertEqual(ev.cases[0].viewer, "view-c7/index.html")
            XCTAssertTrue(qcPage.contains("open in the viewer"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("qc/view-c7/index.html").path))
        }

        // The truth given as the prediction too (a sanity check users run): Dice 1, and one viewer page per case.
        let selfEv = try SegmentationEvaluation.evaluate(truth: dir.appendingPathComponent("lab").path, predictions: dir.appendingPathComponent("lab").path,
                                                         images: dir.appendingPathComponent("img").path, qcDir: dir.appendingPathComponent("qc-self").path)
        XCTAssertEqual(selfEv.cases.count, 8)
        XCTAssertEqual(selfEv.cases.map { $0.scores[0].dice }.min() ?? 0, 1, accuracy: 1e-12)

        // MONAI: the bundle loads with strict=True and gives the same probabilities, on a small input and on
        // one large enough for the engine's own convolution paths (the 2 -> 2 convolution at full size).
        try assertMONAIAgrees(bundle: run, dir: dir, shape: [20, 24, 16])
        try assertMONAIAgrees(bundle: run, dir: dir, shape: [64, 48, 32])
    }

    static func lossAndDice(_ line: String) -> (Double, Double) {
        let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        return ((obj["trainLoss"] as? Double) ?? .nan, (obj["validationDice"] as? Double) ?? -1)
    }

    func assertMONAIAgrees(bundle: String, dir: URL, shape: [Int]) throws {
        let model = try SegmentationModel.load(bundle: bundle)
        var rng = SeededRandom(seed: 9)
        let x = (0..<shape.reduce(1, *)).map { _ in Float(rng.unit()) }
        let ours = try model.model.predictSegment(x, batch: 1, shape: [1] + shape)
        let inPath = dir.appendingPathComponent("x.f32").path, outPath = dir.appendingPathComponent("p.f32").path
        try x.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: inPath))
        let script = TestSupport.repoRoot.appendingPathComponent("Tests/python/unet_crosscheck.py").path
        let (rc, text) = try TestSupport.run(TestSupport.python, [script, bundle, inPath] + shape.map(String.init) + [outPath])
        if text.contains("NO-MONAI") { throw XCTSkip("MONAI is not installed (make monai-env); the cross-check was skipped") }
        XCTAssertEqual(rc, 0, text)
        XCTAssertTrue(text.contains("All keys matched successfully"), text)
        let theirs = try Data(contentsOf: URL(fileURLWithPath: outPath)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(theirs.count, ours.count)
        let maxDiff = zip(ours, theirs).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThan(maxDiff, 1e-4, "MONAI's UNet and the engine disagree")
    }

    func testMasksForAnObliqueDICOMSeriesOverlayTheConvertedImage() throws {
        _ = try TestSupport.torchEngine()
        let dir = TestSupport.tempDir()
        let list = try Self.blobDataset(dir, cases: 4)
        let run = dir.appendingPathComponent("run").path
        var o = Self.tinyOptions(list, out: run)
        o.epochs = 1
        _ = try SegmentationTrainer(options: o).run()
        // An oblique DICOM series, with a text file beside it.
        var s = SyntheticSeries()
        s.rows = 30; s.columns = 26; s.slices = 14
        s.rowDirection = Vector3(0.8660254, 0.5, 0); s.columnDirection = Vector3(-0.3535534, 0.6123724, -0.7071068)
        s.pixelSpacing = [1.4, 1.2]; s.sliceSpacing = 2.2
        let series = dir.appendingPathComponent("oblique").path
        try s.write(to: series)
        try "notes".write(toFile: series + "/README.txt", atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("pred").path
        let r = try SegmentationPredictor(bundles: [run], inputs: [series], outputDir: out).run()
        XCTAssertEqual(r.outputs.first?.kind, "dicom")
        XCTAssertTrue(r.outputs.first?.warnings.contains { $0.contains("README.txt") } ?? false, "the text file is named, not fatal")
        let (_, conv) = try TestSupport.convert([series])
        let converted = try FileManager.default.contentsOfDirectory(atPath: conv.path).first { $0.hasSuffix(".nii.gz") }!
        // nibabel: same shape and affine.
        let code = """
        import nibabel as nib, numpy as np, sys
        a = nib.load(sys.argv[1]); b = nib.load(sys.argv[2])
        assert a.shape[:3] == b.shape[:3], (a.shape, b.shape)
        assert np.allclose(a.affine, b.affine, atol=1e-4), (a.affine, b.affine)
        assert b.get_data_dtype() == np.uint8
        print("overlay ok")
        """
        let (rc, text) = try TestSupport.run("/usr/bin/python3", ["-c", code, conv.appendingPathComponent(converted).path, out + "/oblique.nii.gz"])
        XCTAssertEqual(rc, 0, text)
        XCTAssertTrue(text.contains("overlay ok"), text)
    }

    func testPolyDecayRunsOverTheEpochsOrTheTimeBudget() {
        var o = SegmentationTrainOptions(outputDir: "/tmp/x")
        o.epochs = 10
        o.learningRate = 1e-3
        XCTAssertEqual(o.learningRate(epoch: 0), 1e-3)
        XCTAssertEqual(o.learningRate(epoch: 5), 1e-3 * pow(0.5, 0.9), accuracy: 1e-12)
        o.maxMinutes = 10
        // Half the budget gone after 2 of 10 epochs: the decay follows the time.
        XCTAssertEqual(o.learningRate(epoch: 2, elapsed: 300), 1e-3 * pow(0.5, 0.9), accuracy: 1e-12)
        XCTAssertGreaterThan(o.learningRate(epoch: 9, elapsed: 10_000), 0, "never zero")
        o.schedule = "constant"
        XCTAssertEqual(o.learningRate(epoch: 9, elapsed: 500), 1e-3)
    }

    func testDecathlonDatalistAsMONAIReadsIt() throws {
        let dir = TestSupport.tempDir()
        let json = """
        {"name": "Task09_Spleen", "labels": {"0": "background", "1": "spleen"},
         "training": [{"image": "./imagesTr/spleen_2.nii.gz", "label": "./labelsTr/spleen_2.nii.gz"}, {"image": "imagesTr/spleen_3.nii.gz", "label": "labelsTr/spleen_3.nii.gz"}],
         "test": ["./imagesTs/spleen_1.nii.gz"]}
        """
        let path = dir.appendingPathComponent("dataset.json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        let l = try SegmentationDatalist.load(path)
        XCTAssertEqual(l.training.map(\.image), [dir.path + "/imagesTr/spleen_2.nii.gz", dir.path + "/imagesTr/spleen_3.nii.gz"])
        XCTAssertEqual(l.training.map(\.label), [dir.path + "/labelsTr/spleen_2.nii.gz", dir.path + "/labelsTr/spleen_3.nii.gz"])
        XCTAssertEqual(l.test.map(\.id), ["spleen_1"])
        XCTAssertEqual(l.classes, 2)
        XCTAssertEqual(l.labels["1"], "spleen")
        // A case without a label cannot train.
        try #"{"training": [{"image": "a.nii.gz"}]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        var o = SegmentationTrainOptions(outputDir: dir.appendingPathComponent("run").path)
        o.datalist = path
        XCTAssertThrowsError(try SegmentationTrainer(options: o).run()) { XCTAssertTrue("\($0)".contains("has no label"), "\($0)") }
    }

    func testSlidingWindowCoversEveryVoxelAndBlendsToTheSameConstant() throws {
        XCTAssertEqual(SlidingWindow.starts(10, window: 16, overlap: 0.25), [0])
        XCTAssertEqual(SlidingWindow.starts(40, window: 16, overlap: 0.25), [0, 12, 24])
        XCTAssertEqual(SlidingWindow.starts(41, window: 16, overlap: 0.5), [0, 8, 16, 24, 25])
        // A "model" returning a constant per class gives that constant everywhere, whatever the blending.
        let d = [37, 29, 21]
        let w = SlidingWindow(window: [16, 16, 16], overlap: 0.25, batch: 3)
        let out = try w.run([Float](repeating: 0, count: d.reduce(1, *)), dims: d, classes: 2) { (_: [Float], n: Int) throws(DicomPrepError) -> [Float] in
            var p = [Float](repeating: 0.25, count: n * 2 * 4096)
            for b in 0..<n { for i in 0..<4096 { p[(b * 2 + 1) * 4096 + i] = 0.75 } }
            return p
        }
        let n = d.reduce(1, *)
        XCTAssertEqual(out[0..<n].max()!, 0.25, accuracy: 1e-5)
        XCTAssertEqual(out[0..<n].min()!, 0.25, accuracy: 1e-5)
        XCTAssertEqual(out[n...].min()!, 0.75, accuracy: 1e-5)
        // The window order (x, y, z; z fastest) round-trips: an identity "model" returns the image.
        let img = (0..<n).map { Float($0 % 97) }
        let back = try w.run(img, dims: d, classes: 1) { (x: [Float], _: Int) throws(DicomPrepError) -> [Float] in x }
        XCTAssertEqual(zip(img, back).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-3)
    }

    /// A 40 x 36 x 30 case whose label is its image: an ellipsoid of 1 in 0, indexed for patch centres.
    static func ellipsoidCase(spacing: [Double]) -> PreparedCase {
        let d = [40, 36, 30]
        var img = [Float](repeating: 0, count: d.reduce(1, *)), lab = [UInt8](repeating: 0, count: img.count)
        for k in 0..<d[2] { for j in 0..<d[1] { for i in 0..<d[0] {
            let inside = pow(Double(i) - 20, 2) / 100 + pow(Double(j) - 18, 2) / 64 + pow(Double(k) - 15, 2) / 49 < 1
            img[i + d[0] * (j + d[1] * k)] = inside ? 1 : 0
            lab[i + d[0] * (j + d[1] * k)] = inside ? 1 : 0
        } } }
        var c = PreparedCase(id: "x", dims: d, spacing: spacing, image: img, label: lab, foreground: [], background: [])
        c.indexVoxels()
        return c
    }

    func testPatchSamplerKeepsImageAndLabelAligned() throws {
        // A label that equals the thresholded image stays so after rotation, scaling and flips.
        let c = Self.ellipsoidCase(spacing: [1, 1, 1.5])
        var a = SegmentationAugmentation.none
        a.rotateDegrees = 30
        a.scaleRange = 0.2
        a.flip = [0.5, 0.5, 0.5]
        var rng = SeededRandom(seed: 4)
        var agree = 0, total = 0, positives = 0
        for _ in 0..<6 {
            let p = a.patch(c, size: [24, 24, 16], rng: &rng)
            for i in p.image.indices where p.image[i] < 0.2 || p.image[i] > 0.8 {
                total += 1
                if (p.image[i] > 0.5) == (p.label[i] == 1) { agree += 1 }
            }
            positives += p.label.filter { $0 == 1 }.count
        }
        XCTAssertGreaterThan(positives, 0)
        XCTAssertEqual(Double(agree) / Double(total), 1, accuracy: 0.002)
    }

    func testLabelsResampleAsInterpolatedOneHotMaps() throws {
        // Between voxels the class with the largest trilinear weight wins (nnU-Net's segmentation resampling).
        func corner(_ l: [UInt8], _ f: Float) -> UInt8 {
            l.withUnsafeBufferPointer { SegmentationAugmentation.trilinearLabel($0, 0, 2, 4, f, f, f) }
        }
        XCTAssertEqual(corner([0, 0, 0, 0, 0, 0, 0, 1], 0.5), 0, "one corner of eight is background")
        XCTAssertEqual(corner([0, 0, 0, 0, 0, 0, 0, 1], 0.95), 1, "beside that corner it is its class")
        XCTAssertEqual(corner([2, 2, 2, 2, 1, 1, 0, 0], 0.5), 2, "a half outweighs two quarters")
        XCTAssertEqual(corner([3, 3, 3, 3, 3, 3, 3, 3], 0.3), 3)

        // A sphere of radius 21 mm labelled at 2.3 mm voxel centres, taken onto a shifted 2 mm grid: the
        // interpolated one-hot maps agree with the true sphere at the new centres more often than the
        // nearest source voxel does, and keep its volume; an identical grid returns the labels unchanged.
        let n = [24, 24, 24], h = 2.3
        func sphere(_ x: Double, _ y: Double, _ z: Double) -> Bool { x * x + y * y + z * z < 21 * 21 }
        var src = [Float](repeating: 0, count: n.reduce(1, *))
        let o = -Double(n[0] - 1) / 2 * h
        for k in 0..<n[2] { for j in 0..<n[1] { for i in 0..<n[0] where sphere(o + Double(i) * h, o + Double(j) * h, o + Double(k) * h) {
            src[i + n[0] * (j + n[1] * k)] = 1
        } } }
        let affine = Matrix4(columns: Vector3(h, 0, 0), Vector3(0, h, 0), Vector3(0, 0, h), origin: Vector3(o, o, o))
        let label = Volume(dims: n + [1], voxels: .float32(src), affine: affine)
        var pre = SegmentationPreprocessing()
        pre.spacing = [2, 2, 2]
        var grid = pre.grid(for: label)
        grid.affine = Matrix4(columns: Vector3(2, 0, 0), Vector3(0, 2, 0), Vector3(0, 0, 2),
                              origin: grid.affine.apply(Vector3(0.37, 0.21, 0.55)))
        let linear = try pre.label(label, grid: grid, classes: 2, path: "sphere")
        let nearest = try ResampleToGrid(grid, interpolation: .nearest).apply(label).floatValues.map { UInt8($0) }
        var wrongLinear = 0, wrongNearest = 0
        for k in 0..<grid.dims[2] { for j in 0..<grid.dims[1] { for i in 0..<grid.dims[0] {
            let w = grid.affine.apply(Vector3(Double(i), Double(j), Double(k)))
            let truth: UInt8 = sphere(w[0], w[1], w[2]) ? 1 : 0
            let at = i + grid.dims[0] * (j + grid.dims[1] * k)
            if linear[at] != truth { wrongLinear += 1 }
            if nearest[at] != truth { wrongNearest += 1 }
        } } }
        XCTAssertLessThan(wrongLinear, wrongNearest)
        let volume = Double(linear.filter { $0 == 1 }.count) * 8, exact = 4 / 3 * Double.pi * 21 * 21 * 21
        XCTAssertEqual(volume / exact, 1, accuracy: 0.03)
        let same = try pre.label(label, grid: VoxelGrid(of: label), classes: 2, path: "sphere")
        XCTAssertEqual(same, src.map { UInt8($0) })
        XCTAssertThrowsError(try pre.label(label, grid: grid, classes: 1, path: "sphere")) { e in
            XCTAssertTrue("\(e)".contains("sphere"))
        }
    }

    func testNonLinearWarpBendsShapesSmoothlyAndKeepsLabelsOnThem() throws {
        // The field: bounded by the amplitude (mm -> voxels per axis), smooth, and different per draw.
        var rng = SeededRandom(seed: 9)
        let spacing = [2.0, 2.0, 4.0]
        var maxima: [Double] = []
        for _ in 0..<5 {
            let f = try XCTUnwrap(RandomWarpField(size: [48, 48, 24], spacing: spacing, scale: 1, maxMM: 8, controlMM: 32, rng: &rng))
            XCTAssertEqual(f.g, [4, 4, 4])
            var largest = 0.0, jump = 0.0
            for k in 0..<24 { for j in 0..<48 { for i in 0..<48 {
                let d = f.displacement(i, j, k)
                XCTAssertLessThanOrEqual(abs(d.0), 8 / 2 + 1e-9)
                XCTAssertLessThanOrEqual(abs(d.2), 8 / 4 + 1e-9)
                largest = max(largest, abs(d.0) * 2, abs(d.1) * 2, abs(d.2) * 4)
                if i > 0 { let e = f.displacement(i - 1, j, k); jump = max(jump, abs(d.0 - e.0), abs(d.1 - e.1), abs(d.2 - e.2)) }
            } } }
            // Neighbouring voxels move at most 2 * 8 mm over a 32 mm control interval (16 voxels) apart.
            XCTAssertLessThanOrEqual(jump, 2 * 8.0 / 2 / 15.67 + 1e-9)
            maxima.append(largest)
        }
        XCTAssertGreaterThan(maxima.max()!, 2, "some draws displace by millimetres")
        XCTAssertNil(RandomWarpField(size: [8, 8, 8], spacing: spacing, scale: 1, maxMM: 0, controlMM: 32, rng: &rng))
        // A small patch (32 mm, 3 control points 16 mm apart) caps the amplitude at 4 mm, whatever is asked: no folding.
        for _ in 0..<5 {
            let f = try XCTUnwrap(RandomWarpField(size: [16, 16, 16], spacing: [2, 2, 2], scale: 1, maxMM: 50, controlMM: 48, rng: &rng))
            XCTAssertEqual(f.g, [3, 3, 3])
            for k in 0..<16 { for j in 0..<16 { for i in 0..<16 {
                let d = f.displacement(i, j, k)
                XCTAssertLessThanOrEqual(max(abs(d.0), abs(d.1), abs(d.2)), 2 + 1e-9)
            } } }
        }

        // Patches: image and label stay aligned under the warp, and the shape differs from the unwarped patch
        // drawn with the same centre (same generator state) by a bend, not a different object.
        let c = Self.ellipsoidCase(spacing: [2, 2, 2])
        var plain = SegmentationAugmentation.none
        plain.positive = 1; plain.negative = 0
        var warped = plain
        warped.warp = 6
        warped.warpControlMM = 24
        var changed = 0, overlap = 0, sizes = 0, agree = 0, total = 0
        for s in 0..<6 {
            var r1 = SeededRandom(seed: UInt64(100 + s)), r2 = r1
            let p = plain.patch(c, size: [32, 32, 32], rng: &r1), w = warped.patch(c, size: [32, 32, 32], rng: &r2)
            for i in w.image.indices {
                if w.label[i] != p.label[i] { changed += 1 }
                if w.label[i] == 1 && p.label[i] == 1 { overlap += 1 }
                sizes += Int(w.label[i]) + Int(p.label[i])
                if w.image[i] < 0.2 || w.image[i] > 0.8 { total += 1; if (w.image[i] > 0.5) == (w.label[i] == 1) { agree += 1 } }
            }
        }
        XCTAssertEqual(Double(agree) / Double(total), 1, accuracy: 0.002)
        XCTAssertGreaterThan(changed, 100, "the warp moves the boundary")
        XCTAssertGreaterThan(2 * Double(overlap) / Double(sizes), 0.8, "a bend, not another shape")
        // Bundles written before the warp existed still read, without it.
        let old = try JSONEncoder().encode(SegmentationAugmentation())
        var dict = try XCTUnwrap(JSONSerialization.jsonObject(with: old) as? [String: Any])
        dict["warp"] = nil; dict["warpControlMM"] = nil
        let back = try JSONDecoder().decode(SegmentationAugmentation.self, from: JSONSerialization.data(withJSONObject: dict))
        XCTAssertEqual(back.warp ?? 0, 0)
        XCTAssertEqual(back.warpControlMM ?? 48, 48)
    }

    func testSynthHeadsWriteExactMasksAndTissueFractions() throws {
        // A head rendered as `synth heads` renders its training heads (coarser here, for the debug build's
        // speed), written as image, mask and tissue fractions and named in a Decathlon datalist.
        let root = NSTemporaryDirectory() + "heads-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        var r = SeededRandom(seed: 5)
        let renderer = HeadRenderer(phantom: HeadPhantom(seed: 11), intensities: HeadPhantom.intensities("t1", rng: &r))
        let dims = [56, 64, 60]
        let affine = Matrix4(columns: Vector3(3.2, 0, 0), Vector3(0, 3.4, 0), Vector3(0, 0, 3.4), origin: Vector3(-88, -110, -95))
        let (pixels, mask, fractions) = renderer.render(dims: dims, affine: affine, thickness: 4.5, fractions: true)
        let k = HeadPhantom.Tissue.allCases.count
        let t = try XCTUnwrap(fractions)
        XCTAssertEqual(t.count, k * pixels.count)
        let writer = NiftiWriter(gzip: true)
        try writer.write(Volume(dims: dims + [1], voxels: .float32(pixels), affine: affine), to: root + "/image.nii.gz")
        try writer.write(Volume(dims: dims + [1], voxels: .uint8(mask), affine: affine), to: root + "/brain.nii.gz")
        try writer.write(Volume(dims: dims + [k], voxels: .uint8(t), affine: affine), to: root + "/tissues.nii.gz")
        try #"{"labels": {"0": "background", "1": "brain"}, "training": [{"image": "./image.nii.gz", "label": "./brain.nii.gz", "tissues": "./tissues.nii.gz"}]}"#
            .write(toFile: root + "/dataset.json", atomically: true, encoding: .utf8)
        let c = try XCTUnwrap(SegmentationDatalist.load(root + "/dataset.json").training.first)
        XCTAssertEqual(c.tissues, root + "/tissues.nii.gz")
        let n = pixels.count
        var badSum = 0, disagree = 0, brainVoxels = 0
        let brainTissues = HeadPhantom.Tissue.allCases.filter(\.isBrain).map { Int($0.rawValue) }
        for v in 0..<n {
            var sum = 0
            for l in 0..<k { sum += Int(t[l * n + v]) }
            if sum != 255 { badSum += 1 }
            let inBrain = brainTissues.reduce(0) { $0 + Int(t[$1 * n + v]) } > 127
            if inBrain != (mask[v] > 0) { disagree += 1 }
            if mask[v] > 0 { brainVoxels += 1 }
        }
        XCTAssertEqual(badSum, 0, "every voxel's tissue fractions sum to 255")
        XCTAssertGreaterThan(brainVoxels, 20_000)
        // The mask is the tissue at the voxel centre, the fractions are over the voxel: they differ only at edges.
        XCTAssertLessThan(Double(disagree) / Double(brainVoxels), 0.08)

        // Training with fresh appearances: the fractions reach the model grid, and a rendered image is
        // constant inside each pure tissue, with contrasts that change between draws.
        var o = SegmentationTrainOptions(outputDir: root + "/run")
        o.augmentation.resynthesize = 1
        let trainer = SegmentationTrainer(options: o)
        let prepared = try trainer.prepare([c], classes: 2, crop: true)[0]
        XCTAssertEqual(prepared.tissueCount, k)
        XCTAssertEqual(prepared.tissues.count, k * prepared.image.count)
        var orders = Set<[Int]>()
        var rng = SeededRandom(seed: 3)
        for _ in 0..<6 {
            let img = TissueAppearance.render(prepared, scaling: o.preprocessing.intensity, rng: &rng)
            XCTAssertEqual(img.count, prepared.image.count)
            XCTAssertGreaterThanOrEqual(img.min()!, 0)
            XCTAssertLessThanOrEqual(img.max()!, 1)
            var value = [Float?](repeating: nil, count: k), spread: Float = 0
            for v in img.indices {
                for l in 0..<k where prepared.tissues[l * img.count + v] == 255 {
                    if let x = value[l] { spread = max(spread, abs(x - img[v])) } else { value[l] = img[v] }
                }
            }
            XCTAssertLessThan(spread, 1e-4, "one intensity per pure tissue")
            let present = (0..<k).filter { value[$0] != nil && $0 != 0 }
            orders.insert(present.sorted { value[$0]! < value[$1]! })
        }
        XCTAssertGreaterThan(orders.count, 3, "the tissues' order of brightness changes between draws")
        // Patches drawn from fresh appearances keep the labels on the shapes.
        var a = SegmentationAugmentation.none
        a.resynthesize = 1
        var pc = prepared
        pc.indexVoxels()
        let p = a.patch(pc, size: [32, 32, 32], intensity: o.preprocessing.intensity, rng: &rng)
        XCTAssertEqual(p.image.count, 32 * 32 * 32)
        XCTAssertTrue(p.label.contains(1))
    }

    func testIntegerTissueMapsBecomeFractionsOnTheModelGrid() throws {
        // Labels 0/1/2 on a 1 mm grid (a slab of 2 between 0 and 1), read onto a 2 mm grid offset by half a
        // voxel: every model voxel lies halfway between two source voxels along x.
        let dir = NSTemporaryDirectory() + "tissues-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = [16, 4, 4]
        var labels = [UInt8](repeating: 0, count: d.reduce(1, *))
        for z in 0..<4 { for y in 0..<4 { for x in 0..<16 { labels[x + 16 * (y + 4 * z)] = x < 6 ? 0 : (x < 9 ? 2 : 1) } } }
        let affine = Matrix4(columns: Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1), origin: Vector3(0, 0, 0))
        try NiftiWriter(gzip: true).write(Volume(dims: d + [1], voxels: .uint8(labels), affine: affine), to: dir + "/t.nii.gz")
        let grid = VoxelGrid(dims: [8, 2, 2], affine: Matrix4(columns: Vector3(2, 0, 0), Vector3(0, 2, 0), Vector3(0, 0, 2), origin: Vector3(0.5, 0.5, 0.5)))
        let (maps, k) = try SegmentationTrainer.tissueFractions(dir + "/t.nii.gz", grid: grid, threads: 1)
        XCTAssertEqual(k, 3)
        XCTAssertEqual(maps.count, 3 * grid.count)
        // Model voxel x = 2 lies between source x 4 and 5 (label 0), x = 3 between 6 and 7 (label 2), x = 4 between
        // 8 (label 2) and 9 (label 1): half and half.
        let n = grid.count
        XCTAssertEqual(maps[0 * n + 2], 1, accuracy: 1e-5)
        XCTAssertEqual(maps[2 * n + 3], 1, accuracy: 1e-5)
        XCTAssertEqual(maps[2 * n + 4], 0.5, accuracy: 1e-5)
        XCTAssertEqual(maps[1 * n + 4], 0.5, accuracy: 1e-5)
        XCTAssertEqual(maps[1 * n + 5], 1, accuracy: 1e-5)
        var c = PreparedCase(id: "t", dims: grid.dims, spacing: [2, 2, 2], image: [Float](repeating: 0.5, count: n), label: [UInt8](repeating: 0, count: n),
                             foreground: [], background: [])
        c.setTissues(maps, count: k)
        for v in 0..<n { XCTAssertEqual((0..<k).reduce(0) { $0 + Int(c.tissues[$1 * n + v]) }, 255) }
        XCTAssertEqual(c.tissueMeans, [0.5, 0.5, 0.5])
        // A label that is not a small integer names the file.
        try NiftiWriter(gzip: true).write(Volume(dims: d + [1], voxels: .float32(labels.map { Float($0) + 0.5 }), affine: affine), to: dir + "/bad.nii.gz")
        XCTAssertThrowsError(try SegmentationTrainer.tissueFractions(dir + "/bad.nii.gz", grid: grid, threads: 1)) { e in
            XCTAssertTrue("\(e)".contains("bad.nii.gz"), "\(e)")
        }
    }

    /// Debian's mricron-data: Colin27 (a real T1 head with skull, 1 mm) and its BET brain extraction.
    static let colin = "/usr/share/mricron/templates/ch2.nii.gz", colinBET = "/usr/share/mricron/templates/ch2bet.nii.gz"

    func testRealHeadColin27ClassicalStripAndMaskOnItsGrid() throws {
        guard FileManager.default.fileExists(atPath: Self.colin), FileManager.default.fileExists(atPath: Self.colinBET) else {
            throw XCTSkip("Debian's mricron-data is not installed (make deps installs it): no real head to test on")
        }
        let head = try Volume.readNifti(Self.colin)
        XCTAssertEqual(Array(head.dims.prefix(3)), [181, 217, 181])
        let bet = try Volume.readNifti(Self.colinBET).floatValues.map { $0 > 0 }
        // The classical recipe (Otsu, erode, largest component, dilate, fill) on the real head.
        let classical = try MaskRecipe.parse("brain").apply(head)
        let dc = SegmentationMetrics.dice(classical.floatValues.map { $0 > 0 }, bet)
        XCTAssertGreaterThan(dc, 0.9, "classical strip on Colin27 vs BET")
        // The U-Net path on a real head: a tiny model trained on blobs still writes a mask on Colin27's own grid.
        _ = try TestSupport.torchEngine()
        let dir = TestSupport.tempDir()
        let list = try Self.blobDataset(dir, cases: 4)
        var o = Self.tinyOptions(list, out: dir.appendingPathComponent("run").path)
        o.epochs = 1
        _ = try SegmentationTrainer(options: o).run()
        let out = dir.appendingPathComponent("pred").path
        let r = try SegmentationPredictor(bundles: [o.outputDir], inputs: [Self.colin], outputDir: out).run()
        XCTAssertEqual(r.outputs.map(\.name), ["ch2"])
        let mask = try Volume.readNifti(out + "/ch2.nii.gz")
        XCTAssertEqual(mask.dims, head.dims)
        TestSupport.assertAffine(mask.affine, head.affine)
    }

    func testMaskCommandWritesTheRecipeOnTheInputGrid() throws {
        let exe = try TestSupport.executable()
        let dir = TestSupport.tempDir()
        // A CT-like phantom: air around a body at 40 HU with two lungs at -800 HU, as a DICOM series.
        var s = SyntheticSeries()
        s.rows = 48; s.columns = 56; s.slices = 20
        s.pixelSpacing = [4, 4]; s.sliceSpacing = 5
        s.modality = "CT"; s.signed = true; s.bitsStored = 16; s.rescaleIntercept = -1024; s.rescaleSlope = 1
        let cols = s.columns, rows = s.rows
        s.value = { i, j, k in
            let x = Double(i - cols / 2), y = Double(j - rows / 2)
            var hu = -1000.0
            if x * x / 500 + y * y / 300 < 1 { hu = 40 }
            if k > 2 && k < 17 && ((x - 11) * (x - 11) + y * y < 40 || (x + 11) * (x + 11) + y * y < 40) { hu = -800 }
            return Int(hu + 1024)
        }
        try s.write(to: dir.appendingPathComponent("ct").path)
        let out = dir.appendingPathComponent("lungs.nii.gz").path
        let (rc, text) = try TestSupport.run(exe, ["mask", dir.appendingPathComponent("ct").path, "-o", out, "--recipe", "lungs"])
        XCTAssertEqual(rc, 0, text)
        let m = try Volume.readNifti(out)
        XCTAssertEqual(Array(m.dims.prefix(3)), [56, 48, 20])
        TestSupport.assertAffine(m.affine, s.expectedAffine)
        var truth = 0
        for k in 0..<20 { for j in 0..<48 { for i in 0..<56 {
            let x = Double(i - 28), y = Double(j - 24)
            if k > 2 && k < 17 && ((x - 11) * (x - 11) + y * y < 40 || (x + 11) * (x + 11) + y * y < 40) { truth += 1 }
        } } }
        XCTAssertEqual(Double(m.floatValues.filter { $0 > 0 }.count), Double(truth), accuracy: Double(truth) * 0.02, text)
        let (bad, msg) = try TestSupport.run(exe, ["mask", dir.appendingPathComponent("ct").path, "-o", out, "--recipe", "largest:2"])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(msg.contains("starts with a threshold"), msg)
    }
}

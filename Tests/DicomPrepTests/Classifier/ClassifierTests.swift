import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Training, resuming, the model bundle, prediction on every kind of input, evaluation, and the
/// cross-check of saved weights in PyTorch.
final class ClassifierTests: XCTestCase {
    /// A small prepared dataset with manifests, made once.
    static let prepared: (root: URL, out: URL) = {
        let root = TestSupport.tempDir("clf-rsna")
        var s = RSNASynth()
        s.trainCases = 16
        s.testCases = 4
        s.matrix = 32
        s.minSlices = 10
        s.maxSlices = 16
        s.seed = 5
        _ = try! s.write(to: root.path)
        let out = TestSupport.tempDir("clf-prep")
        var o = DatasetOptions(root: root.path, outputDir: out.path, layout: try! DatasetLayout.load(file: TestSupport.repoRoot.appendingPathComponent("manifests/layouts/rsna-miccai-2021.json").path))
        o.sequences = ["T1wCE", "FLAIR"]
        o.slices = 12
        o.size = 24
        _ = try! DatasetConverter(options: o).run()
        _ = try! ManifestSplit.split(datasetFile: out.appendingPathComponent("dataset.json").path, out: out.appendingPathComponent("m").path, valFraction: 0.25, seed: 1, folds: nil, sequence: "T1wCE")
        return (root, out)
    }()

    func options(_ run: URL, epochs: Int) -> TrainOptions {
        let m = Self.prepared.out.appendingPathComponent("m")
        var o = TrainOptions(trainManifest: m.appendingPathComponent("train.json").path, validationManifest: m.appendingPathComponent("val.json").path, outputDir: run.path)
        o.architecture = "resnet-small"
        o.input = [12, 24, 24]
        o.epochs = epochs
        o.batchSize = 4
        o.learningRate = 1e-3
        o.milestones = [2]
        o.augment = Augmentation(flip: true, rotate: true)
        o.threads = 2
        return o
    }

    func testTrainWritesACompleteValidBundle() throws {
        _ = try TestSupport.torchEngine()
        let run = TestSupport.tempDir("run")
        let meta = try Trainer(options: options(run, epochs: 3)).run()
        for f in ["model.pt", "last.pt", "metadata.json", "metrics.jsonl", "curves.svg", "checkpoint/state.json", "checkpoint/optimizer.pt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(f).path), f)
        }
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: run.appendingPathComponent("metadata.json").path).map(\.description), [])
        XCTAssertEqual(meta.input.shape, [1, 12, 24, 24])
        XCTAssertEqual(meta.preprocessing?.size, 24, "the bundle records the dataset's preprocessing")
        XCTAssertEqual(meta.training.learningRate, 1e-3)
        let epochs = try lines.map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)) }
        XCTAssertEqual(epochs.map(\.learningRate), [1e-3, 1e-3, 5e-4], "MultiStepLR at milestone 2")
    }

    func testResumeContinuesExactly() throws {
        _ = try TestSupport.torchEngine()
        let straight = TestSupport.tempDir("straight"), resumed = TestSupport.tempDir("resumed")
        _ = try Trainer(options: options(straight, epochs: 4)).run()
        _ = try Trainer(options: options(resumed, epochs: 2)).run()
        var o = options(resumed, epochs: 4)
        o.resume = true
        _ = try Trainer(options: o).run()
        func losses(_ u: URL) throws -> [Double] {
            try String(contentsOf: u.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
                .map { try JSONDecoder().decode(EpochMetrics.self, from: Data($0.utf8)).trainLoss }
        }
        let a = try losses(straight), b = try losses(resumed)
        XCTAssertEqual(a.count, 4)
        XCTAssertEqual(b.count, 4)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(x))) }
        // Other options refuse to resume.
        var other = options(resumed, epochs: 5)
        other.resume = true
        other.batchSize = 2
        XCTAssertThrowsError(try Trainer(options: other).run())
    }

    func testPredictOnManifestDatasetRawFoldersAndAveraging() throws {
        _ = try TestSupport.torchEngine()
        let run1 = TestSupport.tempDir("p1"), run2 = TestSupport.tempDir("p2")
        _ = try Trainer(options: options(run1, epochs: 2)).run()
        var o2 = options(run2, epochs: 2)
        o2.seed = 9
        _ = try Trainer(options: o2).run()
        let p = Self.prepared
        let fromManifest = try Predictor(bundles: [run1.path], input: p.out.appendingPathComponent("m/val.json").path).run()
        XCTAssertEqual(fromManifest.predictions.count, 4)
        let fromDataset = try Predictor(bundles: [run1.path], input: p.out.appendingPathComponent("dataset.json").path).run()
        XCTAssertEqual(fromDataset.predictions.count, 20)
        // Raw DICOM through the recorded preprocessing gives the same probability as the prepared input.
        let raw = try Predictor(bundles: [run1.path], input: p.root.appendingPathComponent("test").path).run()
        XCTAssertEqual(raw.predictions.count, 4)
        for r in raw.predictions {
            let d = try XCTUnwrap(fromDataset.predictions.first { $0.caseID == r.caseID })
            XCTAssertEqual(r.probability, d.probability, accuracy: 1e-4, r.caseID)
            XCTAssertEqual(r.source, "raw DICOM")
        }
        let oneCase = try Predictor(bundles: [run1.path], input: p.root.appendingPathComponent("test/\(raw.predictions[0].caseID)").path).run()
        XCTAssertEqual(oneCase.predictions.map(\.caseID), [raw.predictions[0].caseID])
        // Two models are averaged.
        let both = try Predictor(bundles: [run1.path, run2.path], input: p.out.appendingPathComponent("m/val.json").path).run()
        for c in both.predictions {
            XCTAssertEqual(c.models.count, 2)
            XCTAssertEqual(c.probability, c.models.values.reduce(0, +) / 2, accuracy: 1e-12)
        }
        let csv = Predictor.csv(both)
        XCTAssertTrue(csv.hasPrefix("BraTS21ID,MGMT_value\n"))
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(JSONValue.parse(JSONOutput.encode(both))).map(\.description), [])
    }

    /// MONAI reads the manifests: load_decathlon_datalist and LoadImage on the model inputs.
    func testMONAIReadsTheDatalists() throws {
        let (rc, _) = try TestSupport.run(TestSupport.python, ["-c", "import monai"])
        guard rc == 0 else { throw XCTSkip("MONAI is not installed (make monai-env)") }
        let m = Self.prepared.out.appendingPathComponent("m")
        let code = """
        import sys
        from monai.data import load_decathlon_datalist
        from monai.transforms import LoadImage
        tr = load_decathlon_datalist(sys.argv[1], is_segmentation=False, data_list_key="training")
        va = load_decathlon_datalist(sys.argv[2], is_segmentation=False, data_list_key="validation")
        img = LoadImage(image_only=True)(tr[0]["image"])
        print(len(tr), len(va), tuple(img.shape), int(tr[0]["label"]))
        """
        let (prc, out) = try TestSupport.run(TestSupport.python, ["-c", code, m.appendingPathComponent("train.json").path, m.appendingPathComponent("val.json").path])
        XCTAssertEqual(prc, 0, out)
        let parts = out.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(parts.hasPrefix("12 4 (24, 24, 12)"), parts)
    }

    /// `train --folds` trains every fold of `manifest split --folds K` in one command.
    func testKFoldTrainingFromTheCommandLine() throws {
        _ = try TestSupport.torchEngine()
        let exe = try TestSupport.executable()
        let p = Self.prepared
        let folds = TestSupport.tempDir("folds")
        _ = try ManifestSplit.split(datasetFile: p.out.appendingPathComponent("dataset.json").path, out: folds.path, valFraction: 0.2, seed: 3, folds: 2, sequence: "T1wCE")
        let run = TestSupport.tempDir("kfold")
        let (rc, text) = try TestSupport.run(exe, ["train", "--folds", folds.path, "-o", run.path, "--arch", "resnet-small", "--input", "12x24x24",
                                                   "--epochs", "1", "--batch-size", "4", "--threads", "2"])
        XCTAssertEqual(rc, 0, text)
        for k in 0..<2 { XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("fold-\(k)/model.pt").path)) }
        let summary = try JSONValue.parse(file: run.appendingPathComponent("folds.json").path)
        XCTAssertEqual(summary["folds"]?.arrayValue?.count, 2)
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: run.appendingPathComponent("folds.json").path).map(\.description), [])
        // Both folds predict together.
        let out = run.appendingPathComponent("p.csv").path
        let (prc, ptext) = try TestSupport.run(exe, ["predict", "--model", run.appendingPathComponent("fold-0").path, "--model", run.appendingPathComponent("fold-1").path,
                                                     p.root.appendingPathComponent("test").path, "-o", out])
        XCTAssertEqual(prc, 0, ptext)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count, 5)
    }

    func testMetricsAndEvaluate() throws {
        XCTAssertEqual(Metrics.auroc(scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1]), 0.75)
        XCTAssertEqual(Metrics.auroc(scores: [0.5, 0.5], labels: [0, 1]), 0.5, "ties count half")
        XCTAssertNil(Metrics.auroc(scores: [0.5], labels: [1]))
        XCTAssertEqual(Metrics.bceWithLogits(logits: [0], labels: [1]), log(2), accuracy: 1e-12)
        let dir = TestSupport.tempDir()
        try "BraTS21ID,MGMT_value\n00012,0.9\n00013,0.2\n00014,0.6\n00099,0.5\n".write(to: dir.appendingPathComponent("p.csv"), atomically: true, encoding: .utf8)
        try "BraTS21ID,MGMT_value\n12,1\n13,0\n14,0\n".write(to: dir.appendingPathComponent("l.csv"), atomically: true, encoding: .utf8)
        let r = try EvaluationReport.evaluate(predictions: dir.appendingPathComponent("p.csv").path, labels: dir.appendingPathComponent("l.csv").path)
        XCTAssertEqual(r.metrics.cases, 3)
        XCTAssertEqual(r.metrics.auroc, 1)
        XCTAssertEqual(r.metrics.truePositives, 1)
        XCTAssertEqual(r.metrics.falsePositives, 1)
        XCTAssertEqual(r.metrics.specificity, 0.5)
        XCTAssertEqual(r.unmatched, ["00099"])
    }

    /// The saved state dict loads with strict=True into a PyTorch (and, when installed, MONAI) ResNet and
    /// gives the same logits.
    func testWeightsLoadInPyTorchWithTheSameLogits() throws {
        let e = try TestSupport.torchEngine()
        let (rc, _) = try TestSupport.run(TestSupport.python, ["-c", "import torch, numpy"])
        guard rc == 0 else { throw XCTSkip("/usr/bin/python3 cannot import torch (Debian python3-torch)") }
        for (arch, shape) in [("resnet10", [16, 32, 32]), ("resnet-small", [12, 24, 24])] {
            e.manualSeed(3)
            let m = try e.makeModel(architecture: arch)
            // Train one step so BatchNorm statistics are not the initial ones.
            try m.configureAdam(learningRate: 1e-3)
            var rng = SeededRandom(seed: 11)
            let n = shape.reduce(1, *)
            let x = (0..<(2 * n)).map { _ in Float(rng.unit()) }
            _ = try m.trainStep(x, targets: [0, 1], batch: 2, shape: [1] + shape)
            let ours = try m.predict(x, batch: 2, shape: [1] + shape)
            let dir = TestSupport.tempDir(arch)
            try m.saveWeights(to: dir.appendingPathComponent("model.pt").path)
            try x.withUnsafeBytes { try Data($0).write(to: dir.appendingPathComponent("x.f32")) }
            let script = TestSupport.repoRoot.appendingPathComponent("Tests/python/resnet_crosscheck.py").path
            let (prc, out) = try TestSupport.run(TestSupport.python, [script, arch, dir.appendingPathComponent("model.pt").path, dir.appendingPathComponent("x.f32").path] + shape.map(String.init))
            XCTAssertEqual(prc, 0, out)
            let doc = try JSONValue.parse(String(out.split(separator: "\n").last ?? ""))
            if arch == "resnet10" { XCTAssertEqual(doc["keys"]?.numberValue, 77, "MONAI's resnet10 state dict has 77 entries") }
            let theirs = try XCTUnwrap(doc["torch"]?.arrayValue?.compactMap(\.numberValue))
            XCTAssertEqual(theirs.count, 2)
            for (a, b) in zip(ours, theirs) { XCTAssertEqual(Double(a), b, accuracy: 1e-4, arch) }
            if let monai = doc["monai"]?.arrayValue?.compactMap(\.numberValue) {
                for (a, b) in zip(ours, monai) { XCTAssertEqual(Double(a), b, accuracy: 1e-4, "MONAI \(arch)") }
            }
        }
    }
}

#if canImport(FoundationXML)
import FoundationXML
#endif

/// curves.svg: well-formed SVG, every series drawn, and the legends beside the plot areas, not over them.
final class CurvesPlotTests: XCTestCase {
    final class Collect: NSObject, XMLParserDelegate {
        var elements: [(String, [String: String])] = []
        var texts: [String] = []
        func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append((e, attributes))
        }
        func parser(_ p: XMLParser, foundCharacters s: String) { texts.append(s) }
    }

    func testSVGHasAxesSeriesAndALegendOutsideThePlots() throws {
        let h = (1...4).map { e in
            EpochMetrics(epoch: e, learningRate: 1e-4, trainLoss: 0.9 / Double(e), validationLoss: 1.0 / Double(e), validationAUROC: 0.5 + 0.1 * Double(e),
                         validationAccuracy: 0.6, samplesPerSecond: 1, seconds: 1)
        }
        let svg = CurvesPlot.svg(h)
        let parser = XMLParser(data: Data(svg.utf8))
        let c = Collect()
        parser.delegate = c
        XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        let lines = c.elements.filter { $0.0 == "polyline" }
        XCTAssertEqual(lines.count, 4)
        for l in lines { XCTAssertEqual(l.1["points"]?.split(separator: " ").count, 4) }
        let text = c.texts.joined(separator: "|")
        for label in ["training loss", "validation loss", "validation AUROC", "validation accuracy", "epoch", "loss", "AUROC / accuracy"] {
            XCTAssertTrue(text.contains(label), label)
        }
        // Plot areas are the two framed rectangles; every data point is inside one, no legend text is.
        let frames = c.elements.filter { $0.0 == "rect" && $0.1["stroke"] != nil }.map { r -> (Double, Double, Double, Double) in
            (Double(r.1["x"]!)!, Double(r.1["y"]!)!, Double(r.1["width"]!)!, Double(r.1["height"]!)!)
        }
        XCTAssertEqual(frames.count, 2)
        func inside(_ x: Double, _ y: Double) -> Bool { frames.contains { x >= $0.0 && x <= $0.0 + $0.2 && y >= $0.1 && y <= $0.1 + $0.3 } }
        for p in c.elements where p.0 == "circle" { XCTAssertTrue(inside(Double(p.1["cx"]!)!, Double(p.1["cy"]!)!)) }
        for t in c.elements where t.0 == "text" && t.1["text-anchor"] == nil { XCTAssertFalse(inside(Double(t.1["x"]!)!, Double(t.1["y"]!)!), "legend over the data") }
    }
}

import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Fake PHI planted in every identifying field (and typed into a series description) never reaches an
/// output byte of convert, dataset convert, manifest split or QC, unless --keep-phi.
final class PrivacyTests: XCTestCase {
    static let identity: [Tag: String] = [
        .patientName: "ZAPHOD^BEEBLEBROX", .patientID: "PID-4242-XYZ", .patientBirthDate: "19420511", .accessionNumber: "ACC-88231",
        .institutionName: "Magrathea General", .referringPhysicianName: "SLARTIBARTFAST^DR", .stationName: "HEARTOFGOLD1",
        .studyDate: "20211024", .seriesDate: "20211025", .acquisitionDate: "20211026", .studyID: "STUDY-99417",
        .studyTime: "101112", .acquisitionDateTime: "20211026101112",
    ]
    static let secrets = ["ZAPHOD", "BEEBLEBROX", "PID-4242", "19420511", "ACC-88231", "Magrathea", "SLARTIBARTFAST", "HEARTOFGOLD",
                          "20211024", "20211025", "20211026", "STUDY-99417"]

    func testConvertDatasetManifestsAndQCCarryNoIdentifiers() throws {
        let root = TestSupport.tempDir("phi")
        var uids: [String] = []
        for (k, id) in ["00011", "00012", "00013", "00014"].enumerated() {
            for (q, seq) in ["FLAIR", "T1wCE"].enumerated() {
                var s = SyntheticSeries()
                s.identity = Self.identity
                s.seriesNumber = q + 1
                // A site typed the patient's name into the description.
                s.seriesDescription = "\(seq) zaphod^beeblebrox"
                s.seed = UInt64(k * 10 + q)
                s.value = RSNASynth.defaultValue(positive: k % 2 == 0)
                let paths = try s.write(to: root.appendingPathComponent("train/\(id)/\(seq)").path)
                let inst = try InstanceParser.parse(path: paths[0])
                uids += [inst.studyInstanceUID, inst.seriesInstanceUID, inst.sopInstanceUID]
            }
        }
        try "BraTS21ID,MGMT_value\n11,1\n12,0\n13,1\n14,0\n".write(to: root.appendingPathComponent("train_labels.csv"), atomically: true, encoding: .utf8)
        let (conv, convOut) = try TestSupport.convert([root.path])
        XCTAssertEqual(conv.outputs.count, 8)
        try TestSupport.assertNoSecret(in: convOut, Self.secrets + uids)

        let out = TestSupport.tempDir("phi-ds")
        var o = DatasetOptions(root: root.path, outputDir: out.path, layout: try DatasetLayout.load(file: TestSupport.repoRoot.appendingPathComponent("manifests/layouts/rsna-miccai-2021.json").path))
        o.slices = 8
        o.size = 16
        o.qc = true
        o.groupSize = 4
        let m = try DatasetConverter(options: o).run()
        XCTAssertEqual(m.counts.cases, 4)
        _ = try ManifestSplit.split(datasetFile: out.appendingPathComponent("dataset.json").path, out: out.appendingPathComponent("m").path, valFraction: 0.5, seed: 1, folds: nil, sequence: "T1wCE")
        try TestSupport.assertNoSecret(in: out, Self.secrets + uids)
        XCTAssertEqual(m.cases.map(\.id), ["00011", "00012", "00013", "00014"], "cases are named by the dataset's own ids")

        let (kept, keptOut) = try TestSupport.convert([root.path]) { $0.keepPHI = true }
        let side = try String(contentsOfFile: kept.outputs[0].sidecar, encoding: .utf8)
        XCTAssertTrue(side.contains("PID-4242-XYZ"), "--keep-phi keeps them")
        _ = keptOut
    }
}

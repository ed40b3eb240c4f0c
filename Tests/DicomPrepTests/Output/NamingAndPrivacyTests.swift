import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

final class NamingAndPrivacyTests: XCTestCase {
    func testSanitize() {
        XCTAssertEqual(OutputNamer.sanitize("../../etc/passwd"), "etc_passwd")
        XCTAssertEqual(OutputNamer.sanitize("a/b\\c:*?"), "a_b_c")
        XCTAssertEqual(OutputNamer.sanitize("$(rm -rf ~); %s"), "rm_-rf_s")
        XCTAssertEqual(OutputNamer.sanitize(".."), "series")
        XCTAssertEqual(OutputNamer.sanitize(""), "series")
        XCTAssertEqual(OutputNamer.sanitize("T1w MPRAGE"), "T1w_MPRAGE")
    }

    func testHostileDescriptionsStayInsideTheOutputAndCollisionsAreNumbered() throws {
        let dir = TestSupport.tempDir()
        for (n, desc) in ["../../etc/passwd", "a/b\\c:*?", "../../etc/passwd"].enumerated() {
            var s = SyntheticSeries()
            s.seriesNumber = 7
            s.seed = UInt64(n + 10)
            s.seriesDescription = desc
            s.fileNamePattern = "s\(n)-{n}"
            try s.write(to: dir.path)
        }
        let (r, out) = try TestSupport.convert([dir.path])
        XCTAssertEqual(r.outputs.count, 3)
        let names = r.outputs.map { URL(fileURLWithPath: $0.nifti).lastPathComponent }.sorted()
        XCTAssertEqual(names, ["7_a_b_c.nii.gz", "7_etc_passwd.nii.gz", "7_etc_passwd_2.nii.gz"])
        for o in r.outputs {
            XCTAssertTrue(URL(fileURLWithPath: o.nifti).standardized.path.hasPrefix(out.standardized.path))
        }
    }

    func testOutputMirrorsInputFolders() throws {
        let dir = TestSupport.tempDir()
        for (k, seq) in ["FLAIR", "T1w"].enumerated() {
            var s = SyntheticSeries()
            s.seriesNumber = k + 1
            s.seriesDescription = seq
            try s.write(to: dir.appendingPathComponent("train/00012/\(seq)").path)
        }
        let (r, out) = try TestSupport.convert([dir.path])
        let rel = r.outputs.map { String($0.nifti.dropFirst(out.path.count + 1)) }.sorted()
        XCTAssertEqual(rel, ["train/00012/FLAIR/1_FLAIR.nii.gz", "train/00012/T1w/2_T1w.nii.gz"])
        let (flat, out2) = try TestSupport.convert([dir.path]) { $0.mirrorFolders = false }
        XCTAssertEqual(flat.outputs.map { String($0.nifti.dropFirst(out2.path.count + 1)) }.sorted(), ["1_FLAIR.nii.gz", "2_T1w.nii.gz"])
    }

    func testTemplatesWithIdentifiersNeedKeepPHI() {
        XCTAssertThrowsError(try OutputNamer(template: "{PatientName}_{SeriesNumber}"))
        XCTAssertNoThrow(try OutputNamer(template: "{PatientName}_{SeriesNumber}", keepPHI: true))
        XCTAssertThrowsError(try OutputNamer(template: "{Nope}"))
    }

    func testNoIdentifierReachesAnyOutputByDefault() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.identity = [.patientName: "DOE^JANE", .patientID: "PID-934211", .patientBirthDate: "19610203",
                      .accessionNumber: "ACC77123", .institutionName: "St Elsewhere Hospital", .studyDate: "20190417",
                      .referringPhysicianName: "HOUSE^GREG"]
        try s.write(to: dir.path)
        let uids = try InstanceParser.parse(path: dir.appendingPathComponent("Image-1.dcm").path)
        let secrets = ["DOE", "JANE", "PID-934211", "19610203", "ACC77123", "Elsewhere", "20190417", "HOUSE",
                       uids.studyInstanceUID, uids.seriesInstanceUID, uids.sopInstanceUID]
        let (r, out) = try TestSupport.convert([dir.path])
        XCTAssertEqual(r.outputs.count, 1)
        try TestSupport.assertNoSecret(in: out, secrets)
        // --keep-phi is the way to keep them.
        let (kept, _) = try TestSupport.convert([dir.path]) { $0.keepPHI = true }
        let side = try String(contentsOfFile: kept.outputs[0].sidecar, encoding: .utf8)
        XCTAssertTrue(side.contains("PID-934211"))
    }
}

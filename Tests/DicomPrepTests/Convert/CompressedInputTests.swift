import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepSynth

/// Files stored gzip-compressed one by one (`.dcm.gz`, as some corpora keep them) convert exactly as
/// their plain copies do; broken or non-DICOM .gz files are named with the reason.
final class CompressedInputTests: XCTestCase {
    func gzipCopy(_ from: String, to: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: from)))
        let gz = try bytes.withUnsafeBytes { b in try catching { () throws(DicomPrepError) in try Gzip.compress(b, level: 6, threads: 1) }.get() }
        try Data(gz).write(to: URL(fileURLWithPath: to))
    }

    func testDcmGzConvertsLikeThePlainFiles() throws {
        let plain = TestSupport.tempDir("plain"), packed = TestSupport.tempDir("packed")
        var s = SyntheticSeries()
        s.slices = 6
        for p in try s.write(to: plain.path) {
            try gzipCopy(p, to: packed.appendingPathComponent(URL(fileURLWithPath: p).lastPathComponent + ".gz").path)
        }
        let (a, _) = try TestSupport.convert([plain.path])
        let (b, _) = try TestSupport.convert([packed.path])
        XCTAssertEqual(b.exitStatus, 0, "\(b.skipped)")
        XCTAssertEqual(b.counts.used, 6)
        let va = try TestSupport.onlyVolume(a), vb = try TestSupport.onlyVolume(b)
        XCTAssertEqual(va.values, vb.values)
        TestSupport.assertAffine(va.sform, vb.sform, accuracy: 1e-9)
    }

    func testRealMosaicAsDcmGz() throws {
        let root = TestSupport.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/realscan/dcm_qa_mosaic/In/ep2d_Asc_2")
        guard FileManager.default.fileExists(atPath: root.path) else { throw XCTSkip("../shared/fixtures/realscan is not present") }
        let packed = TestSupport.tempDir("mosaic")
        for f in try FileManager.default.contentsOfDirectory(atPath: root.path) {
            try gzipCopy(root.appendingPathComponent(f).path, to: packed.appendingPathComponent(f + ".gz").path)
        }
        let (a, _) = try TestSupport.convert([root.path])
        let (b, _) = try TestSupport.convert([packed.path])
        let va = try TestSupport.onlyVolume(a), vb = try TestSupport.onlyVolume(b)
        XCTAssertEqual(vb.dims, [64, 64, 36, 6])
        XCTAssertEqual(va.values, vb.values)
        let sa = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: a.outputs[0].sidecar)))
        let sb = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: b.outputs[0].sidecar)))
        XCTAssertEqual(sa.SliceTiming, sb.SliceTiming)
    }

    func testBrokenAndNonDicomGzAreNamed() throws {
        let dir = TestSupport.tempDir("badgz")
        try SyntheticSeries().write(to: dir.appendingPathComponent("ok").path)
        let one = try SyntheticSeries().write(to: TestSupport.tempDir("src").path)[0]
        try gzipCopy(one, to: dir.appendingPathComponent("cut.dcm.gz").path)
        let cut = try Data(contentsOf: dir.appendingPathComponent("cut.dcm.gz"))
        try cut.prefix(cut.count / 2).write(to: dir.appendingPathComponent("cut.dcm.gz"))
        let text = TestSupport.tempDir("t").appendingPathComponent("notes.txt")
        try "not an image\n".write(to: text, atomically: true, encoding: .utf8)
        try gzipCopy(text.path, to: dir.appendingPathComponent("notes.txt.gz").path)
        let (r, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(r.outputs.count, 1)
        let reasons = Dictionary(r.skipped.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertNotNil(reasons["cut.dcm.gz"], "\(r.skipped)")
        XCTAssertTrue(reasons["notes.txt.gz"]?.reason.contains("gzip-compressed, and what it holds is text") == true, "\(reasons["notes.txt.gz"]?.reason ?? "-")")
        XCTAssertEqual(reasons["notes.txt.gz"]?.notDicom, true)
        XCTAssertEqual(r.counts.used + r.counts.skipped, r.counts.scanned)
    }
}

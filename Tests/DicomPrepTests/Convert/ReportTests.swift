import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Every input is accounted for; bad files are named with a reason and the rest goes on.
final class ReportTests: XCTestCase {
    func testBadFilesAreSkippedByNameAndGoodSeriesStillConverted() throws {
        let dir = TestSupport.tempDir()
        let s = SyntheticSeries()
        try s.write(to: dir.appendingPathComponent("good").path)
        let fm = FileManager.default
        XCTAssertTrue(fm.createFile(atPath: dir.appendingPathComponent("empty.dcm").path, contents: Data()))
        XCTAssertTrue(fm.createFile(atPath: dir.appendingPathComponent("notes.txt").path, contents: Data("hello, not DICOM\n".utf8)))
        var rng = SeededRandom(seed: 3)
        XCTAssertTrue(fm.createFile(atPath: dir.appendingPathComponent("random.dcm").path, contents: Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) })))
        // Truncated copy of a good file.
        let good = try Data(contentsOf: dir.appendingPathComponent("good/Image-1.dcm"))
        XCTAssertTrue(fm.createFile(atPath: dir.appendingPathComponent("truncated.dcm").path, contents: good.prefix(good.count - 300)))
        if let fixtures = TestSupport.fixtures {
            for f in ["test-SR.dcm", "rtplan.dcm", "MR_truncated.dcm"] {
                try fm.copyItem(at: fixtures.appendingPathComponent(f), to: dir.appendingPathComponent(f))
            }
        }
        let (r, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(r.outputs.count, 1)
        XCTAssertEqual(r.exitStatus, 1)
        let skipped = Dictionary(r.skipped.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason) }, uniquingKeysWith: { a, _ in a })
        for name in ["empty.dcm", "notes.txt", "random.dcm", "truncated.dcm"] {
            XCTAssertNotNil(skipped[name], "\(name) must be reported: \(skipped)")
        }
        if TestSupport.fixtures != nil {
            XCTAssertTrue(skipped["test-SR.dcm"]?.contains("structured report") ?? false, "\(skipped)")
            XCTAssertTrue(skipped["rtplan.dcm"]?.contains("RT plan") ?? false)
            XCTAssertTrue(skipped["MR_truncated.dcm"]?.contains("truncated") ?? false, "\(skipped["MR_truncated.dcm"] ?? "")")
        }
        XCTAssertEqual(r.counts.used + r.counts.duplicate + r.counts.skipped, r.counts.scanned)
        XCTAssertEqual(r.counts.used, s.slices)
        // The report on disk says the same.
        let onDisk = try JSONDecoder().decode(ConversionReport.self, from: Data(contentsOf: URL(fileURLWithPath: r.outputDir + "/dicomprep-report.json")))
        XCTAssertEqual(onDisk.counts, r.counts)
        _ = s
    }

    func testNothingConvertibleIsExitStatusTwo() throws {
        let dir = TestSupport.tempDir()
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent("x.txt").path, contents: Data("no".utf8)))
        let (r, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(r.exitStatus, 2)
        XCTAssertEqual(r.counts.skipped, 1)
    }

    func testSymlinkLoopIsReportedNotFollowedForever() throws {
        let dir = TestSupport.tempDir()
        try SyntheticSeries().write(to: dir.appendingPathComponent("a").path)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("a/loop").path, withDestinationPath: dir.path)
        let (r, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(r.outputs.count, 1)
        XCTAssertTrue(r.skipped.contains { $0.reason.contains("loop") }, "\(r.skipped)")
    }

    func testResumeLeavesCompleteOutputsAndRedoesMissingOnes() throws {
        let dir = TestSupport.tempDir()
        var a = SyntheticSeries()
        a.seriesNumber = 1
        try a.write(to: dir.appendingPathComponent("a").path)
        var b = SyntheticSeries()
        b.seriesNumber = 2
        try b.write(to: dir.appendingPathComponent("b").path)
        let out = TestSupport.tempDir("out")
        var o = ConvertOptions(inputs: [dir.path], outputDir: out.path)
        o.resume = true
        let first = try Converter(options: o).run()
        XCTAssertEqual(first.outputs.filter(\.resumed).count, 0)
        try FileManager.default.removeItem(atPath: first.outputs[1].nifti)
        let second = try Converter(options: o).run()
        XCTAssertEqual(second.outputs.filter(\.resumed).count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.outputs[1].nifti))
        // No temporary files are left behind.
        let leftovers = FileManager.default.enumerator(atPath: out.path)!.compactMap { $0 as? String }.filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }
}

import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// The executable's exit status and messages, run as a user would.
final class CommandLineTests: XCTestCase {
    var exe: String { get throws { try TestSupport.executable() } }

    func testExitStatuses() throws {
        let exe = try exe
        let dir = TestSupport.tempDir()
        try SyntheticSeries().write(to: dir.appendingPathComponent("ok").path)
        let out = TestSupport.tempDir("out")
        var (rc, text) = try TestSupport.run(exe, ["convert", dir.path, "-o", out.path, "-q"])
        XCTAssertEqual(rc, 0, text)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent("bad; $(rm -rf x) %s.dcm").path, contents: Data("junk".utf8)))
        (rc, text) = try TestSupport.run(exe, ["convert", dir.path, "-o", TestSupport.tempDir("out2").path, "-q"])
        XCTAssertEqual(rc, 1)
        XCTAssertTrue(text.contains("bad; $(rm -rf x) %s.dcm"), "stderr must name the file: \(text)")
        (rc, text) = try TestSupport.run(exe, ["convert", dir.appendingPathComponent("bad; $(rm -rf x) %s.dcm").path, "-o", TestSupport.tempDir("out3").path])
        XCTAssertEqual(rc, 2, "nothing convertible")
        (rc, text) = try TestSupport.run(exe, ["convert", dir.path, "-o", out.path, "--reorient", "XYZ"])
        XCTAssertEqual(rc, 64, "argument parser's usage error: \(text)")
        XCTAssertTrue(text.contains("'XYZ' is invalid for '--reorient"), text)
        (rc, text) = try TestSupport.run(exe, ["convert", dir.path, "-o", out.path, "--dtype", "complex"])
        XCTAssertEqual(rc, 64, "argument parser's usage error: \(text)")
    }

    func testInspectJSONAndValidate() throws {
        let exe = try exe
        let dir = TestSupport.tempDir()
        try SyntheticSeries().write(to: dir.path)
        let (rc, text) = try TestSupport.run(exe, ["inspect", dir.path, "--json"])
        XCTAssertEqual(rc, 0)
        let doc = try JSONValue.parse(text)
        XCTAssertEqual(doc["series"]?.arrayValue?.count, 1)
        let file = dir.appendingPathComponent("inspect.json").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let (vrc, vtext) = try TestSupport.run(exe, ["validate", file, "--schemas", TestSupport.repoRoot.appendingPathComponent("schemas").path])
        XCTAssertEqual(vrc, 0, vtext)
        try #"{"$schema": "inspect-report.schema.json", "series": 3}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let (brc, btext) = try TestSupport.run(exe, ["validate", file, "--schemas", TestSupport.repoRoot.appendingPathComponent("schemas").path])
        XCTAssertEqual(brc, 1)
        XCTAssertTrue(btext.contains("/series"), btext)
    }
}

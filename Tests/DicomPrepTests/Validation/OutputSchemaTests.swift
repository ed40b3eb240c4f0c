import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Every JSON file conversion writes validates against its schema in schemas/.
final class OutputSchemaTests: XCTestCase {
    var store: SchemaStore!

    override func setUpWithError() throws {
        store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
    }

    func testSidecarsReportsAndInspectValidate() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.missing = [3]
        s.windowCenter = 40
        s.windowWidth = 400
        try s.write(to: dir.appendingPathComponent("a").path)
        var m = SyntheticSeries()
        m.multiframe = true
        m.seriesNumber = 9
        try m.write(to: dir.appendingPathComponent("b").path)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir.appendingPathComponent("junk.txt").path, contents: Data("x".utf8)))
        for keep in [false, true] {
            let (r, out) = try TestSupport.convert([dir.path]) { $0.keepPHI = keep; $0.reorient = keep ? "RAS" : nil }
            XCTAssertEqual(r.outputs.count, 2)
            for o in r.outputs {
                XCTAssertEqual(try store.validate(file: o.sidecar).map(\.description), [], o.sidecar)
            }
            XCTAssertEqual(try store.validate(file: out.appendingPathComponent("dicomprep-report.json").path).map(\.description), [])
        }
        let inspect = Inspector.inspect([dir.path])
        let doc = try JSONValue.parse(JSONOutput.encode(inspect))
        XCTAssertEqual(try store.validate(doc).map(\.description), [])
    }

    func testAViolationIsNamedByItsPointer() throws {
        let doc = try JSONValue.parse(#"{"$schema": "conversion-report.schema.json", "tool": "dicomprep", "version": "1", "inputs": [], "outputDir": "o", "filesScanned": -1, "outputs": [], "duplicates": [], "skipped": [{"path": "x"}], "failedSeries": [], "counts": {"scanned": 0, "used": 0, "duplicate": 0, "skipped": 0, "volumes": 0}, "exitStatus": 3}"#)
        let v = try store.validate(doc).map(\.description)
        XCTAssertTrue(v.contains { $0.hasPrefix("/inputs") }, "\(v)")
        XCTAssertTrue(v.contains { $0.hasPrefix("/filesScanned") }, "\(v)")
        XCTAssertTrue(v.contains { $0.hasPrefix("/skipped/0") && $0.contains("reason") }, "\(v)")
        XCTAssertTrue(v.contains { $0.hasPrefix("/exitStatus") }, "\(v)")
    }
}

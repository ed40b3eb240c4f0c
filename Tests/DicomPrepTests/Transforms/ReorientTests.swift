import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

final class ReorientTests: XCTestCase {
    func testReorientKeepsEveryVoxelAtItsWorldPosition() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.rowDirection = Vector3(0, 1, 0)
        s.columnDirection = Vector3(0, 0, -1)
        try s.write(to: dir.path)
        let (orig, _) = try TestSupport.convert([dir.path])
        let a = try TestSupport.onlyVolume(orig)
        XCTAssertEqual(a.sform.axisCodes, "PIR")
        for code in ["RAS", "LAS", "LPS"] {
            let (r, _) = try TestSupport.convert([dir.path]) { $0.reorient = code }
            let b = try TestSupport.onlyVolume(r)
            XCTAssertEqual(b.sform.axisCodes, code)
            let inv = try XCTUnwrap(b.sform.inverse)
            for (i, j, k) in [(0, 0, 0), (3, 5, 2), (a.dims[0] - 1, a.dims[1] - 1, a.dims[2] - 1)] {
                let w = a.sform.apply(Vector3(Double(i), Double(j), Double(k)))
                let q = inv.apply(w)
                let (bi, bj, bk) = (Int(q.x.rounded()), Int(q.y.rounded()), Int(q.z.rounded()))
                XCTAssertEqual(q.x, Double(bi), accuracy: 1e-6)
                XCTAssertEqual(a.values[(k * a.dims[1] + j) * a.dims[0] + i], b.values[(bk * b.dims[1] + bj) * b.dims[0] + bi], code)
            }
        }
    }

    func testBadCodeIsAUsageError() {
        XCTAssertThrowsError(try Reorient("RAR"))
        XCTAssertThrowsError(try Reorient("XYZ"))
    }
}

import Foundation
import XCTest
@testable import DicomPrep

/// dcm2niix (the reference converter) and dicomprep give the same voxel-to-world mapping and values.
final class Dcm2niixComparisonTests: XCTestCase {
    func compare(_ s: SyntheticSeries, _ name: String) throws {
        guard let exe = TestSupport.which("dcm2niix") else { throw XCTSkip("dcm2niix is not installed") }
        let dir = TestSupport.tempDir(name)
        try s.write(to: dir.path)
        let (r, _) = try TestSupport.convert([dir.path])
        let ours = try TestSupport.onlyVolume(r)
        let ref = TestSupport.tempDir("d2n")
        let (rc, out) = try TestSupport.run(exe, ["-z", "n", "-f", "ref", "-o", ref.path, dir.path])
        XCTAssertEqual(rc, 0, out)
        let theirs = try NiftiIO.read(ref.appendingPathComponent("ref.nii").path)
        XCTAssertEqual(ours.dims.reduce(1, *), theirs.dims.reduce(1, *), name)
        let inv = try XCTUnwrap(theirs.sform.inverse)
        let a = ours.scaledValues, b = theirs.scaledValues
        let (nx, ny, nz) = (ours.dims[0], ours.dims[1], ours.dims[2])
        let (mx, my) = (theirs.dims[0], theirs.dims[1])
        var mismatches = 0
        for k in 0..<nz { for j in 0..<ny { for i in 0..<nx {
            let world = ours.sform.apply(Vector3(Double(i), Double(j), Double(k)))
            let q = inv.apply(world)
            let (ti, tj, tk) = (q.x.rounded(), q.y.rounded(), q.z.rounded())
            // The same voxel centre in both files, to a hundredth of a voxel.
            if abs(q.x - ti) > 0.01 || abs(q.y - tj) > 0.01 || abs(q.z - tk) > 0.01 {
                XCTFail("\(name): voxel (\(i),\(j),\(k)) maps to \(q.array) in dcm2niix's grid")
                return
            }
            let idx = (Int(tk) * my + Int(tj)) * mx + Int(ti)
            if abs(a[(k * ny + j) * nx + i] - b[idx]) > 1e-3 { mismatches += 1 }
        } } }
        XCTAssertEqual(mismatches, 0, "\(name): voxel values differ from dcm2niix's")
    }

    func testPlanesAgreeWithDcm2niix() throws {
        var s = SyntheticSeries()
        try compare(s, "axial")
        s.rowDirection = Vector3(0, 1, 0); s.columnDirection = Vector3(0, 0, -1)
        try compare(s, "sagittal")
        s.rowDirection = Vector3(1, 0, 0); s.columnDirection = Vector3(0, 0, -1)
        try compare(s, "coronal")
        s.rowDirection = Vector3(0.8660254037844387, 0.5, 0)
        s.columnDirection = Vector3(-0.35355339059327373, 0.6123724356957945, -0.7071067811865476)
        try compare(s, "oblique")
    }

    func testReversedShuffledRescaledAndMultiframeAgreeWithDcm2niix() throws {
        var s = SyntheticSeries()
        s.instanceNumbers = .reversed
        s.shuffleNames = true
        s.modality = "CT"
        s.rescaleIntercept = -1024
        s.rescaleSlope = 1
        try compare(s, "ct")
        var m = SyntheticSeries()
        m.multiframe = true
        m.rowDirection = Vector3(0, 1, 0); m.columnDirection = Vector3(0, 0, -1)
        try compare(m, "multiframe")
    }
}

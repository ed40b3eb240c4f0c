import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

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
        let c = VolumeComparison.compare(ours, theirs)
        XCTAssertEqual(c.misplaced, 0, "\(name): voxel centres do not coincide with dcm2niix's")
        XCTAssertEqual(c.differing, 0, "\(name): voxel values differ from dcm2niix's")
        XCTAssertEqual(c.compared, ours.dims.reduce(1, *), name)
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

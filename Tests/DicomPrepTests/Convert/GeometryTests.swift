import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Synthetic series with known geometry convert to exactly the expected affine and voxels.
final class GeometryTests: XCTestCase {
    func planes() -> [(String, Vector3, Vector3)] {
        [("axial", Vector3(1, 0, 0), Vector3(0, 1, 0)),
         ("sagittal", Vector3(0, 1, 0), Vector3(0, 0, -1)),
         ("coronal", Vector3(1, 0, 0), Vector3(0, 0, -1)),
         ("oblique", Vector3(0.8660254037844387, 0.5, 0), Vector3(-0.35355339059327373, 0.6123724356957945, -0.7071067811865476))]
    }

    func testEveryPlaneGivesTheExactAffineAndValues() throws {
        for (name, r, c) in planes() {
            let dir = TestSupport.tempDir(name)
            var s = SyntheticSeries()
            s.rowDirection = r
            s.columnDirection = c
            try s.write(to: dir.path)
            let (report, _) = try TestSupport.convert([dir.path])
            let img = try TestSupport.onlyVolume(report)
            XCTAssertEqual(img.dims, [s.columns, s.rows, s.slices], name)
            TestSupport.assertAffine(img.sform, s.expectedAffine, name)
            TestSupport.assertAffine(img.qform, s.expectedAffine, name)
            XCTAssertEqual(img.sformCode, 1)
            XCTAssertEqual(img.qformCode, 1)
            XCTAssertEqual(img.xyzUnits, 2, "mm")
            TestSupport.assertValues(img, s)
            XCTAssertEqual(report.exitStatus, 0)
        }
    }

    func testReversedInstanceNumbersAndShuffledNamesSortByPosition() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.instanceNumbers = .reversed
        s.shuffleNames = true
        try s.write(to: dir.path)
        let (report, _) = try TestSupport.convert([dir.path])
        let img = try TestSupport.onlyVolume(report)
        XCTAssertEqual(report.outputs[0].sortKey, "ImagePositionPatient")
        TestSupport.assertAffine(img.sform, s.expectedAffine)
        TestSupport.assertValues(img, s)
    }

    func testWithoutPositionsInstanceNumberThenNaturalFileOrder() throws {
        let a = TestSupport.tempDir("a")
        var s = SyntheticSeries()
        s.omitPositions = true
        s.instanceNumbers = .ascending
        s.shuffleNames = true
        try s.write(to: a.path)
        let (r1, _) = try TestSupport.convert([a.path])
        XCTAssertEqual(r1.outputs.first?.sortKey, "InstanceNumber")
        TestSupport.assertValues(try TestSupport.onlyVolume(r1), s)
        XCTAssertTrue(r1.outputs[0].warnings.contains { $0.kind == .positionsMissing })

        let b = TestSupport.tempDir("b")
        s.instanceNumbers = .none
        s.shuffleNames = false
        s.slices = 12 // Image-2 must come before Image-10
        try s.write(to: b.path)
        let (r2, _) = try TestSupport.convert([b.path])
        XCTAssertEqual(r2.outputs.first?.sortKey, "FileName")
        TestSupport.assertValues(try TestSupport.onlyVolume(r2), s)
    }

    func testMultiframeEnhancedMR() throws {
        for (name, r, c) in planes() {
            let dir = TestSupport.tempDir(name)
            var s = SyntheticSeries()
            s.multiframe = true
            s.rowDirection = r
            s.columnDirection = c
            s.rescaleSlope = 2
            s.perSliceSlopeStep = 0.25
            s.rescaleIntercept = -5
            try s.write(to: dir.path)
            let (report, _) = try TestSupport.convert([dir.path])
            let img = try TestSupport.onlyVolume(report)
            XCTAssertEqual(img.dims, [s.columns, s.rows, s.slices])
            TestSupport.assertAffine(img.sform, s.expectedAffine, name)
            TestSupport.assertValues(img, s)
        }
    }

    func testGantryTiltKeepsTruePositionsWithAShearedAffine() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.tiltShift = 0.4
        try s.write(to: dir.path)
        let (report, _) = try TestSupport.convert([dir.path])
        let img = try TestSupport.onlyVolume(report)
        TestSupport.assertAffine(img.sform, s.expectedAffine)
        XCTAssertTrue(report.outputs[0].warnings.contains { $0.kind == .gantryTilt })
        // Voxel (0,0,k) lands on slice k's ImagePositionPatient (LPS -> RAS).
        for k in [0, 3, s.slices - 1] {
            let p = img.sform.apply(Vector3(0, 0, Double(k)))
            let q = s.position(k)
            XCTAssertEqual(p.x, -q.x, accuracy: 1e-4)
            XCTAssertEqual(p.y, -q.y, accuracy: 1e-4)
            XCTAssertEqual(p.z, q.z, accuracy: 1e-4)
        }
    }

    func testMissingSliceIsWrittenAndFlaggedOrRefusedWhenStrict() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.slices = 10
        s.missing = [4]
        try s.write(to: dir.path)
        let (report, out) = try TestSupport.convert([dir.path])
        let img = try TestSupport.onlyVolume(report)
        XCTAssertEqual(img.dims[2], 9)
        TestSupport.assertAffine(img.sform, s.expectedAffine)
        TestSupport.assertValues(img, s, slices: [0, 1, 2, 3, 5, 6, 7, 8, 9])
        let sidecar = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: report.outputs[0].sidecar)))
        XCTAssertEqual(sidecar.MissingSlices, 1)
        XCTAssertTrue(sidecar.Warnings.contains { $0.kind == .missingSlices })
        XCTAssertEqual(report.exitStatus, 0)
        _ = out

        let (strict, _) = try TestSupport.convert([dir.path]) { $0.strict = true }
        XCTAssertTrue(strict.outputs.isEmpty)
        XCTAssertEqual(strict.failedSeries.count, 1)
        XCTAssertTrue(strict.failedSeries[0].reason.contains("--strict"))
        XCTAssertEqual(strict.counts.skipped, 9)
        XCTAssertEqual(strict.exitStatus, 2)
    }

    func testNonUniformSpacingIsFlagged() throws {
        let dir = TestSupport.tempDir()
        let s = SyntheticSeries()
        try s.write(to: dir.path)
        // Move one slice by 0.7 mm along the normal.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(by: NaturalOrder.less)
        let w = try DicomWriterTestHelper.rewrite(dir.appendingPathComponent(files[3]).path) { inst in
            var p = s.position(3)
            p.z += 0.7
            return [(.imagePositionPatient, p.array.map { String($0) }.joined(separator: "\\"))]
        }
        _ = w
        let (report, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(report.outputs.count, 1)
        XCTAssertTrue(report.outputs[0].warnings.contains { $0.kind == .nonUniformSpacing }, "\(report.outputs[0].warnings)")
        let (tolerant, _) = try TestSupport.convert([dir.path]) { $0.spacingTolerance = 1.0 }
        XCTAssertFalse(tolerant.outputs[0].warnings.contains { $0.kind == .nonUniformSpacing })
    }

    func testDuplicateSliceIsRemovedWithAWarning() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.duplicated = [2]
        try s.write(to: dir.path)
        let (report, _) = try TestSupport.convert([dir.path])
        let img = try TestSupport.onlyVolume(report)
        XCTAssertEqual(img.dims[2], s.slices)
        TestSupport.assertValues(img, s)
        XCTAssertEqual(report.duplicates.count, 1)
        XCTAssertEqual(report.duplicates[0].reason, "same SOPInstanceUID")
        XCTAssertEqual(report.counts.duplicate, 1)
        XCTAssertEqual(report.counts.used + report.counts.duplicate + report.counts.skipped, report.counts.scanned)
    }

    func testTwoSeriesInOneFolderAndSplitByOrientation() throws {
        let dir = TestSupport.tempDir()
        var a = SyntheticSeries()
        a.seriesNumber = 4
        a.seriesDescription = "FLAIR"
        try a.write(to: dir.path)
        var b = SyntheticSeries()
        b.seriesNumber = 5
        b.seriesDescription = "T2w"
        b.fileNamePattern = "other-{n}"
        b.rowDirection = Vector3(0, 1, 0)
        b.columnDirection = Vector3(0, 0, -1)
        try b.write(to: dir.path)
        let (report, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(report.outputs.map { URL(fileURLWithPath: $0.nifti).lastPathComponent }.sorted(), ["4_FLAIR.nii.gz", "5_T2w.nii.gz"])

        // The same two stacks under one SeriesInstanceUID are split by orientation.
        let mixed = TestSupport.tempDir("mixed")
        var c = a
        c.seed = 9
        try c.write(to: mixed.path)
        let uid = try InstanceParser.parse(path: mixed.appendingPathComponent("Image-1.dcm").path).seriesInstanceUID
        var d = b
        d.seed = 10
        try d.write(to: mixed.path)
        for f in try FileManager.default.contentsOfDirectory(atPath: mixed.path) where f.hasPrefix("other") {
            try DicomWriterTestHelper.rewrite(mixed.appendingPathComponent(f).path) { _ in [(.seriesInstanceUID, uid), (.seriesNumber, "4")] }
        }
        let (r2, _) = try TestSupport.convert([mixed.path])
        XCTAssertEqual(r2.outputs.count, 2)
        XCTAssertTrue(r2.outputs.allSatisfy { $0.warnings.contains { $0.kind == .split && $0.message.contains("ImageOrientationPatient") } })
        XCTAssertEqual(Set(r2.outputs.compactMap(\.part)), [1, 2])
    }

    func testRepeatedPositionsBecomeA4DVolume() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.slices = 5
        try s.write(to: dir.path)
        let uid = try InstanceParser.parse(path: dir.appendingPathComponent("Image-1.dcm").path).seriesInstanceUID
        var t = s
        t.seed = 77
        t.fileNamePattern = "t2-{n}.dcm"
        t.value = { i, j, k in i + j + k + 500 }
        try t.write(to: dir.path)
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) where f.hasPrefix("t2-") {
            try DicomWriterTestHelper.rewrite(dir.appendingPathComponent(f).path) { _ in [(.seriesInstanceUID, uid), (.temporalPositionIdentifier, "2")] }
        }
        let (report, _) = try TestSupport.convert([dir.path])
        let img = try TestSupport.onlyVolume(report)
        XCTAssertEqual(img.dims, [s.columns, s.rows, 5, 2])
        XCTAssertEqual(img.values[img.dims[0] * img.dims[1] * 5], Double(t.value(0, 0, 0)))
    }
}

/// Rewrites attributes of an existing DICOM file through dcmtk (load, modify, save).
enum DicomWriterTestHelper {
    @discardableResult
    static func rewrite(_ path: String, _ changes: (DicomInstance) -> [(Tag, String)]) throws -> Bool {
        let inst = try InstanceParser.parse(path: path)
        let obj = try DicomObject(reading: path)
        for (tag, value) in changes(inst) { try obj.put(tag, value) }
        // Make sure PixelData is in memory before overwriting the file it was read from.
        _ = try PixelDecoder.storedValues(inst, obj)
        let tmp = path + ".tmp"
        try obj.save(to: tmp, syntax: .explicitLittle)
        guard rename(tmp, path) == 0 else { throw DicomPrepError.io(path: path, reason: "rename failed") }
        return true
    }
}

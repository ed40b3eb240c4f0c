import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Real scanner exports (../shared/fixtures/realscan) against the reference converter's outputs, compared
/// as the fixture README says (scripts/compare-realscan.py, nibabel), and nibabel's real Siemens DWI mosaics.
final class RealScanTests: XCTestCase {
    static var realscan: URL? {
        let u = TestSupport.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/realscan")
        return FileManager.default.fileExists(atPath: u.appendingPathComponent("README.md").path) ? u : nil
    }

    static func requireNibabel() throws {
        let (rc, _) = try TestSupport.run("/usr/bin/python3", ["-c", "import nibabel, numpy"])
        if rc != 0 { throw XCTSkip("python3-nibabel is not installed (make deps installs it)") }
    }

    func compare(_ name: String, expectOutputs: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let root = Self.realscan else { throw XCTSkip("../shared/fixtures/realscan is not present") }
        try Self.requireNibabel()
        let dir = root.appendingPathComponent(name)
        let (report, out) = try TestSupport.convert([dir.appendingPathComponent("In").path])
        XCTAssertEqual(report.exitStatus, 0, "\(report.skipped) \(report.failedSeries)", file: file, line: line)
        XCTAssertEqual(report.outputs.count, expectOutputs, "\(report.outputs.map(\.nifti))", file: file, line: line)
        XCTAssertEqual(report.counts.used + report.counts.duplicate + report.counts.skipped, report.counts.scanned, file: file, line: line)
        let script = TestSupport.repoRoot.appendingPathComponent("scripts/compare-realscan.py").path
        let (rc, text) = try TestSupport.run("/usr/bin/python3", [script, dir.appendingPathComponent("Ref").path, out.path])
        XCTAssertEqual(rc, 0, text, file: file, line: line)
        let refs = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("Ref").path).filter { $0.hasSuffix(".nii") }
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("OK ") }.count, refs.count, text, file: file, line: line)
        // Every sidecar is valid against its schema.
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        for o in report.outputs {
            let errors = try store.validate(file: o.sidecar)
            XCTAssertTrue(errors.isEmpty, "\(o.sidecar): \(errors)", file: file, line: line)
        }
        XCTAssertTrue(try store.validate(file: out.appendingPathComponent("dicomprep-report.json").path).isEmpty, file: file, line: line)
    }

    /// Siemens mosaics: tiles unpacked, position corrected, 6 volumes in one 4D output, SliceTiming (ascending and multiband).
    func testSiemensMosaicTimeSeries() throws {
        try compare("dcm_qa_mosaic", expectOutputs: 2)
        let (report, _) = try TestSupport.convert([Self.realscan!.appendingPathComponent("dcm_qa_mosaic/In/ep2d_Asc_2").path])
        let s = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: report.outputs[0].sidecar)))
        XCTAssertEqual(s.MosaicSlices, 36)
        XCTAssertEqual(s.Dimensions, [64, 64, 36, 6])
        XCTAssertEqual(s.EffectiveEchoSpacing ?? 0, 0.000324999, accuracy: 1e-8)
        XCTAssertEqual(s.TotalReadoutTime ?? 0, 0.020475, accuracy: 1e-6)
        XCTAssertNotNil(s.PhaseEncodingDirection)
    }

    /// Timing and encoding fields follow the written voxel axes: flipping the slice axis reverses SliceTiming,
    /// and the phase-encoding direction points the same way in the world whatever the axes.
    func testTimingAndEncodingFollowReorientation() throws {
        guard let root = Self.realscan else { throw XCTSkip("../shared/fixtures/realscan is not present") }
        let src = root.appendingPathComponent("dcm_qa_mosaic/In/ep2d_Asc_2").path
        func sidecar(_ code: String) throws -> (Sidecar, Matrix4) {
            let (r, _) = try TestSupport.convert([src]) { $0.reorient = code }
            let s = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: r.outputs[0].sidecar)))
            return (s, try NiftiIO.read(r.outputs[0].nifti).sform)
        }
        let (ras, a) = try sidecar("RAS"), (lpi, b) = try sidecar("LPI")
        let t1 = try XCTUnwrap(ras.SliceTiming), t2 = try XCTUnwrap(lpi.SliceTiming)
        XCTAssertEqual(t1, Array(t2.reversed()))
        XCTAssertNil(ras.SliceEncodingDirection)
        func world(_ code: String, _ m: Matrix4) -> Vector3 {
            let v = m.column(["i": 0, "j": 1, "k": 2][code.first!]!).normalized
            return code.hasSuffix("-") ? v * -1 : v
        }
        let w1 = world(try XCTUnwrap(ras.PhaseEncodingDirection), a), w2 = world(try XCTUnwrap(lpi.PhaseEncodingDirection), b)
        XCTAssertLessThan((w1 - w2).length, 1e-6)
        // A permutation that moves the slice axis keeps the acquisition order and says where the slices went.
        let (sag, _) = try sidecar("SRA")
        XCTAssertEqual(sag.SliceEncodingDirection?.first, "i")
        XCTAssertEqual(sag.SliceTiming?.count, t1.count)
    }

    /// One mosaic in nine transfer syntaxes: the same volume each time.
    func testMosaicInEveryTransferSyntax() throws { try compare("dcm_qa_ts", expectOutputs: 9) }

    /// 12-bit stored values (masked / sign-extended at HighBit); slice times from the Siemens protocol text.
    func testTwelveBitMosaicsAndProtocolSliceTimes() throws { try compare("dcm_qa_12bit", expectOutputs: 3) }

    /// Enhanced multi-frame: Siemens XA 4D (frame times → SliceTiming, multiband 2) and a Philips B0 map whose
    /// magnitude and field map are separate outputs in Philips' precise values.
    func testEnhancedSiemensXAAndPhilipsFieldMap() throws {
        try compare("dcm_qa_enh", expectOutputs: 3)
        let (report, _) = try TestSupport.convert([Self.realscan!.appendingPathComponent("dcm_qa_enh/In/Philips").path])
        let names = report.outputs.map { URL(fileURLWithPath: $0.nifti).lastPathComponent }.sorted()
        XCTAssertEqual(names, ["801_B0_NS.nii.gz", "801_B0_NS_fieldmaphz.nii.gz"])
        let map = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: report.outputs.first { $0.nifti.contains("fieldmaphz") }!.sidecar)))
        XCTAssertEqual(map.UsePhilipsFloatNotDisplayScaling, 1)
        XCTAssertEqual(map.PhilipsScaleSlope ?? 0, 4.095, accuracy: 1e-4)
        XCTAssertEqual(map.ImageComponent, "FIELDMAPHZ")
        // --philips-display keeps the display values instead, and says so.
        let (display, _) = try TestSupport.convert([Self.realscan!.appendingPathComponent("dcm_qa_enh/In/Philips").path]) { $0.values.philipsDisplayValues = true }
        let d = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: display.outputs.first { $0.nifti.contains("fieldmaphz") }!.sidecar)))
        XCTAssertEqual(d.UsePhilipsFloatNotDisplayScaling, 0)
        let precise = try NiftiIO.read(report.outputs.first { $0.nifti.contains("fieldmaphz") }!.nifti).values
        let shown = try NiftiIO.read(display.outputs.first { $0.nifti.contains("fieldmaphz") }!.nifti).values
        XCTAssertNotEqual(precise, shown)
    }

    /// GE epi_pepolar: alternating polarity volumes become two 4D outputs (series 6 and 1006).
    func testGEPhaseEncodingPolaritySeries() throws { try compare("dcm_qa_polar", expectOutputs: 2) }

    /// nibabel's real Siemens DWI mosaics: b-value, gradient and affine against the values nibabel's tests state.
    func testNibabelSiemensDWIMosaic() throws {
        let data = "/usr/lib/python3/dist-packages/nibabel/nicom/tests/data"
        guard FileManager.default.fileExists(atPath: data + "/siemens_dwi_1000.dcm.gz") else { throw XCTSkip("python3-nibabel's test data is not installed") }
        let dir = TestSupport.tempDir("dwi")
        for f in ["siemens_dwi_0", "siemens_dwi_1000"] {
            let bytes = try Gzip.decompressFile(data + "/\(f).dcm.gz", limit: 64 << 20)
            try Data(bytes).write(to: dir.appendingPathComponent(f + ".dcm"))
        }
        let (report, out) = try TestSupport.convert([dir.path])
        let o = try TestSupport.onlyVolume(report)
        XCTAssertEqual(o.dims.count >= 4 ? o.dims[3] : 1, 2)
        let stem = report.outputs[0].nifti.replacingOccurrences(of: ".nii.gz", with: "")
        let bval = try String(contentsOfFile: stem + ".bval", encoding: .utf8).split(separator: " ").map { Double($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        // nibabel's 992.05 is the b-value of the B matrix; the nominal B_value (what dcm2niix writes) is 1000.
        XCTAssertEqual(bval[0], 0)
        XCTAssertEqual(bval[1], 992.05050247, accuracy: 992.05 * 0.01)
        let rows = try String(contentsOfFile: stem + ".bvec", encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
        XCTAssertEqual(rows.map { $0[0] }, [0, 0, 0])
        // FSL vector in our voxel axes (x = column index); nibabel's is in (row, column, slice) order.
        var v = [rows[0][1], rows[1][1], rows[2][1]]
        if o.sform.column(0).dot(o.sform.column(1).cross(o.sform.column(2))) > 0 { v[0] = -v[0] }
        let expected = [0.99997450, 0.00507649, -0.005023611]
        let sign: Double = v[0] * expected[0] < 0 ? -1 : 1
        for i in 0..<3 { XCTAssertEqual(v[i] * sign, expected[i], accuracy: 0.02) }
        // nibabel's EXPECTED_AFFINE maps (row, column, slice) to RAS; ours maps (column, row, slice).
        let expectedAffine: [[Double]] = [[0, -1.796875, 0, 115], [-1.79684984, 0, -0.01570896, 135.028779], [-0.00940843750, 0, 2.99995887, -78.710481]]
        for r in 0..<3 {
            XCTAssertEqual(o.sform[r, 0], expectedAffine[r][1], accuracy: 1e-4)
            XCTAssertEqual(o.sform[r, 1], expectedAffine[r][0], accuracy: 1e-4)
            XCTAssertEqual(o.sform[r, 2], expectedAffine[r][2], accuracy: 1e-4)
            XCTAssertEqual(o.sform[r, 3], expectedAffine[r][3], accuracy: 1e-3)
        }
        _ = out
    }

    /// Notes and spreadsheets in an export are listed as not DICOM and do not make the run fail.
    func testNonDicomFilesAreListedNotFatal() throws {
        let dir = TestSupport.tempDir("export")
        try SyntheticSeries().write(to: dir.path)
        try "scanned by the night shift\n".write(to: dir.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try "case,label\n1,0\n".write(to: dir.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        try Data().write(to: dir.appendingPathComponent("README"))
        let (report, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(report.exitStatus, 0)
        XCTAssertEqual(report.outputs.count, 1)
        let listed = report.skipped.filter { $0.notDicom == true }.map { URL(fileURLWithPath: $0.path).lastPathComponent }.sorted()
        XCTAssertEqual(listed, ["README", "labels.csv", "notes.txt"])
        XCTAssertTrue(report.skipped.allSatisfy { $0.reason.hasPrefix("not DICOM") })
        XCTAssertEqual(report.counts.used + report.counts.skipped, report.counts.scanned)
        // The command line agrees: convert and inspect succeed, and name the files.
        let exe = try TestSupport.executable()
        for args in [["convert", dir.path, "-o", TestSupport.tempDir("cli").path], ["inspect", dir.path]] {
            let (rc, text) = try TestSupport.run(exe, args)
            XCTAssertEqual(rc, 0, "\(args[0]): \(text)")
            XCTAssertTrue(text.contains("notes.txt"), "\(args[0]) must name notes.txt: \(text)")
        }
        // Binary files that dcmtk cannot read and that hold no DICOM attribute (a Siemens CSA blob) are not
        // DICOM either; damaged DICOM (a truncated file) stays "not readable as DICOM".
        let csa = "/usr/lib/python3/dist-packages/nibabel/nicom/tests/data/csa2_b1000.bin"
        if FileManager.default.fileExists(atPath: csa) {
            try FileManager.default.copyItem(atPath: csa, toPath: dir.appendingPathComponent("header.bin").path)
            let (r, _) = try TestSupport.convert([dir.path])
            let blob = try XCTUnwrap(r.skipped.first { $0.path.hasSuffix("header.bin") })
            XCTAssertEqual(blob.notDicom, true, blob.reason)
            XCTAssertEqual(r.exitStatus, 0)
        }
        if let fx = TestSupport.fixtures {
            XCTAssertThrowsError(try InstanceParser.parse(path: fx.appendingPathComponent("MR_truncated.dcm").path)) { e in
                guard case .unreadable = e as? DicomPrepError else { return XCTFail("\(e)") }
            }
        }
        // A file named like DICOM that is not is a damaged export: that still counts.
        try "not an image\n".write(to: dir.appendingPathComponent("Image-99.dcm"), atomically: true, encoding: .utf8)
        let (damaged, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(damaged.exitStatus, 1)
    }
}

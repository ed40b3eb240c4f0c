import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Stored values become the right real-world values in the right output type.
final class ValueTests: XCTestCase {
    func testPerSliceRescaleGivesFloat32AndIntegerRescaleGivesInt16() throws {
        let a = TestSupport.tempDir("a")
        var s = SyntheticSeries()
        s.rescaleSlope = 0.5
        s.perSliceSlopeStep = 0.1
        s.rescaleIntercept = 3
        try s.write(to: a.path)
        let (r1, _) = try TestSupport.convert([a.path])
        let img = try TestSupport.onlyVolume(r1)
        XCTAssertEqual(img.datatypeCode, 16, "float32")
        TestSupport.assertValues(img, s)

        let b = TestSupport.tempDir("b")
        var t = SyntheticSeries()
        t.modality = "CT"
        t.rescaleSlope = 1
        t.rescaleIntercept = -1024
        try t.write(to: b.path)
        let (r2, _) = try TestSupport.convert([b.path])
        let img2 = try TestSupport.onlyVolume(r2)
        XCTAssertEqual(img2.datatypeCode, 4, "int16")
        TestSupport.assertValues(img2, t)

        let (r3, _) = try TestSupport.convert([b.path]) { $0.values.dataType = .float32 }
        XCTAssertEqual(try TestSupport.onlyVolume(r3).datatypeCode, 16, "--dtype float32")
    }

    func testSignedTwelveBitValuesAreSignExtended() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.signed = true
        s.bitsStored = 12
        s.value = { i, j, k in (i * 37 + j * 11 + k * 5) % 4000 - 2000 }
        try s.write(to: dir.path)
        let (r, _) = try TestSupport.convert([dir.path])
        let img = try TestSupport.onlyVolume(r)
        XCTAssertEqual(img.values.min(), -2000)
        TestSupport.assertValues(img, s)
    }

    func testEightBitData() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.bitsAllocated = 8
        s.bitsStored = 8
        s.value = { i, j, k in (i * 3 + j * 5 + k) % 256 }
        try s.write(to: dir.path)
        let (r, _) = try TestSupport.convert([dir.path])
        TestSupport.assertValues(try TestSupport.onlyVolume(r), s)
    }

    func testMonochrome1KeepsValuesAndSaysThePolarity() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.photometric = "MONOCHROME1"
        try s.write(to: dir.path)
        let (r, _) = try TestSupport.convert([dir.path])
        TestSupport.assertValues(try TestSupport.onlyVolume(r), s)
        let side = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: r.outputs[0].sidecar)))
        XCTAssertEqual(side.DisplayPolarity, "inverted")
        XCTAssertEqual(side.PhotometricInterpretation, "MONOCHROME1")
    }

    func testVOIWindowIsAppliedOnlyOnRequest() throws {
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.windowCenter = 500
        s.windowWidth = 400
        try s.write(to: dir.path)
        let (plain, _) = try TestSupport.convert([dir.path])
        TestSupport.assertValues(try TestSupport.onlyVolume(plain), s)
        let (voi, _) = try TestSupport.convert([dir.path]) { $0.applyVOI = true }
        let img = try TestSupport.onlyVolume(voi)
        // pydicom's LINEAR windowing: output range is the stored range 0...4095 (12 bits unsigned).
        let c = 499.5, w = 399.0
        for (idx, got) in img.scaledValues.enumerated().prefix(500) {
            let i = idx % s.columns, j = (idx / s.columns) % s.rows, k = idx / (s.columns * s.rows)
            let x = Double(s.value(i, j, k))
            let expect = x <= c - w / 2 ? 0 : (x > c + w / 2 ? 4095 : ((x - c) / w + 0.5) * 4095)
            XCTAssertEqual(got, expect, accuracy: 1e-2)
        }
    }

    func testVOIFunctionsMatchPydicomFormulas() throws {
        var inst = try InstanceParser.parse(path: try SyntheticSeries().write(to: TestSupport.tempDir().path)[0])
        var f = inst.frames[0]
        f.windowCenter = 100
        f.windowWidth = 50
        inst.voiFunction = "SIGMOID"
        let sig = try XCTUnwrap(SliceVOI(instance: inst, frame: f))
        XCTAssertEqual(sig.map(100), 4095.0 / 2, accuracy: 1e-9)
        XCTAssertEqual(sig.map(125), 4095 / (1 + exp(-2.0)), accuracy: 1e-9)
        inst.voiFunction = "LINEAR_EXACT"
        let exact = try XCTUnwrap(SliceVOI(instance: inst, frame: f))
        XCTAssertEqual(exact.map(75), 0)
        XCTAssertEqual(exact.map(126), 4095)
        XCTAssertEqual(exact.map(100), 4095.0 / 2, accuracy: 1e-9)
        inst.voiLUT = LookupTable(entries: 4, firstMapped: 10, bits: 8, data: [0, 50, 100, 255])
        let lut = try XCTUnwrap(SliceVOI(instance: inst, frame: f))
        XCTAssertEqual(lut.map(5), 0)
        XCTAssertEqual(lut.map(11), 50)
        XCTAssertEqual(lut.map(99), 255)
    }

    func testModalityLUTSequenceFixture() throws {
        let dir = try TestSupport.requireFixtures()
        let inst = try InstanceParser.parse(path: dir.appendingPathComponent("mlut_18.dcm").path)
        let lut = try XCTUnwrap(inst.modalityLUT)
        XCTAssertEqual(lut.entries, lut.data.count)
        let m = ValueMapper(instance: inst, frame: inst.frames[0])
        XCTAssertEqual(m.map(Int32(lut.firstMapped)), Double(lut.data[0]))
        XCTAssertEqual(m.map(Int32(lut.firstMapped - 100)), Double(lut.data[0]), "values below the LUT clamp to its first entry")
    }
}

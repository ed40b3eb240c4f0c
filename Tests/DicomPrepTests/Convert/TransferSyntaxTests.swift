import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// The same series in every transfer syntax converts to the same volume.
final class TransferSyntaxTests: XCTestCase {
    func reference() throws -> (SyntheticSeries, URL, NiftiImage) {
        let dir = TestSupport.tempDir("ref")
        var s = SyntheticSeries()
        s.signed = true
        s.bitsStored = 16
        s.value = { i, j, k in (i * 97 + j * 31 + k * 7) % 3000 - 1000 }
        try s.write(to: dir.path)
        let (r, _) = try TestSupport.convert([dir.path])
        return (s, dir, try TestSupport.onlyVolume(r))
    }

    func testWritableSyntaxes() throws {
        let (s0, _, ref) = try reference()
        for syntax in [DicomWriter.Syntax.implicitLittle, .explicitBig, .deflated] {
            let dir = TestSupport.tempDir(syntax.rawValue)
            var s = s0
            s.syntax = syntax
            try s.write(to: dir.path)
            let inst = try InstanceParser.parse(path: dir.appendingPathComponent("Image-1.dcm").path)
            XCTAssertEqual(TransferSyntax.name(inst.transferSyntax).isEmpty, false)
            let (r, _) = try TestSupport.convert([dir.path])
            let img = try TestSupport.onlyVolume(r)
            XCTAssertEqual(img.values, ref.values, syntax.rawValue)
            TestSupport.assertAffine(img.sform, ref.sform)
        }
    }

    /// RLE, JPEG lossless and JPEG-LS copies made by dcmtk's own command-line encoders.
    func testCompressedCopiesFromDcmtkTools() throws {
        let (_, src, ref) = try reference()
        let tools: [(String, [String])] = [("dcmcrle", []), ("dcmcjpeg", ["+e1"]), ("dcmcjpeg", ["+el"]), ("dcmcjpls", ["+el"])]
        var ran = 0
        for (tool, flags) in tools {
            guard let exe = TestSupport.which(tool) else { continue }
            let dir = TestSupport.tempDir(tool)
            for f in try FileManager.default.contentsOfDirectory(atPath: src.path) {
                let (rc, out) = try TestSupport.run(exe, flags + [src.appendingPathComponent(f).path, dir.appendingPathComponent(f).path])
                XCTAssertEqual(rc, 0, "\(tool) \(flags): \(out)")
            }
            let inst = try InstanceParser.parse(path: dir.appendingPathComponent("Image-1.dcm").path)
            XCTAssertNotEqual(inst.transferSyntax, "1.2.840.10008.1.2.1", "\(tool) should have compressed")
            let (r, _) = try TestSupport.convert([dir.path])
            let img = try TestSupport.onlyVolume(r)
            XCTAssertEqual(img.values, ref.values, "\(tool) \(flags) (\(inst.transferSyntax))")
            ran += 1
        }
        if ran == 0 { throw XCTSkip("dcmtk command-line tools are not installed") }
    }

    /// A multi-frame file compressed in many small fragments per frame (with a Basic Offset Table).
    func testFragmentedMultiframe() throws {
        guard let exe = TestSupport.which("dcmcjpeg") else { throw XCTSkip("dcmcjpeg not installed") }
        let src = TestSupport.tempDir("src")
        var s = SyntheticSeries()
        s.multiframe = true
        s.rows = 64
        s.columns = 64
        try s.write(to: src.path)
        let (r0, _) = try TestSupport.convert([src.path])
        let ref = try TestSupport.onlyVolume(r0)
        let dir = TestSupport.tempDir("frag")
        let (rc, out) = try TestSupport.run(exe, ["+el", "+fs", "1", "+ot", src.appendingPathComponent("Image-1.dcm").path, dir.appendingPathComponent("Image-1.dcm").path])
        XCTAssertEqual(rc, 0, out)
        let (r, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(try TestSupport.onlyVolume(r).values, ref.values)
    }

    func testUnsupportedSyntaxGetsAPreciseError() throws {
        let dir = try TestSupport.requireFixtures()
        // JPEG 2000 decodes through OpenJPEG; colour and absent decoders are named precisely.
        let inst = try InstanceParser.parse(path: dir.appendingPathComponent("MR2_J2KR.dcm").path)
        XCTAssertNoThrow(try PixelDecoder.storedValues(inst))
        var colour = inst
        colour.photometric = "RGB"
        colour.samplesPerPixel = 3
        XCTAssertThrowsError(try PixelDecoder.check(colour)) { e in
            XCTAssertTrue(String(describing: e).contains("colour"), "\(e)")
            XCTAssertTrue(String(describing: e).contains("MR2_J2KR.dcm"))
        }
    }
}

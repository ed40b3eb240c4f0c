import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Every real fixture decodes to what ../shared/fixtures/dicom/expected.json says (pydicom's values).
final class FixtureDecodingTests: XCTestCase {
    func testEveryFixtureMatchesExpected() throws {
        let dir = try TestSupport.requireFixtures()
        let data = try Data(contentsOf: dir.appendingPathComponent("expected.json"))
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertGreaterThan(expected.count, 20)
        var checked = 0
        for (name, exp) in expected.sorted(by: { $0.key < $1.key }) {
            let path = dir.appendingPathComponent(name).path
            if let error = exp["error"] as? String {
                if name == "JPEG-lossy.dcm" { continue } // pydicom's decoders fail on it; dcmtk's may not
                XCTAssertThrowsError(try decode(path), "\(name) should fail like pydicom (\(error.prefix(60)))") { e in
                    let text = String(describing: e)
                    XCTAssertTrue(text.contains(name), "error must name the file: \(text)")
                    if error.contains("no pixel data") {
                        switch e as? DicomPrepError {
                        case .notAnImage?, .unreadable?: break
                        default: XCTFail("\(name): expected notAnImage or unreadable, got \(e)")
                        }
                    }
                }
                continue
            }
            do {
                let (inst, values) = try decode(path)
                let shape = try XCTUnwrap(exp["shape"] as? [Int])
                XCTAssertEqual([inst.numberOfFrames, inst.rows, inst.columns], Array(shape.prefix(3)), name)
                XCTAssertEqual(inst.bitsAllocated, exp["bits_allocated"] as? Int, name)
                XCTAssertEqual(inst.bitsStored, exp["bits_stored"] as? Int, name)
                XCTAssertEqual(inst.pixelRepresentation, exp["pixel_representation"] as? Int, name)
                XCTAssertEqual(inst.transferSyntax, exp["transfer_syntax"] as? String, name)
                XCTAssertEqual(values.min().map(Int.init), exp["stored_min"] as? Int, name)
                XCTAssertEqual(values.max().map(Int.init), exp["stored_max"] as? Int, name)
                XCTAssertEqual(Array(values.prefix(8)).map(Int.init), exp["first_values"] as? [Int], name)
                let sha = values.withUnsafeBytes { SHA256.hex($0) } // x86_64 is little-endian
                let lossy = ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91"]
                    .contains(inst.transferSyntax)
                if lossy {
                    // Lossy decoders (IJG in dcmtk, libjpeg in pydicom) may round the inverse DCT differently.
                    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
                    XCTAssertEqual(mean, try XCTUnwrap(exp["stored_mean"] as? Double), accuracy: 0.05, name)
                } else {
                    XCTAssertEqual(sha, exp["stored_sha256_int32le"] as? String, "\(name) stored values differ from pydicom's")
                }
                // pydicom reports the top-level rescale; enhanced objects carry it per frame (checked elsewhere).
                if let slope = exp["rescale_slope"] as? Double, !inst.isEnhanced {
                    XCTAssertEqual(inst.frames[0].rescaleSlope, slope, accuracy: 1e-9, name)
                    XCTAssertEqual(inst.frames[0].rescaleIntercept, exp["rescale_intercept"] as? Double ?? 0, accuracy: 1e-9, name)
                }
                if let wc = exp["window_center"] as? Double {
                    XCTAssertEqual(inst.frames[0].windowCenter ?? .nan, wc, accuracy: 1e-9, name)
                }
                checked += 1
            } catch {
                XCTFail("\(name): \(error)")
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 25)
    }

    func testJPEG2000IsDecodedThroughOpenJPEG() throws {
        let dir = try TestSupport.requireFixtures()
        let a = try decode(dir.appendingPathComponent("emri_small_jpeg_2k_lossless.dcm").path).1
        let b = try decode(dir.appendingPathComponent("emri_small.dcm").path).1
        XCTAssertEqual(a, b)
    }

    private func decode(_ path: String) throws -> (DicomInstance, [Int32]) {
        let inst = try InstanceParser.parse(path: path)
        return (inst, try PixelDecoder.storedValues(inst))
    }
}

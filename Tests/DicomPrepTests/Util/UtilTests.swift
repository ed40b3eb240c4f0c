import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

final class UtilTests: XCTestCase {
    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var h = SHA256()
        for _ in 0..<1000 { h.update(Array(repeating: UInt8(ascii: "a"), count: 1000)) }
        XCTAssertEqual(h.finalize(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testNaturalOrder() {
        let names = ["Image-10.dcm", "Image-2.dcm", "Image-1.dcm", "image-3", "Image-02.dcm"]
        XCTAssertEqual(names.sorted(by: NaturalOrder.less), ["Image-1.dcm", "Image-2.dcm", "Image-02.dcm", "Image-10.dcm", "image-3"])
    }

    func testLargeVolumesAreWrittenAsParallelGzipMembersThatLibniftiReads() throws {
        let n = 160 * 160 * 80 // 4 MB of int16 -> several members
        let values = (0..<n).map { Int16(truncatingIfNeeded: ($0 * 7919) % 4001 - 2000) }
        let v = Volume(dims: [160, 160, 80, 1], voxels: .int16(values), affine: Matrix4.identity)
        let path = TestSupport.tempDir().appendingPathComponent("big.nii.gz").path
        try NiftiWriter(gzip: true, compressionLevel: 1, threads: 2).write(v, to: path)
        let img = try NiftiIO.read(path)
        XCTAssertEqual(img.dims, [160, 160, 80])
        XCTAssertEqual(img.values.count, n)
        XCTAssertTrue(zip(img.values, values).allSatisfy { $0 == Double($1) })
        XCTAssertEqual(img.niftiType, 1, "NIfTI-1 single file")
    }
}

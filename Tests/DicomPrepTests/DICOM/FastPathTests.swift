import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepSynth

/// The shortcuts of the many-small-files work (issue 11) give what the slow paths give: pixels read straight
/// from where the first parse found them, the Phoenix protocol scanned as bytes, in-plane mirroring by rows.
final class FastPathTests: XCTestCase {
    /// Every real fixture whose native little-endian PixelData was located decodes to the same values through
    /// the located bytes as through dcmtk (the instance with its location removed).
    func testLocatedPixelDataEqualsDcmtksDecoding() throws {
        let dir = try TestSupport.requireFixtures()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".dcm") }.sorted()
        var located = 0
        for name in names {
            let path = dir.appendingPathComponent(name).path
            guard let inst = try? InstanceParser.parse(path: path), inst.pixelDataLocation != nil else { continue }
            guard let fast = try? PixelDecoder.storedValues(inst) else { continue }
            var slow = inst
            slow.pixelDataLocation = nil
            XCTAssertEqual(fast, try PixelDecoder.storedValues(slow), name)
            located += 1
        }
        XCTAssertGreaterThan(located, 5, "native little-endian fixtures (explicit and implicit VR, 8 and 16 bit, multi-frame)")
    }

    /// A file cut inside its PixelData is refused with the file named, through the located path too.
    func testTruncatedPixelDataIsNamed() throws {
        let dir = TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var s = SyntheticSeries()
        s.rows = 64
        s.columns = 64
        s.slices = 1
        let file = try XCTUnwrap(try s.write(to: dir.path + "/in").first)
        let inst = try InstanceParser.parse(path: file)
        XCTAssertNotNil(inst.pixelDataLocation)
        let whole = try Data(contentsOf: URL(fileURLWithPath: file))
        try whole.prefix(whole.count - 100).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try PixelDecoder.storedValues(inst)) { e in
            XCTAssertTrue("\(e)".contains(file), "\(e)")
        }
    }

    func testPhoenixValuesAreTheProtocolsNumbers() {
        let text = """
        ### ASCCONV BEGIN ###
        alTR[0]\t = 2000000
        alTR[0]x = 5
        sSliceArray.ucMode                       = 0x4
          lDelayTimeInTR = 100000   # comment
        sSliceArray.lConc = 1
        sSliceArray.lSize = 36
        ### ASCCONV END ###
        """
        let v = VendorFields.phoenixValues(text, keys: ["alTR[0]", "sSliceArray.ucMode", "sSliceArray.lConc", "lDelayTimeInTR", "absent"])
        XCTAssertEqual(v, ["alTR[0]": 2_000_000, "sSliceArray.ucMode": 4, "sSliceArray.lConc": 1, "lDelayTimeInTR": 100_000])
    }

    func testMirroringByRowsEqualsThePermutation() {
        let nx = 5, ny = 3, nz = 2
        let v = VoxelData.int16((0..<(nx * ny * nz)).map { Int16($0) })
        for acrossRows in [true, false] {
            let expected = v.permuted(count: nx * ny * nz) { idx in
                let x = idx % nx, y = (idx / nx) % ny, rest = idx / (nx * ny)
                return rest * nx * ny + (acrossRows ? (ny - 1 - y) * nx + x : y * nx + (nx - 1 - x))
            }
            XCTAssertEqual(v.mirroredInPlane(nx: nx, ny: ny, acrossRows: acrossRows), expected)
        }
    }

    /// Binary integers read as numbers give what their text gives, on every real fixture; text VRs are left to
    /// the text path.
    func testIntegersReadAsNumbersEqualTheirText() throws {
        let dir = try TestSupport.requireFixtures()
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".dcm") }.sorted()
        let tags: [Tag] = [.rows, .columns, .bitsAllocated, .bitsStored, .highBit, .pixelRepresentation, .samplesPerPixel, .numberOfFrames, .instanceNumber]
        var numbers = 0, texts = 0
        for name in names {
            guard let o = try? DicomObject(reading: dir.appendingPathComponent(name).path) else { continue }
            for t in tags {
                let path = TagPath(t)
                switch o.integer(path) {
                case .absent:
                    XCTAssertNil(InstanceParser.firstNumber(o.string(path)), "\(name) \(t)")
                case let .value(v):
                    XCTAssertEqual(Double(v), InstanceParser.firstNumber(o.string(path)), "\(name) \(t)")
                    numbers += 1
                case .text:
                    texts += 1
                }
            }
        }
        XCTAssertGreaterThan(numbers, 20)
        XCTAssertGreaterThan(texts, 5, "IS values (Number of Frames, Instance Number) stay text")
    }

    /// The shim's one-pass reading of character strings gives dcmtk's own normalised text for every such
    /// element (sequences included) of every real fixture, the real scanner exports and the synthetic ones.
    func testTextsReadInOnePassEqualDcmtks() throws {
        let dir = try TestSupport.requireFixtures()
        var files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".dcm") }.sorted()
            .map { dir.appendingPathComponent($0).path }
        if let real = RealScanTests.realscan, let e = FileManager.default.enumerator(atPath: real.path) {
            for case let rel as String in e where !rel.hasSuffix(".md") && !rel.hasSuffix(".json") && !rel.hasSuffix(".nii") && !rel.hasSuffix(".gz")
                && !rel.hasSuffix(".bval") && !rel.hasSuffix(".bvec") && !rel.hasSuffix(".txt") {
                files.append(real.appendingPathComponent(rel).path)
            }
        }
        let tmp = TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        for kind in ScannerExport.Kind.allCases {
            var x = ScannerExport(kind: kind)
            x.volumes = 2
            x.slices = 4
            _ = try x.write(to: tmp.path + "/" + kind.rawValue)
            let d = tmp.path + "/" + kind.rawValue
            if let e = FileManager.default.enumerator(atPath: d) { for case let rel as String in e { files.append(d + "/" + rel) } }
        }
        var opened = 0, compared = 0
        for f in files {
            guard let o = try? DicomObject(reading: f) else { continue }
            opened += 1
            compared += try o.checkTexts()
        }
        XCTAssertGreaterThan(opened, 40)
        XCTAssertGreaterThan(compared, 2000)
    }

    /// Small data is cut into several gzip members (so it is compressed on several cores), the members do
    /// not depend on the number of threads, and the stream decompresses to the data.
    func testGzipMembersOfSmallDataIndependentOfThreads() throws {
        var rng = SeededRandom(seed: 3)
        let data = (0..<300_000).map { _ in UInt8(truncatingIfNeeded: rng.next() % 7) }
        XCTAssertEqual(Gzip.memberSize(for: data.count), 128 << 10)
        XCTAssertEqual(Gzip.memberSize(for: 100 << 20), 4 << 20)
        let one = try data.withUnsafeBytes { try Gzip.compressMembers($0, level: 1, threads: 1) }
        let two = try data.withUnsafeBytes { try Gzip.compressMembers($0, level: 1, threads: 2) }
        XCTAssertEqual(one.count, 3)
        XCTAssertEqual(one, two)
        var streamed: [UInt8] = []
        try data.withUnsafeBytes { d in try Gzip.compressMembers(d, level: 1, threads: 2) { streamed += $0 } }
        XCTAssertEqual(streamed, one.flatMap { $0 })
        XCTAssertEqual(try Gzip.decompress(streamed, limit: 1 << 20), data)
    }
}

final class BlanksTests: XCTestCase {
    func testTrimmingBlanksMatchesFoundationOnDICOMText() {
        for s in ["", " ", "ORIGINAL", "  DERIVED\t", "M \\ ND ", "\tÄrzte  ", "a b"] {
            XCTAssertEqual(s.trimmingBlanks, s.trimmingCharacters(in: .whitespaces), s)
        }
    }

}

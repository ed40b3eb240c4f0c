import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Broken and hostile input: each bad file is named with its reason, good series in the same folder are
/// converted, the exit status is 1, nothing crashes and nothing is written outside -o.
final class HostileInputTests: XCTestCase {
    var exe: String { get throws { try TestSupport.executable() } }

    /// Writes an image header (and optionally pixels) by hand.
    func write(_ path: String, rows: String = "16", columns: String = "16", frames: String? = nil, pixels: Int?, sopClass: String = "1.2.840.10008.5.1.4.1.1.4", series: String? = nil, orientation: String = "1\\0\\0\\0\\1\\0", position: String = "0\\0\\0", colour: Bool = false) throws {
        let w = try DicomWriter(path: path)
        try w.set(.sopClassUID, sopClass)
        var rng = SeededRandom(seed: UInt64(abs(path.hashValue)))
        try w.set(.sopInstanceUID, rng.uid())
        try w.set(.seriesInstanceUID, series ?? rng.uid())
        try w.set(.modality, "MR")
        try w.set(.rows, rows)
        try w.set(.columns, columns)
        if let frames { try w.set(.numberOfFrames, frames) }
        try w.set(.bitsAllocated, "16")
        try w.set(.bitsStored, "12")
        try w.set(.highBit, "11")
        try w.set(.pixelRepresentation, "0")
        try w.set(.samplesPerPixel, colour ? "3" : "1")
        try w.set(.photometricInterpretation, colour ? "RGB" : "MONOCHROME2")
        try w.set(.pixelSpacing, "1\\1")
        try w.set(.imageOrientationPatient, orientation)
        try w.set(.imagePositionPatient, position)
        if let n = pixels { try w.setPixels([UInt8](repeating: 7, count: n), bitsAllocated: 16) }
        try w.save()
    }

    func testEveryKindOfBadInputIsNamedAndTheRestConverts() throws {
        let exe = try exe
        let base = TestSupport.tempDir()
        let input = base.appendingPathComponent("in"), out = base.appendingPathComponent("out")
        // A good series whose file names are hostile.
        var good = SyntheticSeries()
        good.slices = 8
        good.seriesNumber = 2
        let goodDir = input.appendingPathComponent("good").path
        let paths = try good.write(to: goodDir)
        let hostileNames = ["-leading dash.dcm", "with space.dcm", "q\"uote's.dcm", "semi;colon.dcm", "$(touch PWNED).dcm", "%s%n%x.dcm", "`id`.dcm", "plain"]
        for (p, n) in zip(paths, hostileNames) { try FileManager.default.moveItem(atPath: p, toPath: goodDir + "/" + n) }
        let goodUID = try InstanceParser.parse(path: goodDir + "/plain").seriesInstanceUID
        // Two good series with hostile descriptions.
        for (k, d) in ["../../etc/passwd", "a/b\\c:*?"].enumerated() {
            var s = SyntheticSeries()
            s.seriesNumber = 10 + k
            s.seriesDescription = d
            s.seed = UInt64(40 + k)
            try s.write(to: input.appendingPathComponent("desc\(k)").path)
        }
        let bad = input.appendingPathComponent("bad").path
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: bad + "/empty.dcm", contents: Data()))
        var rng = SeededRandom(seed: 9)
        XCTAssertTrue(FileManager.default.createFile(atPath: bad + "/random.dcm", contents: Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) })))
        XCTAssertTrue(FileManager.default.createFile(atPath: bad + "/readme.txt", contents: Data("this is not DICOM\n".utf8)))
        let whole = try Data(contentsOf: URL(fileURLWithPath: goodDir + "/plain"))
        XCTAssertTrue(FileManager.default.createFile(atPath: bad + "/truncated.dcm", contents: whole.prefix(whole.count / 2)))
        try write(bad + "/short-pixels.dcm", pixels: 100)
        try write(bad + "/no-pixels.dcm", pixels: nil)
        try write(bad + "/DICOMDIR", pixels: nil, sopClass: "1.2.840.10008.1.3.10")
        try write(bad + "/huge.dcm", rows: "65535", columns: "65535", frames: "100000", pixels: 64)
        try write(bad + "/colour.dcm", pixels: 16 * 16 * 3 * 2, colour: true)
        // In the good series' folder: a slice of other size and one of other orientation, same series.
        try write(goodDir + "/odd-size.dcm", rows: "10", columns: "10", pixels: 200, series: goodUID, orientation: "1\\0\\0\\0\\1\\0", position: "-100\\-120\\200")
        try write(goodDir + "/odd-orientation.dcm", rows: "24", columns: "20", pixels: 960, series: goodUID, orientation: "0\\1\\0\\0\\0\\-1", position: "-100\\-120\\300")
        if let fx = TestSupport.fixtures {
            for f in ["test-SR.dcm", "rtplan.dcm", "MR_truncated.dcm"] { try FileManager.default.copyItem(atPath: fx.appendingPathComponent(f).path, toPath: bad + "/" + f) }
        }
        try FileManager.default.createSymbolicLink(atPath: bad + "/loop", withDestinationPath: input.path)
        try FileManager.default.createSymbolicLink(atPath: bad + "/dangling.dcm", withDestinationPath: bad + "/nowhere")
        XCTAssertTrue(FileManager.default.createFile(atPath: bad + "/locked.dcm", contents: whole))
        chmod(bad + "/locked.dcm", 0)
        let locked = access(bad + "/locked.dcm", R_OK) != 0 // root reads it anyway

        let before = Set(try FileManager.default.contentsOfDirectory(atPath: base.path))
        let (rc, text) = try TestSupport.run(exe, ["convert", input.path, "-o", out.path, "-q"])
        XCTAssertEqual(rc, 1, text)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: base.path)), before.union(["out"]), "nothing outside -o")
        XCTAssertFalse(FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/PWNED"))
        let report = try JSONDecoder().decode(ConversionReport.self, from: Data(contentsOf: out.appendingPathComponent("dicomprep-report.json")))
        let reasons = Dictionary(report.skipped.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0.reason) }, uniquingKeysWith: { a, _ in a })
        let expected: [String: String] = [
            "empty.dcm": "DICOM", "random.dcm": "", "readme.txt": "", "truncated.dcm": "", "short-pixels.dcm": "shorter",
            "no-pixels.dcm": "no PixelData", "DICOMDIR": "DICOMDIR", "huge.dcm": "4 GiB", "colour.dcm": "colour", "odd-size.dcm": "Rows/Columns",
            "odd-orientation.dcm": "ImageOrientationPatient", "dangling.dcm": "link",
        ]
        for (name, fragment) in expected {
            guard let r = reasons[name] else { XCTFail("\(name) is not in the report: \(reasons)"); continue }
            if !fragment.isEmpty { XCTAssertTrue(r.contains(fragment), "\(name): \(r)") }
            XCTAssertTrue(text.contains(name), "stderr must name \(name)")
        }
        XCTAssertTrue(report.skipped.contains { $0.reason.contains("loop") })
        if locked { XCTAssertNotNil(reasons["locked.dcm"]) }
        if TestSupport.fixtures != nil {
            for f in ["test-SR.dcm", "rtplan.dcm", "MR_truncated.dcm"] { XCTAssertNotNil(reasons[f], f) }
        }
        // The good series are whole, under safe names, inside the output.
        let goodOut = try XCTUnwrap(report.outputs.first { $0.series.hasPrefix("2 ") })
        XCTAssertEqual(goodOut.dimensions, [20, 24, 8, 1])
        XCTAssertEqual(goodOut.sources.count, 8)
        XCTAssertEqual(report.outputs.count, 3)
        for o in report.outputs {
            XCTAssertTrue(o.nifti.hasPrefix(out.path + "/"))
            XCTAssertFalse(o.nifti.dropFirst(out.path.count).contains(".."))
            XCTAssertNoThrow(try NiftiIO.read(o.nifti))
        }
        XCTAssertEqual(report.counts.used + report.counts.duplicate + report.counts.skipped, report.counts.scanned)
    }

    /// Files found by fuzzing (Tests/Fixtures/fuzz-regressions) parse or fail cleanly.
    /// The inputs fuzzing found (Tests/Fixtures/fuzz-regressions) are each refused quickly, by name, for the
    /// reason the fix gives, and none brings the run down.
    func testFuzzRegressionsFailCleanly() throws {
        let dir = TestSupport.repoRoot.appendingPathComponent("Tests/Fixtures/fuzz-regressions")
        let expected = [
            "j2k-huge-siz-oom.dcm": "codestream declares 256x8389632",
            "jpeg-tem-marker-hang.dcm": "a TEM marker stands where the frame header should be",
        ]
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".dcm") }.sorted()
        XCTAssertEqual(files, expected.keys.sorted(), "a regression input is missing")
        for f in files {
            let inst = try InstanceParser.parse(path: dir.appendingPathComponent(f).path)
            XCTAssertThrowsError(try PixelDecoder.storedValues(inst), f) { e in
                XCTAssertTrue("\(e)".contains(expected[f]!), "\(f): \(e)")
            }
        }
        let (r, _) = try TestSupport.convert([dir.path])
        for (f, why) in expected {
            let s = try XCTUnwrap(r.skipped.first { $0.path.hasSuffix("/" + f) }, "\(f) is not in the report")
            XCTAssertTrue(s.reason.contains(why), s.reason)
        }
        XCTAssertEqual(r.counts.used + r.counts.duplicate + r.counts.skipped, r.counts.scanned)
    }
}

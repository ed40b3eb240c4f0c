import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// SIGKILL at random moments: every file present loads, and --resume completes the job with the same
/// outputs as an uninterrupted run.
final class KillResumeTests: XCTestCase {
    var exe: String { get throws { try TestSupport.executable() } }

    /// Starts the command and kills it with SIGKILL after `seconds`.
    func runAndKill(_ exe: String, _ args: [String], after seconds: Double) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(useconds_t(seconds * 1_000_000))
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    /// Every visible file loads: NIfTI through libnifti, JSON through the parser, PNG by its signature.
    func assertEverythingPresentLoads(_ dir: URL, file: StaticString = #filePath, line: UInt = #line) {
        guard let e = FileManager.default.enumerator(atPath: dir.path) else { return }
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            let path = dir.appendingPathComponent(rel).path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue, !name.hasPrefix(".") else { continue }
            if name.hasSuffix(".nii.gz") || name.hasSuffix(".nii") {
                XCTAssertNoThrow(try NiftiIO.read(path), "\(rel) does not load", file: file, line: line)
            } else if name.hasSuffix(".json") {
                XCTAssertNoThrow(try JSONValue.parse(file: path), "\(rel) is not whole JSON", file: file, line: line)
            } else if name.hasSuffix(".png") {
                // A whole PNG: the signature first and the IEND chunk (with its CRC) last.
                let b = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
                let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], iend: [UInt8] = [0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
                XCTAssertTrue(b.starts(with: signature) && b.suffix(8).elementsEqual(iend), "\(rel) is not a whole PNG", file: file, line: line)
            }
        }
    }

    func testStaleTemporariesOfDeadRunsOnlyAreRemoved() throws {
        // The pid of a process that has exited and been reaped: no such process any more.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let dead = gone.processIdentifier, me = getpid()
        let root = TestSupport.tempDir("stale")
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("a/b/.hidden"), withIntermediateDirectories: true)
        let files = [
            "a/b/.x.nii.gz.tmp-\(dead)-123": false, "a/.hidden-dir-file.tmp-\(dead)": false, "a/b/.hidden/.y.json.tmp-\(dead)-9": false,
            "model.pt.tmp-\(dead)": false,
            ".mine.json.tmp-\(me)-5": true, ".live.json.tmp-1-5": true, "keep.nii.gz": true, "a/b/tmp-\(dead)": true,
            "a/b/x.tmp-": true, "a/b/x.tmp-abc": true, "a/b/c.tmp-\(dead).nii.gz": false,
        ]
        for name in files.keys { XCTAssertTrue(fm.createFile(atPath: root.path + "/" + name, contents: Data([1]))) }
        XCTAssertEqual(AtomicFile.removeStaleTemporaries(under: root.path), files.values.filter { !$0 }.count)
        for (name, kept) in files { XCTAssertEqual(fm.fileExists(atPath: root.path + "/" + name), kept, name) }
        XCTAssertEqual(AtomicFile.removeStaleTemporaries(under: root.path + "/missing"), 0)
    }

    func testConvertKilledAtRandomMomentsThenResumed() throws {
        let exe = try exe
        let input = TestSupport.tempDir("in")
        var c = BenchCorpus()
        c.series = 8
        c.size = 192
        c.minSlices = 30
        c.maxSlices = 50
        _ = try c.write(to: input.path)
        let clean = TestSupport.tempDir("clean")
        let (rc0, t0) = try TestSupport.run(exe, ["convert", input.path, "-o", clean.path, "-q", "--jobs", "1"])
        XCTAssertEqual(rc0, 0, t0)
        let out = TestSupport.tempDir("killed")
        var rng = SeededRandom(seed: 77)
        for _ in 0..<4 {
            try runAndKill(exe, ["convert", input.path, "-o", out.path, "-q", "--jobs", "1", "--resume"], after: 0.03 + rng.unit() * 0.3)
            assertEverythingPresentLoads(out)
        }
        let (rc, text) = try TestSupport.run(exe, ["convert", input.path, "-o", out.path, "-q", "--jobs", "1", "--resume"])
        XCTAssertEqual(rc, 0, text)
        let report = try JSONDecoder().decode(ConversionReport.self, from: Data(contentsOf: out.appendingPathComponent("dicomprep-report.json")))
        XCTAssertEqual(report.outputs.count, 8)
        for o in report.outputs {
            let twin = clean.path + o.nifti.dropFirst(out.path.count)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: o.nifti)), try Data(contentsOf: URL(fileURLWithPath: twin)), o.nifti)
        }
        let leftovers = FileManager.default.enumerator(atPath: out.path)!.compactMap { $0 as? String }.filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "temporary files of killed runs are cleaned up")
    }

    func testDatasetConvertKilledThenResumed() throws {
        let exe = try exe
        let root = TestSupport.tempDir("rsna")
        var s = RSNASynth()
        s.trainCases = 10
        s.testCases = 2
        s.matrix = 48
        _ = try s.write(to: root.path)
        let args = ["--slices", "16", "--size", "32", "--jobs", "1", "--qc"]
        let clean = TestSupport.tempDir("clean")
        let (rc0, t0) = try TestSupport.run(exe, ["dataset", "convert", root.path, "-o", clean.path] + args)
        XCTAssertEqual(rc0, 0, t0)
        let out = TestSupport.tempDir("killed")
        var rng = SeededRandom(seed: 5)
        for _ in 0..<3 {
            try runAndKill(exe, ["dataset", "convert", root.path, "-o", out.path, "--resume"] + args, after: 0.05 + rng.unit() * 0.4)
            assertEverythingPresentLoads(out)
        }
        let (rc, text) = try TestSupport.run(exe, ["dataset", "convert", root.path, "-o", out.path, "--resume"] + args)
        XCTAssertEqual(rc, 0, text)
        let a = try JSONDecoder().decode(DatasetManifest.self, from: Data(contentsOf: clean.appendingPathComponent("dataset.json")))
        let b = try JSONDecoder().decode(DatasetManifest.self, from: Data(contentsOf: out.appendingPathComponent("dataset.json")))
        XCTAssertEqual(a.cases, b.cases, "the resumed dataset equals an uninterrupted one, checksums included")
    }
}

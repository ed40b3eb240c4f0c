import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepSynth

/// Archives (zip, tar.gz) read in memory through libarchive, with the same results as the extracted tree;
/// damaged archives and hostile member names are named in the report, and nothing leaves the output folder.
final class ArchiveInputTests: XCTestCase {
    /// Packs `dir` with Python's zipfile/tarfile (`kind`: zip or tgz), members named by `names` when given.
    func pack(_ dir: URL, _ kind: String, to out: URL, names: [String: String] = [:]) throws {
        let script = """
        import os, sys, json, zipfile, tarfile
        src, kind, out, names = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        files = sorted(os.path.relpath(os.path.join(r, f), src) for r, _, fs in os.walk(src) for f in fs)
        if kind == 'zip':
            with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
                for f in files: z.write(os.path.join(src, f), names.get(f, f))
        else:
            with tarfile.open(out, 'w:gz') as t:
                for f in files: t.add(os.path.join(src, f), arcname=names.get(f, f))
        """
        let data = try JSONSerialization.data(withJSONObject: names)
        let (rc, text) = try TestSupport.run("/usr/bin/python3", ["-c", script, dir.path, kind, out.path, String(decoding: data, as: UTF8.self)])
        XCTAssertEqual(rc, 0, text)
    }

    func series(_ root: URL) throws {
        var a = SyntheticSeries()
        a.seriesNumber = 4
        a.seriesDescription = "FLAIR"
        try a.write(to: root.appendingPathComponent("case1/FLAIR").path)
        var b = SyntheticSeries()
        b.seriesNumber = 5
        b.seriesDescription = "T2w"
        b.seed = 8
        try b.write(to: root.appendingPathComponent("case1/T2w").path)
    }

    func testZipAndTarGzGiveTheResultsOfTheExtractedTree() throws {
        let tree = TestSupport.tempDir("tree")
        try series(tree)
        let (plain, _) = try TestSupport.convert([tree.path])
        for kind in ["zip", "tgz"] {
            let archive = TestSupport.tempDir("a").appendingPathComponent("export.\(kind == "zip" ? "zip" : "tar.gz")")
            try pack(tree, kind, to: archive)
            let (r, out) = try TestSupport.convert([archive.path])
            XCTAssertEqual(r.exitStatus, 0, "\(kind): \(r.skipped)")
            XCTAssertEqual(r.outputs.count, 2)
            let names = r.outputs.map { String($0.nifti.dropFirst(out.path.count + 1)) }.sorted()
            XCTAssertEqual(names, ["case1/FLAIR/4_FLAIR.nii.gz", "case1/T2w/5_T2w.nii.gz"], kind)
            for (x, y) in zip(plain.outputs.sorted { $0.nifti < $1.nifti }, r.outputs.sorted { $0.nifti < $1.nifti }) {
                let vx = try NiftiIO.read(x.nifti), vy = try NiftiIO.read(y.nifti)
                XCTAssertEqual(vx.values, vy.values)
                TestSupport.assertAffine(vx.sform, vy.sform, accuracy: 1e-9)
            }
            XCTAssertEqual(r.counts.used, plain.counts.used)
            // inspect reads the archive too.
            XCTAssertEqual(Inspector.inspect([archive.path]).series.count, 2)
        }
    }

    /// Members stored as .dcm.gz inside an archive are read like their plain copies.
    func testGzipMembersInsideAnArchive() throws {
        let tree = TestSupport.tempDir("tree"), packed = TestSupport.tempDir("gz")
        var s = SyntheticSeries()
        s.slices = 5
        for p in try s.write(to: tree.path) {
            let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
            let gz = try b.withUnsafeBytes { x in try catching { () throws(DicomPrepError) in try Gzip.compress(x, level: 6, threads: 1) }.get() }
            try Data(gz).write(to: packed.appendingPathComponent(URL(fileURLWithPath: p).lastPathComponent + ".gz"))
        }
        let archive = TestSupport.tempDir("a").appendingPathComponent("gz.zip")
        try pack(packed, "zip", to: archive)
        let (plain, _) = try TestSupport.convert([tree.path])
        let (r, _) = try TestSupport.convert([archive.path])
        XCTAssertEqual(r.exitStatus, 0, "\(r.skipped)")
        XCTAssertEqual(try TestSupport.onlyVolume(r).values, try TestSupport.onlyVolume(plain).values)
    }

    func testHostileNamesAndADamagedArchiveAreNamed() throws {
        let tree = TestSupport.tempDir("tree")
        try series(tree)
        let files = try FileManager.default.subpathsOfDirectory(atPath: tree.path).filter { $0.hasSuffix(".dcm") }.sorted()
        let archive = TestSupport.tempDir("h").appendingPathComponent("hostile.zip")
        try pack(tree, "zip", to: archive, names: [files[0]: "../../escape.dcm", files[1]: "a/../../../sneaky.dcm"])
        let (r, out) = try TestSupport.convert([archive.path])
        XCTAssertTrue(r.skipped.contains { $0.path.hasSuffix("../../escape.dcm") && $0.reason.contains("parent path") }, "\(r.skipped)")
        XCTAssertTrue(r.skipped.contains { $0.path.hasSuffix("sneaky.dcm") && $0.reason.contains("parent path") }, "\(r.skipped)")
        for o in r.outputs { XCTAssertTrue(o.nifti.hasPrefix(out.path + "/") && !o.nifti.contains("..")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.deletingLastPathComponent().appendingPathComponent("escape.dcm").path))

        // Cut the archive in the middle: what comes before the damage is read, the rest is named.
        let whole = try Data(contentsOf: archive)
        let cut = TestSupport.tempDir("c").appendingPathComponent("cut.zip")
        try whole.prefix(whole.count * 2 / 3).write(to: cut)
        let (c, _) = try TestSupport.convert([cut.path])
        XCTAssertTrue(c.skipped.contains { $0.path.hasPrefix(cut.path) && ($0.reason.contains("damaged") || $0.reason.contains("cannot be read")) }, "\(c.skipped)")
        XCTAssertEqual(c.counts.used + c.counts.duplicate + c.counts.skipped, c.counts.scanned)
        XCTAssertEqual(c.exitStatus == 0, false)
    }
}

import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// dataset convert / merge and manifest split on a small synthetic RSNA-shaped dataset.
final class DatasetTests: XCTestCase {
    static let root: URL = {
        let dir = TestSupport.tempDir("rsna")
        var s = RSNASynth()
        s.trainCases = 9
        s.testCases = 3
        s.matrix = 40
        s.minSlices = 8
        s.maxSlices = 14
        _ = try! s.write(to: dir.path)
        return dir
    }()

    var layout: DatasetLayout {
        get throws { try DatasetLayout.load(file: TestSupport.repoRoot.appendingPathComponent("manifests/layouts/rsna-miccai-2021.json").path) }
    }

    func options(_ out: URL) throws -> DatasetOptions {
        var o = DatasetOptions(root: Self.root.path, outputDir: out.path, layout: try layout)
        o.slices = 12
        o.size = 32
        o.jobs = 2
        return o
    }

    func testConvertWritesEveryCaseValidatedAndModelReady() throws {
        let out = TestSupport.tempDir("ds")
        var o = try options(out)
        o.qc = true
        o.groupSize = 5
        let m = try DatasetConverter(options: o).run()
        XCTAssertEqual(m.counts.cases, 12)
        XCTAssertEqual(m.counts.labeled, 9)
        XCTAssertEqual(m.failed, [])
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: out.appendingPathComponent("dataset.json").path).map(\.description), [])
        for c in m.cases {
            XCTAssertEqual(c.sequences.map(\.sequence), ["FLAIR", "T1w", "T1wCE", "T2w"])
            XCTAssertEqual(try store.validate(file: out.appendingPathComponent("\(c.split)/\(c.id)/case.json").path).map(\.description), [])
            for s in c.sequences {
                XCTAssertEqual(s.inputShape, [32, 32, 12, 1])
                let img = try NiftiIO.read(out.appendingPathComponent(s.input.path).path)
                XCTAssertEqual(img.values.min(), 0)
                XCTAssertEqual(img.values.max(), 1)
                let data = try Data(contentsOf: out.appendingPathComponent(s.volume.path))
                XCTAssertEqual(SHA256.hex([UInt8](data)), s.volume.sha256)
                XCTAssertFalse(s.groups.isEmpty)
                XCTAssertNotNil(s.qc)
            }
        }
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertTrue(html.contains(m.cases[0].id))
    }

    /// The model inputs' checksums per case and sequence, for comparing runs.
    static func checksums(_ m: DatasetManifest) -> [String: String] {
        var out: [String: String] = [:]
        for c in m.cases { for q in c.sequences { out["\(c.split)/\(c.id)/\(q.sequence)"] = q.input.sha256 + " " + q.volume.sha256 } }
        return out
    }

    func testConvertReadsTheDownloadAsAnArchiveWithoutExtracting() throws {
        let folderOut = TestSupport.tempDir("ds-folder")
        let reference = try DatasetConverter(options: try options(folderOut)).run()
        let work = TestSupport.tempDir("ds-archives")
        // Kaggle's zip (members at the top, plus hostile names), and a tar.gz under a folder with every DICOM
        // member gzip-compressed on its own (.dcm.gz).
        let code = """
        import sys, os, zipfile, tarfile, gzip, io
        root, work = sys.argv[1], sys.argv[2]
        with zipfile.ZipFile(os.path.join(work, 'rsna.zip'), 'w', zipfile.ZIP_DEFLATED) as z:
            for d, _, files in sorted(os.walk(root)):
                for f in sorted(files):
                    p = os.path.join(d, f); z.write(p, os.path.relpath(p, root))
            z.writestr('../evil.dcm', b'x' * 200)
            z.writestr('/etc/evil.dcm', b'x' * 200)
        with tarfile.open(os.path.join(work, 'rsna.tar.gz'), 'w:gz') as t:
            for d, _, files in sorted(os.walk(root)):
                for f in sorted(files):
                    p = os.path.join(d, f); data = open(p, 'rb').read(); name = 'download/' + os.path.relpath(p, root)
                    if f.endswith('.dcm'):
                        data = gzip.compress(data); name += '.gz'
                    info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
        """
        let (rc, text) = try TestSupport.run("/usr/bin/python3", ["-c", code, Self.root.path, work.path])
        XCTAssertEqual(rc, 0, text)
        for archive in ["rsna.zip", "rsna.tar.gz"] {
            let out = TestSupport.tempDir("ds-" + archive)
            var o = try options(out)
            o.root = work.appendingPathComponent(archive).path
            let m = try DatasetConverter(options: o).run()
            XCTAssertEqual(m.cases.map(\.id), reference.cases.map(\.id), archive)
            XCTAssertEqual(m.cases.map(\.label), reference.cases.map(\.label), archive)
            XCTAssertEqual(Self.checksums(m), Self.checksums(reference), "\(archive): the same model inputs and volumes as the extracted folder")
            XCTAssertEqual(m.cases.first?.sequences.first?.source, reference.cases.first?.sequences.first?.source)
            if archive == "rsna.zip" {
                let refused = m.failed.filter { $0.reason.contains("absolute or parent path") }
                XCTAssertEqual(refused.count, 2, "hostile member names are named and not read: \(m.failed)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: out.deletingLastPathComponent().appendingPathComponent("evil.dcm").path))
            }
        }
        // A damaged member: one file's compressed bytes overwritten. Its case names it; every other case is identical.
        let zipPath = work.appendingPathComponent("rsna.zip").path
        let damaged = work.appendingPathComponent("damaged.zip").path
        let corrupt = """
        import sys, zipfile
        src, dst = sys.argv[1], sys.argv[2]
        data = bytearray(open(src, 'rb').read())
        z = zipfile.ZipFile(src)
        info = [i for i in z.infolist() if i.filename.endswith('T2w/Image-3.dcm')][0]
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for k in range(start + 10, start + 60): data[k] ^= 0x5A
        open(dst, 'wb').write(data)
        print(info.filename)
        """
        let (rc2, member) = try TestSupport.run("/usr/bin/python3", ["-c", corrupt, zipPath, damaged])
        XCTAssertEqual(rc2, 0, member)
        let caseID = member.split(separator: "/")[1]
        let out = TestSupport.tempDir("ds-damaged")
        var o = try options(out)
        o.root = damaged
        let m = try DatasetConverter(options: o).run()
        let hit = try XCTUnwrap(m.cases.first { $0.id == caseID } ?? nil, "the damaged case is still there (its other sequences)")
        let record = try JSONDecoder().decode(CaseRecord.self, from: Data(contentsOf: out.appendingPathComponent("\(hit.split)/\(hit.id)/case.json")))
        XCTAssertTrue(record.failures.contains { $0.reason.contains("Image-3.dcm") }, "\(record.failures)")
        var same = Self.checksums(m), ref = Self.checksums(reference)
        for k in Array(same.keys) where k.hasPrefix("\(hit.split)/\(caseID)/T2w") { same[k] = nil }
        for k in Array(ref.keys) where k.hasPrefix("\(hit.split)/\(caseID)/T2w") { ref[k] = nil }
        XCTAssertEqual(same, ref)
    }

    func testExcludedCasesAndMissingSequences() throws {
        // Copy a case under a known-broken id, and remove a sequence from another.
        let root = TestSupport.tempDir("rsna-copy")
        try FileManager.default.removeItem(at: root)
        try FileManager.default.copyItem(at: Self.root, to: root)
        let train = root.appendingPathComponent("train")
        let ids = try FileManager.default.contentsOfDirectory(atPath: train.path).sorted()
        try FileManager.default.copyItem(at: train.appendingPathComponent(ids[0]), to: train.appendingPathComponent("00109"))
        try "BraTS21ID,MGMT_value\n".appending(String(contentsOf: root.appendingPathComponent("train_labels.csv"), encoding: .utf8).split(separator: "\n").dropFirst().joined(separator: "\n") + "\n109,1\n")
            .write(to: root.appendingPathComponent("train_labels.csv"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: train.appendingPathComponent("\(ids[1])/T2w"))
        try FileManager.default.createDirectory(at: train.appendingPathComponent("not-a-case"), withIntermediateDirectories: true)
        var o = try options(TestSupport.tempDir("out"))
        o.root = root.path
        let m = try DatasetConverter(options: o).run()
        XCTAssertEqual(m.excluded.map(\.id), ["00109"])
        XCTAssertTrue(m.failed.contains { $0.id == "not-a-case" })
        let partial = try XCTUnwrap(m.cases.first { $0.id == ids[1] })
        XCTAssertEqual(partial.sequences.count, 3)
        XCTAssertEqual(partial.failures.first?.sequence, "T2w")
        o.keepExcluded = true
        o.outputDir = TestSupport.tempDir("out2").path
        XCTAssertTrue(try DatasetConverter(options: o).run().cases.contains { $0.id == "00109" && $0.label == 1 })
    }

    func testResumeKeepsIntactCasesAndRedoesDamagedOnes() throws {
        let out = TestSupport.tempDir("resume")
        var o = try options(out)
        o.sequences = ["T1wCE"]
        let first = try DatasetConverter(options: o).run()
        o.resume = true
        let second = try DatasetConverter(options: o).run()
        XCTAssertEqual(second.counts.resumed, first.counts.cases)
        XCTAssertEqual(second.cases, first.cases)
        // Damage one model input: that case is converted again, the others are kept.
        let victim = first.cases[0].sequences[0].input.path
        try Data("broken".utf8).write(to: out.appendingPathComponent(victim))
        let third = try DatasetConverter(options: o).run()
        XCTAssertEqual(third.counts.resumed, first.counts.cases - 1)
        XCTAssertEqual(third.cases, first.cases)
        // Other options: nothing is kept.
        o.slices = 10
        XCTAssertEqual(try DatasetConverter(options: o).run().counts.resumed, 0)
    }

    func testThreeShardsMergedEqualOneRun() throws {
        var o = try options(TestSupport.tempDir("single"))
        o.sequences = ["FLAIR", "T1wCE"]
        let single = try DatasetConverter(options: o).run()
        let base = TestSupport.tempDir("shards")
        var dirs: [String] = []
        var sizes: [Int] = []
        for k in 0..<3 {
            var s = o
            s.outputDir = base.appendingPathComponent("shard-\(k)").path
            s.shard = (k, 3)
            sizes.append(try DatasetConverter(options: s).run().counts.cases)
            dirs.append(s.outputDir)
        }
        XCTAssertEqual(sizes.reduce(0, +), single.counts.cases)
        let merged = try DatasetMerge.merge(dirs, into: base.appendingPathComponent("merged").path)
        XCTAssertEqual(merged.cases.map(\.id), single.cases.map(\.id))
        XCTAssertEqual(merged.cases.map(\.label), single.cases.map(\.label))
        XCTAssertEqual(merged.cases.map { $0.sequences.map(\.input.sha256) }, single.cases.map { $0.sequences.map(\.input.sha256) })
        XCTAssertEqual(merged.counts.cases, single.counts.cases)
        for c in merged.cases {
            for s in c.sequences { XCTAssertTrue(FileManager.default.fileExists(atPath: base.appendingPathComponent("merged/" + s.input.path).path)) }
        }
        XCTAssertThrowsError(try DatasetMerge.merge(Array(dirs.prefix(2)), into: base.appendingPathComponent("m2").path)) { e in
            XCTAssertTrue("\(e)".contains("missing"), "\(e)")
        }
        XCTAssertThrowsError(try DatasetMerge.merge(dirs + [dirs[0]], into: base.appendingPathComponent("m3").path))
    }

    func testManifestSplitIsStratifiedDisjointAndDeterministic() throws {
        let out = TestSupport.tempDir("split")
        var o = try options(out)
        o.sequences = ["T1wCE", "FLAIR"]
        let m = try DatasetConverter(options: o).run()
        let dsFile = out.appendingPathComponent("dataset.json").path
        let r = try ManifestSplit.split(datasetFile: dsFile, out: out.appendingPathComponent("m").path, valFraction: 0.34, seed: 7, folds: nil, sequence: "T1wCE")
        XCTAssertEqual(r.trainCount + r.validationCount, m.counts.labeled)
        let train = try JSONDecoder().decode(Datalist.self, from: Data(contentsOf: out.appendingPathComponent("m/train.json")))
        let val = try JSONDecoder().decode(Datalist.self, from: Data(contentsOf: out.appendingPathComponent("m/val.json")))
        let tr = Set(train.training!.map(\.case_)), va = Set(val.validation!.map(\.case_))
        XCTAssertTrue(tr.isDisjoint(with: va))
        XCTAssertEqual(Set(val.validation!.compactMap(\.label)), [0, 1], "both labels in validation")
        for item in train.training! {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("m/" + item.image).path), item.image)
            XCTAssertNotNil(item.sequences["FLAIR"])
        }
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        for f in r.files { XCTAssertEqual(try store.validate(file: f).map(\.description), [], f) }
        // Same seed, same split; another seed, another one.
        _ = try ManifestSplit.split(datasetFile: dsFile, out: out.appendingPathComponent("again").path, valFraction: 0.34, seed: 7, folds: nil, sequence: "T1wCE")
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("again/val.json")), try Data(contentsOf: out.appendingPathComponent("m/val.json")).replacing(Data(), with: Data()))
        // Folds: every labelled case validates exactly once.
        _ = try ManifestSplit.split(datasetFile: dsFile, out: out.appendingPathComponent("folds").path, valFraction: 0.2, seed: 1, folds: 3, sequence: nil)
        var seen: [String] = []
        for k in 0..<3 {
            let v = try JSONDecoder().decode(Datalist.self, from: Data(contentsOf: out.appendingPathComponent("folds/fold-\(k)/val.json")))
            seen += v.validation!.map(\.case_)
        }
        XCTAssertEqual(seen.sorted(), m.cases.filter { $0.label != nil }.map(\.id).sorted())
    }

    /// --plane axial puts every input's slices along S, whatever plane each series was acquired in.
    func testPlaneAxialAndScaledStorage() throws {
        var o = try options(TestSupport.tempDir("plane"))
        o.sequences = ["T2w"]
        o.plane = .axial
        o.storage = .scaledInt16
        let m = try DatasetConverter(options: o).run()
        XCTAssertTrue(m.cases.contains { $0.sequences[0].acquisitionPlane != "AXIAL" }, "the synthetic data mixes planes")
        for c in m.cases {
            let img = try NiftiIO.read(o.outputDir + "/" + c.sequences[0].input.path)
            XCTAssertEqual(img.sform.axisCodes, "RAS", c.id)
            XCTAssertEqual(img.datatypeCode, 4)
            XCTAssertEqual(img.scaledValues.max() ?? 0, 1, accuracy: 1e-4)
        }
    }

    func testLayoutHelpers() throws {
        let l = try layout
        XCTAssertEqual(l.normalizeID("12"), "00012")
        XCTAssertEqual(l.normalizeID("00709"), "00709")
        XCTAssertEqual(CSV.parse("a,\"b,c\",\"d\"\"e\"\r\n1,2,3\n"), [["a", "b,c", "d\"e"], ["1", "2", "3"]])
        XCTAssertEqual(DatasetConverter.shard(of: "00012", count: 4), DatasetConverter.shard(of: "00012", count: 4))
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        XCTAssertEqual(try store.validate(file: TestSupport.repoRoot.appendingPathComponent("manifests/layouts/rsna-miccai-2021.json").path).map(\.description), [])
    }
}

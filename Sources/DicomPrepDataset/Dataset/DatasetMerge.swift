import DicomPrepCore
import Foundation

/// Joins the dataset.json files of N shards (`dataset convert --shard K/N`) into one, refusing missing,
/// repeated or inconsistent shards and cases that appear twice. Files stay where the shards wrote them;
/// the merged manifest points at them relative to its own folder.
public enum DatasetMerge {
    public static func merge(_ shardDirs: [String], into out: String) throws(DicomPrepError) -> DatasetManifest {
        guard !shardDirs.isEmpty else { throw .usage("no shard folders given") }
        var manifests: [(dir: String, m: DatasetManifest)] = []
        for d in shardDirs {
            let p = d + "/dataset.json"
            guard let data = FileManager.default.contents(atPath: p) else { throw .io(path: p, reason: "cannot be read") }
            do { manifests.append((d, try JSONDecoder().decode(DatasetManifest.self, from: data))) } catch {
                throw .io(path: p, reason: "not a dataset.json: \(error)")
            }
        }
        guard let n = manifests.first?.m.shard?.count else { throw .usage("\(shardDirs[0])/dataset.json was not written with --shard") }
        var seen = Set<Int>()
        for (d, m) in manifests {
            guard let s = m.shard else { throw .usage("\(d)/dataset.json was not written with --shard") }
            guard s.count == n else { throw .usage("\(d) is shard \(s.index)/\(s.count), the others are of \(n)") }
            guard seen.insert(s.index).inserted else { throw .usage("shard \(s.index)/\(n) is given twice (\(d))") }
            guard m.optionsFingerprint == manifests[0].m.optionsFingerprint else { throw .usage("\(d) was converted with other options than \(manifests[0].dir)") }
        }
        let missing = (0..<n).filter { !seen.contains($0) }
        guard missing.isEmpty else { throw .usage("shards missing: \(missing.map { "\($0)/\(n)" }.joined(separator: ", "))") }
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw .io(path: out, reason: "cannot create the output folder")
        }
        var cases: [CaseRecord] = [], failed: [DatasetManifest.Skipped] = [], excluded: [DatasetManifest.Skipped] = []
        var owner: [String: String] = [:]
        for (d, m) in manifests {
            let prefix = relativePath(from: out, to: d)
            for var c in m.cases {
                let key = c.split + "/" + c.id
                if let other = owner[key] { throw .usage("case \(key) is in both \(other) and \(d)") }
                owner[key] = d
                c.sequences = c.sequences.map { s in
                    var s = s
                    func re(_ f: FileRecord) -> FileRecord { FileRecord(path: prefix.isEmpty ? f.path : prefix + "/" + f.path, sha256: f.sha256) }
                    s.volume = re(s.volume); s.sidecar = re(s.sidecar); s.input = re(s.input)
                    s.groups = s.groups.map(re); s.qc = s.qc.map(re)
                    return s
                }
                cases.append(c)
            }
            failed += m.failed
            excluded += m.excluded
        }
        cases.sort { ($0.split, $0.id) < ($1.split, $1.id) }
        // Exclusions are found by every shard; keep each once.
        var ex = Set<String>()
        excluded = excluded.filter { ex.insert(($0.split ?? "") + "/" + $0.id).inserted }
        var fl = Set<String>()
        failed = failed.filter { fl.insert(($0.split ?? "") + "/" + $0.id + $0.reason).inserted }
        let first = manifests[0].m
        let merged = DatasetManifest(
            layout: first.layout, root: first.root, settings: first.settings, optionsFingerprint: first.optionsFingerprint, shard: nil,
            cases: cases, failed: failed, excluded: excluded,
            counts: .init(cases: cases.count, labeled: cases.filter { $0.label != nil }.count, positive: cases.filter { $0.label == 1 }.count,
                          sequences: cases.reduce(0) { $0 + $1.sequences.count }, failed: failed.count, excluded: excluded.count,
                          resumed: manifests.reduce(0) { $0 + $1.m.counts.resumed }))
        try JSONOutput.write(merged, to: out + "/dataset.json")
        return merged
    }

    /// The path of `target` relative to folder `base` ("../shard-0", "sub", "").
    public static func relativePath(from base: String, to target: String) -> String {
        let b = URL(fileURLWithPath: base).standardizedFileURL.resolvingSymlinksInPath().pathComponents
        let t = URL(fileURLWithPath: target).standardizedFileURL.resolvingSymlinksInPath().pathComponents
        var i = 0
        while i < b.count && i < t.count && b[i] == t[i] { i += 1 }
        return (Array(repeating: "..", count: b.count - i) + t[i...]).joined(separator: "/")
    }
}

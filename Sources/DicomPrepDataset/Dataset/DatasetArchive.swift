import DicomPrepCore
import Foundation

/// A dataset download read as an archive (Kaggle's zip, a tar.gz): a first pass over the member headers
/// finds where the layout's split folders are, which members belong to which case folder, and reads the
/// label file; `DatasetConverter` then streams the members again, case by case, converting each case as
/// soon as all its members have arrived and forgetting them afterwards, so the archive is never extracted
/// to disk nor held in memory whole.
struct DatasetArchive {
    let path: String
    /// The folder inside the archive that holds the split folders ("" or e.g. "rsna-miccai/").
    let prefix: String
    /// Virtual case folder -> number of file members under it.
    var memberCount: [String: Int] = [:]
    /// Names under each split folder: case folder names, and plain files.
    var splitEntries: [String: (folders: Set<String>, files: Set<String>)] = [:]
    var labelText: String?
    var refused: [SkippedEntry] = []
    var damage: SkippedEntry?

    var root: String { path + "/" + prefix }

    static func index(_ path: String, layout: DatasetLayout) -> DatasetArchive {
        // Pass 1a: names only.
        var names: [String] = []
        var refused: [SkippedEntry] = []
        var damage = ArchiveReader.walk(path) { m in
            if m.isFile {
                if let r = m.refused { refused.append(SkippedEntry(path: path + "/" + m.inner, reason: r)) } else { names.append(m.inner) }
            }
            return true
        }
        // Where the split folders are: the shortest prefix before "<split>/<case>/".
        var prefixes: [String: Int] = [:]
        let splitFolders = layout.splits.map(\.folder)
        for n in names {
            let parts = n.split(separator: "/").map(String.init)
            for (i, p) in parts.enumerated() where splitFolders.contains(p) && i + 2 < parts.count {
                prefixes[parts[..<i].map { $0 + "/" }.joined(), default: 0] += 1
                break
            }
        }
        let prefix = prefixes.max { ($0.value, -$0.key.count) < ($1.value, -$1.key.count) }?.key ?? ""
        var a = DatasetArchive(path: path, prefix: prefix)
        a.refused = refused
        for n in names where n.hasPrefix(prefix) {
            let parts = n.dropFirst(prefix.count).split(separator: "/").map(String.init)
            guard let split = parts.first, splitFolders.contains(split), parts.count >= 2 else { continue }
            var e = a.splitEntries[split] ?? ([], [])
            if parts.count == 2 { e.files.insert(parts[1]) } else {
                e.folders.insert(parts[1])
                a.memberCount[a.root + split + "/" + parts[1], default: 0] += 1
            }
            a.splitEntries[split] = e
        }
        // Pass 1b: the label file's bytes (small), when the layout has one.
        if let lf = layout.labels?.file {
            let want = prefix + lf
            let d2 = ArchiveReader.walk(path) { m in
                guard m.inner == want else { return true }
                if case let .success(b) = m.read() { a.labelText = String(decoding: b, as: UTF8.self) }
                return false
            }
            damage = damage ?? d2
        }
        a.damage = damage
        return a
    }

    /// The virtual case folder a member belongs to, if any.
    func caseFolder(of inner: String) -> String? {
        guard inner.hasPrefix(prefix) else { return nil }
        let parts = inner.dropFirst(prefix.count).split(separator: "/")
        guard parts.count >= 3 else { return nil }
        return root + parts[0] + "/" + parts[1]
    }
}

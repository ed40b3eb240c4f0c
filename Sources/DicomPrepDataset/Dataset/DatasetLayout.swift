import DicomPrepCore
import Foundation

/// How a Kaggle-style dataset is laid out on disk, described by data (manifests/layouts/*.json) so that
/// another dataset is a new layout file, not new code.
public struct DatasetLayout: Codable, Sendable, Equatable {
    public var schema = "layout.schema.json"
    public var name: String
    public var description: String?
    /// Folders under the root holding cases, e.g. train (labelled) and test.
    public var splits: [Split]
    /// Regular expression a case folder name must match (others are reported and skipped).
    public var caseFolderPattern: String
    /// Zero-pad numeric ids from the label file to this many digits (RSNA: "12" -> "00012").
    public var idDigits: Int?
    /// Sequence folder names inside a case folder.
    public var sequences: [String]
    public var labels: LabelFile?
    public var submission: SubmissionFile?
    /// Cases known to be broken, excluded unless asked to keep them.
    public var exclude: [Exclusion]

    public struct Split: Codable, Sendable, Equatable {
        public var name: String
        public var folder: String
        public var labeled: Bool
    }
    public struct LabelFile: Codable, Sendable, Equatable {
        public var file: String
        public var idColumn: String
        public var labelColumn: String
    }
    public struct SubmissionFile: Codable, Sendable, Equatable {
        public var file: String
        public var idColumn: String
        public var valueColumn: String
    }
    public struct Exclusion: Codable, Sendable, Equatable {
        public var id: String
        public var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case name, description, splits, caseFolderPattern, idDigits, sequences, labels, submission, exclude
    }

    /// The canonical form of a case id (zero-padded when the layout says so).
    public func normalizeID(_ raw: String) -> String {
        let t = raw.trimmingCharacters(in: .whitespaces)
        if let d = idDigits, let n = Int(t), n >= 0 {
            let s = String(n)
            return s.count >= d ? s : String(repeating: "0", count: d - s.count) + s
        }
        return t
    }

    /// Reads a layout file.
    public static func load(file: String) throws(DicomPrepError) -> DatasetLayout {
        guard let data = FileManager.default.contents(atPath: file) else { throw .io(path: file, reason: "layout file cannot be read") }
        do {
            let l = try JSONDecoder().decode(DatasetLayout.self, from: data)
            _ = try NSRegularExpression(pattern: l.caseFolderPattern)
            return l
        } catch let e as DicomPrepError {
            throw e
        } catch {
            throw .io(path: file, reason: "not a valid layout: \(error)")
        }
    }

    /// A layout by name (manifests/layouts/NAME.json) or by path.
    public static func named(_ nameOrPath: String) throws(DicomPrepError) -> DatasetLayout {
        if nameOrPath.hasSuffix(".json") || nameOrPath.contains("/") { return try load(file: nameOrPath) }
        guard let dir = Resources.locate("manifests/layouts", marker: "rsna-miccai-2021.json", environment: "DICOMPREP_LAYOUTS") else {
            throw .usage("cannot find manifests/layouts; pass --layout FILE or set DICOMPREP_LAYOUTS")
        }
        let file = dir + "/" + nameOrPath + ".json"
        guard FileManager.default.fileExists(atPath: file) else {
            let have = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
            throw .usage("no layout named \(nameOrPath) (have: \(have.sorted().joined(separator: ", ")))")
        }
        return try load(file: file)
    }

    /// Labels from the label file under `root`, keyed by normalised id.
    public func readLabels(root: String) throws(DicomPrepError) -> [String: Int] {
        guard let lf = labels else { return [:] }
        let path = root + "/" + lf.file
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "label file cannot be read") }
        return try readLabels(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Labels from the label file's text (e.g. read from inside an archive).
    public func readLabels(text: String, path: String) throws(DicomPrepError) -> [String: Int] {
        guard let lf = labels else { return [:] }
        let (header, rows) = CSV.records(text)
        guard header.contains(lf.idColumn), header.contains(lf.labelColumn) else {
            throw .io(path: path, reason: "expected columns \(lf.idColumn) and \(lf.labelColumn), found \(header.joined(separator: ", "))")
        }
        var out: [String: Int] = [:]
        for (n, r) in rows.enumerated() {
            guard let id = r[lf.idColumn], !id.isEmpty, let v = r[lf.labelColumn], let label = Int(v) ?? Double(v).map({ Int($0) }) else {
                throw .io(path: path, reason: "row \(n + 2) has no id or no integer label")
            }
            out[normalizeID(id)] = label
        }
        return out
    }
}

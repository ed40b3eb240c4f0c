#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A file found under an input, with its folder relative to that input.
public struct ScannedFile: Sendable, Hashable {
    public var path: String
    public var relativeDir: String
}

/// A file (or folder) that was not used, and why.
public struct SkippedEntry: Sendable, Codable, Equatable {
    public var path: String
    public var reason: String
    /// True for files that are not DICOM at all (notes, spreadsheets): listed, but not an error of the run.
    public var notDicom: Bool?
    public init(path: String, reason: String, notDicom: Bool? = nil) {
        self.path = path
        self.reason = reason
        self.notDicom = notDicom
    }
}

/// Walks inputs recursively: every regular file whatever its name, symlinks followed once (loops are
/// detected by device and inode), unreadable folders and files reported, `exclude` (the output folder) left out.
public enum FileScanner {
    public static func scan(_ inputs: [String], exclude: [String] = []) -> (files: [ScannedFile], skipped: [SkippedEntry]) {
        var files: [ScannedFile] = []
        var skipped: [SkippedEntry] = []
        var visited = Set<[UInt64]>()
        var seenFiles = Set<[UInt64]>()
        let excluded = Set(exclude.map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path })

        func identity(_ path: String) -> (key: [UInt64], isDir: Bool, isFile: Bool)? {
            var st = stat()
            guard stat(path, &st) == 0 else { return nil }
            let mode = st.st_mode & S_IFMT
            return ([UInt64(st.st_dev), UInt64(st.st_ino)], mode == S_IFDIR, mode == S_IFREG)
        }

        func walk(_ dir: String, _ rel: String) {
            let real = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
            if excluded.contains(real) { return }
            guard let id = identity(dir) else {
                skipped.append(SkippedEntry(path: dir, reason: "folder cannot be read (\(String(cString: strerror(errno))))"))
                return
            }
            if visited.contains(id.key) {
                skipped.append(SkippedEntry(path: dir, reason: "symbolic link loop: folder already scanned"))
                return
            }
            visited.insert(id.key)
            guard let d = opendir(dir) else {
                skipped.append(SkippedEntry(path: dir, reason: "folder cannot be read (\(String(cString: strerror(errno))))"))
                return
            }
            var names: [String] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            names.sort(by: NaturalOrder.less)
            for name in names {
                let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
                guard let id = identity(path) else {
                    var lst = stat()
                    if lstat(path, &lst) == 0 && (lst.st_mode & S_IFMT) == S_IFLNK {
                        skipped.append(SkippedEntry(path: path, reason: "broken or looping symbolic link"))
                    } else {
                        skipped.append(SkippedEntry(path: path, reason: "cannot be read (\(String(cString: strerror(errno))))"))
                    }
                    continue
                }
                if id.isDir {
                    walk(path, rel.isEmpty ? name : rel + "/" + name)
                } else if id.isFile {
                    if name.hasPrefix(".") {
                        skipped.append(SkippedEntry(path: path, reason: "hidden file"))
                    } else if seenFiles.insert(id.key).inserted {
                        if ArchiveReader.isArchive(path) {
                            let stem = (name as NSString).deletingPathExtension
                            let x = ArchiveReader.expand(path, relativeDir: rel.isEmpty ? stem : rel + "/" + stem)
                            files += x.files
                            skipped += x.skipped
                        } else {
                            files.append(ScannedFile(path: path, relativeDir: rel))
                        }
                    } else {
                        skipped.append(SkippedEntry(path: path, reason: "same file as one already scanned (link)"))
                    }
                } else {
                    skipped.append(SkippedEntry(path: path, reason: "not a regular file"))
                }
            }
        }

        for input in inputs {
            // A virtual folder of archive members kept in memory (`dataset convert` on an archive).
            if identity(input) == nil {
                let members = ArchiveMembers.shared.files(under: input)
                if !members.isEmpty {
                    let base = input.hasSuffix("/") ? input : input + "/"
                    for m in members {
                        let rel = String(m.dropFirst(base.count))
                        files.append(ScannedFile(path: m, relativeDir: rel.split(separator: "/").dropLast().joined(separator: "/")))
                    }
                    continue
                }
            }
            guard let id = identity(input) else {
                skipped.append(SkippedEntry(path: input, reason: "does not exist or cannot be read"))
                continue
            }
            if id.isDir {
                walk(input, "")
            } else if id.isFile {
                guard seenFiles.insert(id.key).inserted else { continue }
                if ArchiveReader.isArchive(input) {
                    // Paths inside an archive given as input are its folders.
                    let x = ArchiveReader.expand(input, relativeDir: "")
                    files += x.files
                    skipped += x.skipped
                } else {
                    files.append(ScannedFile(path: input, relativeDir: ""))
                }
            } else {
                skipped.append(SkippedEntry(path: input, reason: "not a regular file or folder"))
            }
        }
        return (files, skipped)
    }
}

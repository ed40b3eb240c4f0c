import CArchive
import Foundation

/// Archives given as input (zip, zip64, tar, tar.gz/tgz, tar.bz2/xz, ...) read through libarchive without
/// extracting anything to disk: every member is read into memory once and stands for a file at the virtual
/// path `ARCHIVE/inner/path`, which parsing and decoding open like any other (`DicomObject(reading:)`).
/// Paths inside the archive play the role of folders in the output layout.
public enum ArchiveReader {
    /// At most this many bytes per member (a DICOM file larger than that is refused by name).
    public static let memberLimit = 4 << 30

    /// Whether the file is an archive rather than one (possibly gzip-compressed) DICOM file.
    /// Asked of every file a folder holds, on the one thread that walks the folders, so it reads the file
    /// name as bytes and the file's first 262 bytes with one `read`, not through Foundation.
    public static func isArchive(_ path: String) -> Bool {
        // The file name, ASCII letters in lower case (the suffixes compared are ASCII).
        var name = Array(path.utf8.reversed().prefix { $0 != UInt8(ascii: "/") }.reversed())
        for i in name.indices where name[i] >= 0x41 && name[i] <= 0x5A { name[i] += 0x20 }
        func ends(_ suffix: String) -> Bool { name.count >= suffix.utf8.count && name.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) }
        if ends(".dcm") || ends(".ima") || ends(".dicom") || ends(".dcm.gz") { return false }
        var head = [UInt8](repeating: 0, count: 262)
        let n = DicomSniffer.readHead(of: path, into: &head)
        if n >= 4 && head[0] == 0x50 && head[1] == 0x4B && ((head[2] == 0x03 && head[3] == 0x04) || (head[2] == 0x05 && head[3] == 0x06)) { return true }
        if n >= 262 && head[257..<262].elementsEqual("ustar".utf8) { return true }
        return [".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar"].contains { ends($0) }
    }

    /// Reads every member of the archive into memory; returns them as scanned files under `relativeDir`,
    /// and the members (or the archive) that could not be read, with the reason.
    public static func expand(_ path: String, relativeDir: String) -> (files: [ScannedFile], skipped: [SkippedEntry]) {
        var files: [ScannedFile] = [], skipped: [SkippedEntry] = []
        var err = [CChar](repeating: 0, count: 512)
        var reader: OpaquePointer?
        guard ca_open(path, &reader, &err, err.count) == CA_OK, let reader else {
            return ([], [SkippedEntry(path: path, reason: "not a readable archive: \(text(err))")])
        }
        defer { ca_close(reader) }
        while true {
            var name: UnsafePointer<CChar>?
            var isFile: Int32 = 0
            var size: Int64 = 0
            let rc = ca_next(reader, &name, &isFile, &size, &err, err.count)
            if rc == CA_END { break }
            if rc != CA_OK {
                skipped.append(SkippedEntry(path: path, reason: "archive is damaged after \(files.count) member(s): \(text(err)); the members before were read"))
                break
            }
            let inner = String(cString: name!)
            let virtual = path + "/" + inner
            guard isFile != 0 else { continue }
            let parts = inner.split(separator: "/").map(String.init).filter { !$0.isEmpty && $0 != "." }
            if parts.contains("..") || inner.hasPrefix("/") {
                skipped.append(SkippedEntry(path: virtual, reason: "archive member with an absolute or parent path; not read"))
                continue
            }
            if parts.last?.hasPrefix(".") == true {
                skipped.append(SkippedEntry(path: virtual, reason: "hidden file"))
                continue
            }
            var data: UnsafeMutablePointer<UInt8>?
            var len = 0
            guard ca_read(reader, &data, &len, memberLimit, &err, err.count) == CA_OK, let data else {
                skipped.append(SkippedEntry(path: virtual, reason: "archive member cannot be read: \(text(err))"))
                continue
            }
            var bytes = [UInt8](UnsafeBufferPointer(start: data, count: len))
            ca_free(data)
            // A member stored gzip-compressed on its own (IM0001.dcm.gz) is kept decompressed.
            if bytes.starts(with: [0x1F, 0x8B]) {
                do throws(DicomPrepError) {
                    bytes = try Gzip.decompress(bytes)
                } catch {
                    skipped.append(SkippedEntry(path: virtual, reason: "archive member is gzip-compressed and \(error.reason)"))
                    continue
                }
            }
            ArchiveMembers.shared.keep(virtual, bytes)
            let dir = parts.dropLast().joined(separator: "/")
            files.append(ScannedFile(path: virtual, relativeDir: [relativeDir, dir].filter { !$0.isEmpty }.joined(separator: "/")))
        }
        return (files, skipped)
    }

    static func text(_ buf: [CChar]) -> String { String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

    /// One member met while walking an archive.
    public struct Member {
        /// The path inside the archive.
        public var inner: String
        public var isFile: Bool
        public var size: Int64
        /// A reason when the name is refused (absolute or parent path, hidden file).
        public var refused: String?
        /// Reads the member's bytes (gzip-compressed members decompressed); only while visiting it.
        public let read: () -> Result<[UInt8], DicomPrepError>
    }

    /// Walks the archive member by member, streaming (unread data is skipped by libarchive); `visit`
    /// returns false to stop. Returns the damage met, if any (the members before it were visited).
    public static func walk(_ path: String, visit: (Member) -> Bool) -> SkippedEntry? {
        var err = [CChar](repeating: 0, count: 512)
        var reader: OpaquePointer?
        guard ca_open(path, &reader, &err, err.count) == CA_OK, let reader else {
            return SkippedEntry(path: path, reason: "not a readable archive: \(text(err))")
        }
        defer { ca_close(reader) }
        var count = 0
        while true {
            var name: UnsafePointer<CChar>?
            var isFile: Int32 = 0
            var size: Int64 = 0
            let rc = ca_next(reader, &name, &isFile, &size, &err, err.count)
            if rc == CA_END { return nil }
            if rc != CA_OK {
                return SkippedEntry(path: path, reason: "archive is damaged after \(count) member(s): \(text(err)); the members before were read")
            }
            count += 1
            let inner = String(cString: name!)
            let parts = inner.split(separator: "/").map(String.init).filter { !$0.isEmpty && $0 != "." }
            var refused: String?
            if parts.contains("..") || inner.hasPrefix("/") { refused = "archive member with an absolute or parent path; not read" }
            else if parts.last?.hasPrefix(".") == true { refused = "hidden file" }
            let virtual = path + "/" + inner
            let member = Member(inner: parts.joined(separator: "/"), isFile: isFile != 0, size: size, refused: refused) {
                var data: UnsafeMutablePointer<UInt8>?
                var len = 0
                var e = [CChar](repeating: 0, count: 512)
                guard ca_read(reader, &data, &len, memberLimit, &e, e.count) == CA_OK, let data else {
                    return .failure(.corrupt(path: virtual, reason: "archive member cannot be read: \(text(e))"))
                }
                var bytes = [UInt8](UnsafeBufferPointer(start: data, count: len))
                ca_free(data)
                if bytes.starts(with: [0x1F, 0x8B]) {
                    do throws(DicomPrepError) { bytes = try Gzip.decompress(bytes) } catch {
                        return .failure(.corrupt(path: virtual, reason: "archive member is gzip-compressed and \(error.reason)"))
                    }
                }
                return .success(bytes)
            }
            if !visit(member) { return nil }
        }
    }
}

/// The bytes of archive members read this run, by virtual path.
package final class ArchiveMembers: @unchecked Sendable {
    package static let shared = ArchiveMembers()
    private var bytes: [String: [UInt8]] = [:]
    private let lock = NSLock()
    package func keep(_ path: String, _ b: [UInt8]) { lock.withLock { bytes[path] = b } }
    package func bytes(_ path: String) -> [UInt8]? { lock.withLock { bytes[path] } }
    /// Virtual paths of the members kept under a virtual folder, in natural order.
    package func files(under folder: String) -> [String] {
        let p = folder.hasSuffix("/") ? folder : folder + "/"
        return lock.withLock { bytes.keys.filter { $0.hasPrefix(p) } }.sorted(by: NaturalOrder.less)
    }
    /// Forgets the members under a virtual folder (once they are converted).
    package func release(under folder: String) {
        let p = folder.hasSuffix("/") ? folder : folder + "/"
        lock.withLock { for k in bytes.keys where k.hasPrefix(p) { bytes[k] = nil } }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes files so that a reader never sees a half-written one: a temporary file in the same folder,
/// fsync, then rename over the final name.
public enum AtomicFile {
    /// Writes the concatenation of `parts` to `path` atomically, creating parent folders.
    public static func write(_ parts: [UnsafeRawBufferPointer], to path: String) throws(DicomPrepError) {
        try stream(to: path) { (write) throws(DicomPrepError) in
            for p in parts { try write(p) }
        }
    }

    /// Writes what `produce` hands to its `write` function, in order, to `path` atomically (a temporary file
    /// in the same folder, fsync, rename), so large outputs need not be held whole in memory.
    public static func stream(to path: String,
                              _ produce: ((UnsafeRawBufferPointer) throws(DicomPrepError) -> Void) throws(DicomPrepError) -> Void) throws(DicomPrepError) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw .io(path: dir, reason: "cannot create folder (\(error.localizedDescription))")
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, reason: "cannot create file: \(String(cString: strerror(errno)))") }
        func write(_ part: UnsafeRawBufferPointer) throws(DicomPrepError) {
            var off = 0
            while off < part.count {
                let n = Glibc.write(fd, part.baseAddress! + off, part.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .io(path: path, reason: "cannot write file: \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
        do throws(DicomPrepError) {
            try produce(write)
            if fsync(fd) != 0 { throw .io(path: path, reason: "cannot write file: \(String(cString: strerror(errno)))") }
            close(fd)
            if rename(tmp, path) != 0 { throw .io(path: path, reason: "cannot write file: \(String(cString: strerror(errno)))") }
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
    }

    /// Removes temporary files that a killed run left under `dir` (dicomprep's `.NAME.tmp-PID-N` and
    /// libtorch's `NAME.tmp-PID`) when their process is gone; returns how many.
    @discardableResult
    public static func removeStaleTemporaries(under dir: String) -> Int {
        // A walk with readdir and the entries' own types, names compared as bytes: the output folder of a
        // resumed run can hold hundreds of thousands of files, and FileManager's enumerator spent ~100k
        // instructions per entry on path strings.
        var removed = 0
        var pending = [dir]
        let me = getpid()
        while let d = pending.popLast() {
            guard let handle = opendir(d) else { continue }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let (name, isDir) = withUnsafeBytes(of: entry.pointee.d_name) { raw -> (String?, Bool) in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    let n = bytes.firstIndex(of: 0) ?? bytes.count
                    if n == 0 || (bytes[0] == 0x2E && (n == 1 || (n == 2 && bytes[1] == 0x2E))) { return (nil, false) }
                    let type = entry.pointee.d_type
                    var isDir = type == UInt8(DT_DIR)
                    if type == UInt8(DT_UNKNOWN) {
                        var st = stat()
                        let path = d + "/" + String(decoding: UnsafeBufferPointer(rebasing: bytes[..<n]), as: UTF8.self)
                        isDir = lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
                    }
                    if isDir { return (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<n]), as: UTF8.self), true) }
                    guard let pid = temporaryOwner(UnsafeBufferPointer(rebasing: bytes[..<n])), pid != me else { return (nil, false) }
                    guard kill(pid, 0) != 0 && errno == ESRCH else { return (nil, false) }
                    return (String(decoding: UnsafeBufferPointer(rebasing: bytes[..<n]), as: UTF8.self), false)
                }
                guard let name else { continue }
                if isDir { pending.append(d + "/" + name) } else if unlink(d + "/" + name) == 0 { removed += 1 }
            }
        }
        return removed
    }

    /// The process id in a temporary file's name (the digits after its last ".tmp-"), or nil.
    static func temporaryOwner(_ name: UnsafeBufferPointer<UInt8>) -> Int32? {
        let marker: [UInt8] = Array(".tmp-".utf8)
        guard name.count > marker.count else { return nil }
        var at = name.count - marker.count
        while at >= 0 {
            if name[at] == marker[0] && (1..<marker.count).allSatisfy({ name[at + $0] == marker[$0] }) { break }
            at -= 1
        }
        guard at >= 0 else { return nil }
        var pid: Int32 = 0, digits = 0
        for b in name[(at + marker.count)...] {
            guard b >= 0x30 && b <= 0x39, digits < 9 else { break }
            pid = pid * 10 + Int32(b - 0x30)
            digits += 1
        }
        return digits > 0 && pid > 0 ? pid : nil
    }

    /// Writes bytes atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws(DicomPrepError) {
        let failure: DicomPrepError? = bytes.withUnsafeBytes { b -> DicomPrepError? in
            do throws(DicomPrepError) { try write([b], to: path); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// Writes text (UTF-8) atomically.
    public static func write(text: String, to path: String) throws(DicomPrepError) {
        try write(Array(text.utf8), to: path)
    }
}

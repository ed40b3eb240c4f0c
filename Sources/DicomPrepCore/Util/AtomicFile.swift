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
        guard let e = FileManager.default.enumerator(atPath: dir) else { return 0 }
        var removed = 0
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            guard let r = name.range(of: ".tmp-", options: .backwards) else { continue }
            let pidText = name[r.upperBound...].prefix { $0.isNumber }
            guard let pid = Int32(pidText), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                if unlink(dir + "/" + rel) == 0 { removed += 1 }
            }
        }
        return removed
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

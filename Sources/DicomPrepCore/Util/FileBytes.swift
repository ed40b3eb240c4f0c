import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading part of a file with POSIX calls: no `FileHandle` (whose `readData` traps on a folder or a read
/// error) and no `Data` in between, straight into the caller's array.
enum FileBytes {
    enum Failure: Error {
        /// The file cannot be opened, or reading failed: the system's reason.
        case open(String), read(String)
    }

    /// Reads up to `buffer.count` bytes from `offset` into `buffer`; how many were read (fewer at the end of
    /// the file, 0 from a folder).
    static func read(_ path: String, at offset: UInt64 = 0, into buffer: inout [UInt8]) -> Result<Int, Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(.open(String(cString: strerror(errno)))) }
        defer { close(fd) }
        let count = buffer.count
        var total = 0
        while total < count {
            let r = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + total, count - total, off_t(offset) + off_t(total)) }
            if r < 0 && errno == EINTR { continue }
            if r < 0 && errno == EISDIR { break }
            if r < 0 { return .failure(.read(String(cString: strerror(errno)))) }
            if r == 0 { break }
            total += r
        }
        return .success(total)
    }
}

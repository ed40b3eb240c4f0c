import CDeflate
import Dispatch
import Foundation

/// gzip compression through libdeflate. Large inputs are cut into independent members compressed in
/// parallel; a multi-member gzip stream is valid and read whole by zlib, libnifti and nibabel.
public enum Gzip {
    /// Bytes per gzip member: large enough that the ratio is unchanged, small enough to spread over cores.
    static let largestMember = 4 << 20
    static let smallestMember = 128 << 10

    /// Bytes per member for `n` bytes of data: 4 MB, or for smaller data about a quarter of it (at least
    /// 128 KB), so that a small volume (a field map's 300 KB) is compressed on several cores too, not on
    /// one while the others wait. It depends only on `n`: the same bytes whatever the number of threads.
    static func memberSize(for n: Int) -> Int {
        let quarter = (n / 4 + 0xFFFF) / 0x10000 * 0x10000
        return min(largestMember, max(smallestMember, quarter))
    }

    /// Compresses `data` into gzip members (concatenated, they are one valid gzip stream) with `level`
    /// (0...12) using up to `threads` threads. Members are returned separately so that nobody has to
    /// hold a second, concatenated copy.
    public static func compressMembers(_ data: UnsafeRawBufferPointer, level: Int, threads: Int) throws(DicomPrepError) -> [[UInt8]] {
        try compressMembers(data, level: level, threads: threads, memberSize: memberSize(for: data.count))
    }

    static func compressMembers(_ data: UnsafeRawBufferPointer, level: Int, threads: Int, memberSize: Int) throws(DicomPrepError) -> [[UInt8]] {
        let n = data.count
        let members = max(1, (n + memberSize - 1) / memberSize)
        let results = UnsafeSendableBox<[[UInt8]]>([[UInt8]](repeating: [], count: members))
        let base = UnsafeSendablePointer(data.baseAddress)
        Parallel.forEach(count: members, threads: threads) { k in
            let start = k * memberSize
            let len = min(memberSize, n - start)
            let bound = cdf_gzip_bound(len)
            // Uninitialised capacity: pages past the compressed size are never touched.
            let out = [UInt8](unsafeUninitializedCapacity: bound) { buf, count in
                count = cdf_gzip(base.pointer.map { $0 + start }, len, Int32(level), buf.baseAddress, bound)
            }
            results.withLock { $0[k] = out }
        }
        let parts = results.take()
        if parts.contains(where: \.isEmpty) { throw .io(path: "", reason: "gzip compression failed") }
        return parts
    }

    /// Compresses `data` member by member and hands each compressed member to `emit`, in order, as soon as
    /// its batch (a few members per thread) is done: at most one batch of compressed output is held, not
    /// the whole file's.
    public static func compressMembers(_ data: UnsafeRawBufferPointer, level: Int, threads: Int,
                                       emit: (UnsafeRawBufferPointer) throws(DicomPrepError) -> Void) throws(DicomPrepError) {
        let member = memberSize(for: data.count)
        let batch = member * max(1, threads) * 2
        var start = 0
        repeat {
            let len = min(batch, data.count - start)
            let slice = UnsafeRawBufferPointer(rebasing: data[start..<(start + len)])
            for part in try compressMembers(slice, level: level, threads: threads, memberSize: member) {
                try part.withUnsafeBytes { b in catching { () throws(DicomPrepError) in try emit(b) } }.get()
            }
            start += len
        } while start < data.count
    }

    /// Compresses into one contiguous gzip stream.
    public static func compress(_ data: UnsafeRawBufferPointer, level: Int, threads: Int) throws(DicomPrepError) -> [UInt8] {
        let parts = try compressMembers(data, level: level, threads: threads)
        if parts.count == 1 { return parts[0] }
        var total: [UInt8] = []
        total.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for p in parts { total.append(contentsOf: p) }
        return total
    }

    /// Whether a file starts with the gzip signature.
    public static func isGzip(_ path: String) -> Bool {
        var head: [UInt8] = [0, 0]
        return DicomSniffer.readHead(of: path, into: &head) == 2 && head == [0x1F, 0x8B]
    }

    /// Decompresses a whole gzip file (all members) in memory; at most `limit` bytes.
    public static func decompressWholeFile(_ path: String, limit: Int = 4 << 30) throws(DicomPrepError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot be read") }
        do throws(DicomPrepError) {
            return try decompress([UInt8](data), limit: limit)
        } catch {
            throw .corrupt(path: path, reason: error.reason)
        }
    }

    /// Decompresses gzip data in memory (all members), sized by the trailer (ISIZE) and grown when that is too
    /// small (several members, or more than 4 GiB); at most `limit` bytes.
    public static func decompress(_ data: [UInt8], limit: Int = 4 << 30) throws(DicomPrepError) -> [UInt8] {
        var guess = 1 << 16
        if data.count >= 18 {
            let t = data.suffix(4).map { UInt32($0) }
            guess = max(guess, Int(t[0] | t[1] << 8 | t[2] << 16 | t[3] << 24) + 1)
        }
        while true {
            let cap = min(guess, limit)
            var out = [UInt8](repeating: 0, count: cap)
            let n = data.withUnsafeBytes { i in out.withUnsafeMutableBytes { o in cdf_gunzip_buffer(i.baseAddress, i.count, o.baseAddress, cap) } }
            if n >= 0 {
                out.removeSubrange(Int(n)..<out.count)
                return out
            }
            if n == -1 || cap == limit { throw .corrupt(path: "", reason: n == -1 ? "corrupt or truncated gzip data" : "gzip data larger than the limit") }
            guess *= 2
        }
    }

    /// Decompresses a gzip file (all members) whose uncompressed size is at most `limit` bytes.
    public static func decompressFile(_ path: String, limit: Int) throws(DicomPrepError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: limit)
        let n = out.withUnsafeMutableBytes { cdf_gunzip_file(path, $0.baseAddress, limit) }
        guard n >= 0 else { throw .io(path: path, reason: "not a readable gzip file") }
        out.removeSubrange(Int(n)..<out.count)
        return out
    }
}

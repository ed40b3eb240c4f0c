import Foundation

/// Tells from its first bytes whether data are plainly not DICOM: DICOM has "DICM" after a 128-byte preamble,
/// or (without a meta header) starts with an attribute; only what is clearly something else is refused,
/// dcmtk judges the rest.
enum DicomSniffer {
    /// What the data are instead ("text, with no DICOM preamble", "a PDF document", ...), or nil when they may be DICOM.
    static func notDicom(_ head: ArraySlice<UInt8>) -> String? {
        let head = Array(head)
        if head.isEmpty { return "empty" }
        if head.count >= 132 && head[128] == 0x44 && head[129] == 0x49 && head[130] == 0x43 && head[131] == 0x4D { return nil }
        let signatures: [(bytes: [UInt8], what: String)] = [
            ([0x50, 0x4B, 0x03, 0x04], "a zip container (spreadsheet, document or archive)"), ([0x25, 0x50, 0x44, 0x46], "a PDF document"),
            ([0x89, 0x50, 0x4E, 0x47], "a PNG picture"), ([0xFF, 0xD8, 0xFF], "a JPEG picture"), ([0x47, 0x49, 0x46, 0x38], "a GIF picture"),
            ([0xD0, 0xCF, 0x11, 0xE0], "an Office document"), ([0x1F, 0x8B], "gzip-compressed data"),
        ]
        for s in signatures where head.starts(with: s.bytes) { return s.what }
        if head.count >= 262 && Array(head[257..<262]) == Array("ustar".utf8) { return "a tar archive" }
        let text = head.allSatisfy { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || ($0 >= 0x20 && $0 != 0x7F) }
        return text ? "text, with no DICOM preamble (\"DICM\")" : nil
    }

    /// Whether bytes that dcmtk could not read still look like DICOM (a preamble, or an attribute of group
    /// 0002 or 0008 near the start, explicit or implicit VR): then the file is damaged DICOM, otherwise it is
    /// something else.
    static func looksLikeDicom(_ head: [UInt8]) -> Bool {
        if head.count >= 132 && head[128] == 0x44 && head[129] == 0x49 && head[130] == 0x43 && head[131] == 0x4D { return true }
        func upper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5A }
        let n = head.count
        guard n >= 8 else { return false }
        for i in 0..<min(64, n - 8) where (head[i] == 0x08 || head[i] == 0x02) && head[i + 1] == 0x00 {
            if (upper(head[i + 4]) && upper(head[i + 5])) || (head[i + 6] == 0 && head[i + 7] == 0) { return true }
        }
        return false
    }

    /// Reads the first `buffer.count` bytes of a file (or archive member) into `buffer`; how many were read
    /// (0 when it cannot be read).
    static func readHead(of path: String, into buffer: inout [UInt8]) -> Int {
        if let member = ArchiveMembers.shared.bytes(path) {
            let n = min(buffer.count, member.count)
            buffer.replaceSubrange(0..<n, with: member.prefix(n))
            return n
        }
        if case let .success(n) = FileBytes.read(path, into: &buffer) { return n }
        return 0
    }

    /// The first `count` bytes of a file (empty when it cannot be read).
    static func head(of path: String, count: Int = 512) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = readHead(of: path, into: &buffer)
        buffer.removeLast(count - n)
        return buffer
    }
}

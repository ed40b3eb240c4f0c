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
}

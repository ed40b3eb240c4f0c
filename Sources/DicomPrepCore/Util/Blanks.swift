extension StringProtocol {
    /// Without leading and trailing spaces and tabs (DICOM pads text values with spaces). Works on the
    /// UTF-8 bytes: Foundation's `trimmingCharacters(in: .whitespaces)` costs ~9k instructions a call, and
    /// the parser makes several per file.
    public var trimmingBlanks: String {
        let u = Array(utf8)
        var a = 0, e = u.count
        while a < e && (u[a] == 0x20 || u[a] == 0x09) { a += 1 }
        while e > a && (u[e - 1] == 0x20 || u[e - 1] == 0x09) { e -= 1 }
        return String(decoding: u[a..<e], as: UTF8.self)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (DICOM pads text values with spaces). Works on the
    /// UTF-8 bytes: Foundation's `trimmingCharacters(in: .whitespaces)` costs ~9k instructions a call, and
    /// the parser makes several per file. Native strings are trimmed in their own storage, not copied
    /// first (a Siemens protocol text is ~100 KB).
    public var trimmingBlanks: String {
        let trim = { (u: UnsafeBufferPointer<UInt8>) -> String in
            var a = 0, e = u.count
            while a < e && (u[a] == 0x20 || u[a] == 0x09) { a += 1 }
            while e > a && (u[e - 1] == 0x20 || u[e - 1] == 0x09) { e -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: u[a..<e]), as: UTF8.self)
        }
        return utf8.withContiguousStorageIfAvailable(trim) ?? Array(utf8).withUnsafeBufferPointer(trim)
    }
}

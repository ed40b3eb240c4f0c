/// A Siemens CSA header (private element (0029,xx10) image or (0029,xx20) series, creator
/// "SIEMENS CSA HEADER"): named elements, each a list of text values. Both layouts are read: CSA2
/// (starts with "SV10") and the older CSA1; the format is the one nibabel's `nicom/csareader.py` documents.
public struct CSAHeader: Sendable, Equatable {
    public private(set) var elements: [String: [String]] = [:]

    /// Parses the raw bytes; nil when they are not a CSA header (too short, implausible counts).
    public init?(_ bytes: [UInt8]) {
        var p = 0
        let csa2 = bytes.count >= 8 && bytes[0] == 0x53 && bytes[1] == 0x56 && bytes[2] == 0x31 && bytes[3] == 0x30
        if csa2 { p = 8 }
        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return Int(UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24)
        }
        func i32(_ at: Int) -> Int? { u32(at).map { Int(Int32(truncatingIfNeeded: $0)) } }
        guard let nTags = u32(p), nTags > 0, nTags <= 1000 else { return nil }
        p += 8
        var firstItems: Int?
        for tagNo in 0..<nTags {
            guard p + 84 <= bytes.count else { return nil }
            let nameBytes = bytes[p..<(p + 64)].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard let vm = i32(p + 64), let nItems = i32(p + 76), nItems >= 0, nItems < 1000 else { return nil }
            p += 84
            if tagNo == 1 { firstItems = nItems }
            var values: [String] = []
            for itemNo in 0..<nItems {
                guard let x0 = i32(p), let x1 = i32(p + 4) else { return nil }
                p += 16
                var len = csa2 ? x1 : x0 - (firstItems ?? nItems)
                if len < 0 || p + len > bytes.count {
                    if csa2 { return nil }
                    break
                }
                // The text up to its NUL, without surrounding blanks.
                var e = p
                while e < p + len && bytes[e] != 0 { e += 1 }
                let text = bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[p..<e]), as: UTF8.self) }.trimmingBlanks
                if vm == 0 || itemNo < vm { values.append(text) }
                if len % 4 != 0 { len += 4 - len % 4 }
                p += len
            }
            // Trailing empty items stand for values not written.
            while let l = values.last, l.isEmpty { values.removeLast() }
            if !name.isEmpty { elements[name] = values }
        }
    }

    public func strings(_ name: String) -> [String] { elements[name] ?? [] }
    public func doubles(_ name: String) -> [Double] { strings(name).compactMap { Double($0) } }
    public func double(_ name: String) -> Double? { doubles(name).first }
    public func int(_ name: String) -> Int? { double(name).flatMap { $0.isFinite ? Int($0) : nil } }
}

import CDicom

/// A DICOM tag, (group << 16) | element.
public struct Tag: Hashable, Sendable, CustomStringConvertible {
    public let raw: UInt32
    public init(_ group: UInt16, _ element: UInt16) { raw = UInt32(group) << 16 | UInt32(element) }
    public var description: String {
        let g = String(raw >> 16, radix: 16, uppercase: true), e = String(raw & 0xFFFF, radix: 16, uppercase: true)
        return "(" + String(repeating: "0", count: 4 - g.count) + g + "," + String(repeating: "0", count: 4 - e.count) + e + ")"
    }
}

/// A path to an element, through sequence items: `[(seq, item), (seq, item), ..., tag]`.
public struct TagPath: Sendable {
    var tags: [UInt32]
    var items: [UInt32]
    public init(_ tag: Tag) { tags = [tag.raw]; items = [0] }
    public init(_ steps: [(Tag, Int)], _ last: Tag) {
        tags = steps.map { $0.0.raw } + [last.raw]
        items = steps.map { UInt32($0.1) } + [0]
    }
}

/// The only Swift type that holds a dcmtk object. It turns every status code into a `DicomPrepError`
/// naming the file; no C pointer leaves this file.
final class DicomObject {
    private let handle: OpaquePointer
    let path: String

    /// Reads a file; large values such as PixelData are loaded only when decoded.
    init(reading path: String) throws(DicomPrepError) {
        var h: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        let rc = cd_open(path, &h, &err, err.count)
        guard rc == CD_OK, let h else {
            throw .unreadable(path: path, reason: Self.text(err))
        }
        handle = h
        self.path = path
    }

    /// A new, empty dataset to fill and save.
    init(newAt path: String) throws(DicomPrepError) {
        var h: OpaquePointer?
        guard cd_new(&h) == CD_OK, let h else { throw .io(path: path, reason: "cannot create a DICOM dataset") }
        handle = h
        self.path = path
    }

    deinit { cd_close(handle) }

    private static func text(_ buf: [CChar]) -> String {
        let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The element's text (values separated by `\`), or nil when absent or empty.
    func string(_ path: TagPath) -> String? {
        var buf = [CChar](repeating: 0, count: 256)
        var needed = 0
        var rc = cd_get_string(handle, path.tags, path.items, Int32(path.tags.count), &buf, buf.count, &needed)
        if rc == CD_OK && needed >= buf.count {
            buf = [CChar](repeating: 0, count: needed + 1)
            rc = cd_get_string(handle, path.tags, path.items, Int32(path.tags.count), &buf, buf.count, &needed)
        }
        guard rc == CD_OK else { return nil }
        return Self.text(buf)
    }

    func string(_ tag: Tag) -> String? { string(TagPath(tag)) }

    /// The element's raw value bytes and VR (little-endian numbers for binary VRs, the text for string VRs).
    func bytes(_ path: TagPath) -> (bytes: [UInt8], vr: String)? {
        var buf = [UInt8](repeating: 0, count: 512)
        var needed = 0
        var vr = [CChar](repeating: 0, count: 3)
        var rc = cd_get_bytes(handle, path.tags, path.items, Int32(path.tags.count), &buf, buf.count, &needed, &vr)
        if rc == CD_OK && needed > buf.count {
            buf = [UInt8](repeating: 0, count: needed)
            rc = cd_get_bytes(handle, path.tags, path.items, Int32(path.tags.count), &buf, buf.count, &needed, &vr)
        }
        guard rc == CD_OK else { return nil }
        return (Array(buf.prefix(needed)), Self.text(vr))
    }

    /// Resolves a private element by its creator: (group, xx<<8 | element) where (group, 00xx) holds `creator`.
    /// `steps` is the sequence path of the item that holds both (empty for the top level).
    func privateTag(_ group: UInt16, creator: String, element: UInt8, in steps: [(Tag, Int)] = []) -> TagPath? {
        for block in UInt16(0x10)...UInt16(0xFF) {
            guard let c = string(TagPath(steps, Tag(group, block))) else {
                if block >= 0x20 { break }
                continue
            }
            if c.trimmingCharacters(in: .whitespaces).caseInsensitiveCompare(creator) == .orderedSame {
                return TagPath(steps, Tag(group, block << 8 | UInt16(element)))
            }
        }
        return nil
    }

    /// The number of items in a sequence (0 when absent).
    func itemCount(_ path: TagPath) -> Int {
        var n: UInt32 = 0
        guard cd_item_count(handle, path.tags, path.items, Int32(path.tags.count), &n) == CD_OK else { return 0 }
        return Int(n)
    }

    var transferSyntax: String {
        var buf = [CChar](repeating: 0, count: 80)
        _ = cd_transfer_syntax(handle, &buf, buf.count)
        return Self.text(buf)
    }

    struct PixelInfo { var length: UInt64; var encapsulated: Bool; var fragments: Int; var decodable: Bool }

    /// What PixelData holds, without decoding it; nil when there is none.
    func pixelInfo() -> PixelInfo? {
        var info = cd_pixel_info()
        var err = [CChar](repeating: 0, count: 256)
        guard cd_get_pixel_info(handle, &info, &err, err.count) == CD_OK else { return nil }
        return PixelInfo(length: info.length, encapsulated: info.encapsulated != 0, fragments: Int(info.fragments),
                         decodable: info.decodable != 0)
    }

    /// Decodes every frame into raw stored samples (host byte order, BitsAllocated wide).
    func decodePixels(frames: Int, rows: Int, columns: Int, bitsAllocated: Int, into buffer: UnsafeMutableRawBufferPointer) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 512)
        let rc = cd_decode_pixels(handle, UInt32(frames), UInt32(rows), UInt32(columns), UInt32(bitsAllocated),
                                  buffer.baseAddress, buffer.count, &err, err.count)
        switch Int(rc) {
        case CD_OK: return
        case CD_UNSUPPORTED: throw .unsupported(path: path, reason: Self.text(err))
        case CD_ABSENT: throw .notAnImage(path: path, reason: Self.text(err))
        default: throw .corrupt(path: path, reason: Self.text(err))
        }
    }

    // MARK: writing

    func put(_ path: TagPath, _ value: String) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 256)
        guard cd_put_string(handle, path.tags, path.items, Int32(path.tags.count), value, &err, err.count) == CD_OK else {
            throw .io(path: self.path, reason: "cannot set \(Tag(UInt16(path.tags.last! >> 16), UInt16(path.tags.last! & 0xFFFF))): \(Self.text(err))")
        }
    }

    func put(_ tag: Tag, _ value: String) throws(DicomPrepError) { try put(TagPath(tag), value) }

    func putPixels(_ bytes: UnsafeRawBufferPointer, bitsAllocated: Int) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 256)
        guard cd_put_pixels(handle, bytes.baseAddress, bytes.count, UInt32(bitsAllocated), &err, err.count) == CD_OK else {
            throw .io(path: path, reason: "cannot set PixelData: \(Self.text(err))")
        }
    }

    /// Transfer syntaxes dcmtk can write without an encoder.
    enum WriteSyntax: Int32 { case explicitLittle = 0, implicitLittle = 1, explicitBig = 2, deflated = 3 }

    func save(to file: String, syntax: WriteSyntax) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 256)
        guard cd_save(handle, file, syntax.rawValue, &err, err.count) == CD_OK else {
            throw .io(path: file, reason: "cannot write DICOM: \(Self.text(err))")
        }
    }
}

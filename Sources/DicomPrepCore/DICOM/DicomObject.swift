import CDicom
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The only Swift type that holds a dcmtk object. It turns every status code into a `DicomPrepError`
/// naming the file; no C pointer leaves this file.
package final class DicomObject {
    private let handle: OpaquePointer
    package let path: String

    /// Reads a file; large values such as PixelData are loaded only when decoded. A gzip-compressed file
    /// (`.dcm.gz`) is decompressed in memory and read from there; `gzip` says whether it is one when the
    /// caller already knows (nil: look at the file).
    package init(reading path: String, gzip: Bool? = nil) throws(DicomPrepError) {
        var h: OpaquePointer?
        var err = [CChar](repeating: 0, count: 512)
        var rc: Int32
        if let member = ArchiveMembers.shared.bytes(path) {
            rc = member.withUnsafeBytes { cd_open_memory($0.baseAddress, $0.count, &h, &err, err.count) }
        } else if gzip ?? Gzip.isGzip(path) {
            let bytes = try Gzip.decompressWholeFile(path)
            if let why = DicomSniffer.notDicom(bytes.prefix(512)) {
                throw .notDicom(path: path, reason: "gzip-compressed, and what it holds is \(why) (a compressed archive is read as one when named .tar.gz or .tgz)")
            }
            rc = bytes.withUnsafeBytes { cd_open_memory($0.baseAddress, $0.count, &h, &err, err.count) }
            if rc != CD_OK && !DicomSniffer.looksLikeDicom(Array(bytes.prefix(512))) {
                throw .notDicom(path: path, reason: "gzip-compressed, and what it holds has no DICOM preamble (\"DICM\") and no DICOM attribute at its start")
            }
        } else {
            rc = cd_open(path, &h, &err, err.count)
        }
        guard rc == CD_OK, let h else {
            throw .unreadable(path: path, reason: Self.text(err))
        }
        handle = h
        self.path = path
    }

    /// A new, empty dataset to fill and save.
    package init(newAt path: String) throws(DicomPrepError) {
        var h: OpaquePointer?
        guard cd_new(&h) == CD_OK, let h else { throw .io(path: path, reason: "cannot create a DICOM dataset") }
        handle = h
        self.path = path
    }

    deinit { cd_close(handle) }

    /// The reader's one-time set-up (decoders, data dictionary); every other call does it when needed.
    package static func prepare() { cd_init() }

    /// Checks the data dictionary read at start-up by the shim's fast reader against dcmtk's own
    /// reading of the same file: the number of entries that agree, or the first difference.
    package static func checkDictionary() throws(DicomPrepError) -> Int {
        var err = [CChar](repeating: 0, count: 512)
        let n = cd_dictionary_check(&err, err.count)
        if n < 0 { throw .usage("data dictionary: \(text(err))") }
        return n
    }

    /// Checks the shim's one-pass reading of every character-string element of this dataset against dcmtk's
    /// own normalised text: the number of elements that agree, or the first difference.
    package func checkTexts() throws(DicomPrepError) -> Int {
        var err = [CChar](repeating: 0, count: 512)
        let n = cd_text_check(handle, &err, err.count)
        if n < 0 { throw .unreadable(path: path, reason: "text reading: \(Self.text(err))") }
        return n
    }

    private static func text(_ buf: [CChar]) -> String {
        let bytes = buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first value of a binary integer element (US, SS, UL, SL, UV, SV) read as a number; `.text` for
    /// any other VR, whose value is read as text.
    package enum IntegerValue { case absent, text, value(Int) }
    package func integer(_ path: TagPath) -> IntegerValue {
        var v: Int64 = 0
        switch Int(cd_get_integer(handle, path.tags, path.items, Int32(path.tags.count), &v)) {
        case CD_OK: return .value(Int(v))
        case CD_UNSUPPORTED: return .text
        default: return .absent
        }
    }

    /// The element's text (values separated by `\`), or nil when absent or empty.
    package func string(_ path: TagPath) -> String? {
        var needed = 0
        let first = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buf -> (Int32, String?) in
            let rc = cd_get_string(handle, path.tags, path.items, Int32(path.tags.count), buf.baseAddress, buf.count, &needed)
            return (rc, rc == CD_OK && needed < buf.count ? String(cString: buf.baseAddress!) : nil)
        }
        guard first.0 == CD_OK else { return nil }
        if let s = first.1 { return s }
        var buf = [CChar](repeating: 0, count: needed + 1)
        guard cd_get_string(handle, path.tags, path.items, Int32(path.tags.count), &buf, buf.count, &needed) == CD_OK else { return nil }
        return Self.text(buf)
    }

    package func string(_ tag: Tag) -> String? { string(TagPath(tag)) }

    /// The element's raw value bytes and VR (little-endian numbers for binary VRs, the text for string VRs).
    package func bytes(_ path: TagPath) -> (bytes: [UInt8], vr: String)? {
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
    package func privateTag(_ group: UInt16, creator: String, element: UInt8, in steps: [(Tag, Int)] = []) -> TagPath? {
        for block in UInt16(0x10)...UInt16(0xFF) {
            guard let c = string(TagPath(steps, Tag(group, block))) else {
                if block >= 0x20 { break }
                continue
            }
            if c.trimmingBlanks.caseInsensitiveCompare(creator) == .orderedSame {
                return TagPath(steps, Tag(group, block << 8 | UInt16(element)))
            }
        }
        return nil
    }

    /// Values of every item of the sequence at `sequence` for each path relative to the item, read in one
    /// pass: `result[item][path]`, nil where absent. nil when there is no such sequence.
    package func sequenceStrings(_ sequence: TagPath, _ paths: [TagPath]) -> [[String?]]? {
        let relTags = paths.flatMap(\.tags), relItems = paths.flatMap(\.items), depths = paths.map { Int32($0.tags.count) }
        var out: UnsafeMutablePointer<CChar>?
        var present: UnsafeMutablePointer<UInt8>?
        var length = 0
        var count: UInt32 = 0
        guard cd_sequence_strings(handle, sequence.tags, sequence.items, Int32(sequence.tags.count), relTags, relItems, depths,
                                  Int32(paths.count), &out, &length, &present, &count) == CD_OK, let out, let present else { return nil }
        defer { cd_free(out); cd_free(present) }
        var result: [[String?]] = []
        result.reserveCapacity(Int(count))
        var p = out
        for i in 0..<Int(count) {
            var row: [String?] = []
            row.reserveCapacity(paths.count)
            for k in 0..<paths.count {
                let s = String(cString: p)
                p += strlen(p) + 1
                row.append(present[i * paths.count + k] != 0 ? s : nil)
            }
            result.append(row)
        }
        return result
    }

    /// The number of items in a sequence (0 when absent).
    package func itemCount(_ path: TagPath) -> Int {
        var n: UInt32 = 0
        guard cd_item_count(handle, path.tags, path.items, Int32(path.tags.count), &n) == CD_OK else { return 0 }
        return Int(n)
    }

    package var transferSyntax: String {
        var buf = [CChar](repeating: 0, count: 80)
        _ = cd_transfer_syntax(handle, &buf, buf.count)
        return Self.text(buf)
    }

    package struct PixelInfo {
        var length: UInt64; var encapsulated: Bool; var fragments: Int; var decodable: Bool
        /// Where the value starts in the file (little-endian native data read from disk, not loaded yet).
        var fileOffset: UInt64?
    }

    /// What PixelData holds, without decoding it; nil when there is none.
    package func pixelInfo() -> PixelInfo? {
        var info = cd_pixel_info()
        var err = [CChar](repeating: 0, count: 256)
        guard cd_get_pixel_info(handle, &info, &err, err.count) == CD_OK else { return nil }
        return PixelInfo(length: info.length, encapsulated: info.encapsulated != 0, fragments: Int(info.fragments),
                         decodable: info.decodable != 0, fileOffset: info.file_offset > 0 ? info.file_offset : nil)
    }

    /// Decodes every frame into raw stored samples (host byte order, BitsAllocated wide).
    package func decodePixels(frames: Int, rows: Int, columns: Int, bitsAllocated: Int, into buffer: UnsafeMutableRawBufferPointer) throws(DicomPrepError) {
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

    package func put(_ path: TagPath, _ value: String) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 256)
        guard cd_put_string(handle, path.tags, path.items, Int32(path.tags.count), value, &err, err.count) == CD_OK else {
            throw .io(path: self.path, reason: "cannot set \(Tag(UInt16(path.tags.last! >> 16), UInt16(path.tags.last! & 0xFFFF))): \(Self.text(err))")
        }
    }

    package func put(_ tag: Tag, _ value: String) throws(DicomPrepError) { try put(TagPath(tag), value) }

    package func putBytes(_ path: TagPath, _ bytes: [UInt8]) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 256)
        guard cd_put_bytes(handle, path.tags, path.items, Int32(path.tags.count), bytes, bytes.count, &err, err.count) == CD_OK else {
            throw .io(path: self.path, reason: "cannot set \(Tag(UInt16(path.tags.last! >> 16), UInt16(path.tags.last! & 0xFFFF))): \(Self.text(err))")
        }
    }

    package func putPixels(_ bytes: UnsafeRawBufferPointer, bitsAllocated: Int) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 256)
        guard cd_put_pixels(handle, bytes.baseAddress, bytes.count, UInt32(bitsAllocated), &err, err.count) == CD_OK else {
            throw .io(path: path, reason: "cannot set PixelData: \(Self.text(err))")
        }
    }

    /// Transfer syntaxes dcmtk can write without an encoder.
    package enum WriteSyntax: Int32 { case explicitLittle = 0, implicitLittle = 1, explicitBig = 2, deflated = 3 }

    package func save(to file: String, syntax: WriteSyntax) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 256)
        guard cd_save(handle, file, syntax.rawValue, &err, err.count) == CD_OK else {
            throw .io(path: file, reason: "cannot write DICOM: \(Self.text(err))")
        }
    }
}

/// Process-wide set-up of the DICOM reader.
public enum DicomRuntime {
    static let prepared = DispatchSemaphore(value: 0)

    /// Starts the reader's one-time set-up (the data dictionary, ~5 ms) on a background thread; the first
    /// file opened waits for it if it has not finished. A process that ends sooner (`--help`, a usage
    /// error) waits for it at exit, before dcmtk's dictionary is destroyed (exit handlers run in reverse
    /// order of registration, and dcmtk's was registered when it was loaded).
    public static func prepareInBackground() {
        atexit { DicomRuntime.prepared.wait() }
        let t = Thread {
            DicomObject.prepare()
            DicomRuntime.prepared.signal()
        }
        t.start()
    }
}

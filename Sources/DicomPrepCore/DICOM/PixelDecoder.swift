import Foundation
/// Decodes the stored values of an image: every frame, masked to BitsStored and sign-extended, as Int32.
public enum PixelDecoder {
    /// The most bytes one file may declare before dicomprep refuses it (before allocating anything).
    public static let maxDecodedBytes: UInt64 = 4 << 30

    /// Checks that the image is one dicomprep can decode, without decoding it.
    public static func check(_ inst: DicomInstance) throws(DicomPrepError) {
        let p = inst.path
        if inst.samplesPerPixel != 1 || !(inst.photometric == "MONOCHROME1" || inst.photometric == "MONOCHROME2") {
            throw .unsupported(path: p, reason: "colour image (\(inst.photometric), \(inst.samplesPerPixel) samples per pixel); only MONOCHROME1/2 are converted")
        }
        guard [8, 16, 32].contains(inst.bitsAllocated) else {
            throw .unsupported(path: p, reason: "BitsAllocated \(inst.bitsAllocated) (only 8, 16 and 32 are supported)")
        }
        guard inst.bitsStored >= 1, inst.bitsStored <= inst.bitsAllocated else {
            throw .corrupt(path: p, reason: "BitsStored \(inst.bitsStored) does not fit BitsAllocated \(inst.bitsAllocated)")
        }
        if inst.bitsAllocated == 32 && inst.bitsStored == 32 && inst.pixelRepresentation == 0 {
            throw .unsupported(path: p, reason: "unsigned 32-bit stored values")
        }
        let s = stored(inst)
        let bytes = UInt64(s.rows) * UInt64(s.columns) * UInt64(s.frames) * UInt64(inst.bitsAllocated / 8)
        guard bytes <= maxDecodedBytes else {
            throw .corrupt(path: p, reason: "declared size \(s.rows)x\(s.columns)x\(s.frames) frames (\(bytes) bytes) exceeds the 4 GiB limit")
        }
    }

    /// The size of what the file stores: a mosaic stores one large frame that holds every tile.
    static func stored(_ inst: DicomInstance) -> (rows: Int, columns: Int, frames: Int) {
        if let m = inst.mosaic { return (m.storedRows, m.storedColumns, 1) }
        return (inst.rows, inst.columns, inst.numberOfFrames)
    }

    /// All frames' stored values, frame after frame, row after row (a mosaic's tiles as frames); `obj` is
    /// the file already open, when the caller has it.
    public static func storedValues(_ inst: DicomInstance) throws(DicomPrepError) -> [Int32] {
        try storedValues(inst, nil)
    }

    static func storedValues(_ inst: DicomInstance, _ obj: DicomObject?) throws(DicomPrepError) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(inst.rows * inst.columns * inst.numberOfFrames)
        try forEachFrame(inst, Array(0..<inst.numberOfFrames), using: obj) { _, v in out.append(contentsOf: v) }
        return out
    }

    /// Decodes the file once and hands the stored values of each frame in `wanted` (in that order) to
    /// `body`, one frame at a time (a mosaic's tiles as frames): a file of thousands of frames is never
    /// held as Int32 whole, and dcmtk's copy of PixelData is released before unpacking.
    public static func forEachFrame(_ inst: DicomInstance, _ wanted: [Int],
                                    _ body: (Int, UnsafeBufferPointer<Int32>) throws(DicomPrepError) -> Void) throws(DicomPrepError) {
        try forEachFrame(inst, wanted, using: nil, body)
    }

    static func forEachFrame(_ inst: DicomInstance, _ wanted: [Int], using open: DicomObject?,
                             _ body: (Int, UnsafeBufferPointer<Int32>) throws(DicomPrepError) -> Void) throws(DicomPrepError) {
        try check(inst)
        let raw: [UInt8]
        if let open {
            raw = try decodedBytes(inst, open)
        } else if let at = inst.pixelDataLocation, hostIsLittleEndian, !inst.gzipCompressed, ArchiveMembers.shared.bytes(inst.path) == nil {
            raw = try nativeBytes(inst, at)
        } else {
            // Opened here, so dcmtk's copy of PixelData is freed before unpacking.
            let obj = try DicomObject(reading: inst.path, gzip: inst.gzipCompressed)
            raw = try decodedBytes(inst, obj)
        }
        try frames(inst, raw, wanted, body)
    }

    static func frames(_ inst: DicomInstance, _ raw: [UInt8], _ wanted: [Int], _ body: (Int, UnsafeBufferPointer<Int32>) throws(DicomPrepError) -> Void) throws(DicomPrepError) {
        let per = inst.rows * inst.columns, bytes = inst.bitsAllocated / 8
        let signed = inst.pixelRepresentation == 1
        if let m = inst.mosaic {
            let whole = unpack(raw[...], count: m.storedRows * m.storedColumns, bitsAllocated: inst.bitsAllocated, bitsStored: inst.bitsStored,
                               highBit: inst.highBit, signed: signed)
            var tile = [Int32](repeating: 0, count: per)
            for f in wanted {
                let ty = f / m.tilesPerRow, tx = f % m.tilesPerRow
                for y in 0..<inst.rows {
                    let from = (ty * inst.rows + y) * m.storedColumns + tx * inst.columns
                    tile.replaceSubrange((y * inst.columns)..<((y + 1) * inst.columns), with: whole[from..<(from + inst.columns)])
                }
                try tile.withUnsafeBufferPointer { (b) throws(DicomPrepError) in try body(f, b) }
            }
            return
        }
        for f in wanted {
            let v = unpack(raw[(f * per * bytes)..<((f + 1) * per * bytes)], count: per, bitsAllocated: inst.bitsAllocated,
                           bitsStored: inst.bitsStored, highBit: inst.highBit, signed: signed)
            try v.withUnsafeBufferPointer { (b) throws(DicomPrepError) in try body(f, b) }
        }
    }

    static let hostIsLittleEndian = 1.littleEndian == 1

    /// Native little-endian PixelData read straight from where the first parse found it (the bytes dcmtk
    /// would hand over, without parsing the header again: the larger cost for enhanced files of many frames).
    static func nativeBytes(_ inst: DicomInstance, _ at: (offset: UInt64, length: UInt64)) throws(DicomPrepError) -> [UInt8] {
        let dims = stored(inst)
        let needed = dims.rows * dims.columns * dims.frames * (inst.bitsAllocated / 8)
        guard at.length >= UInt64(needed) else {
            throw .corrupt(path: inst.path, reason: "PixelData is shorter than Rows x Columns x frames (\(at.length) of \(needed) bytes)")
        }
        var bytes = [UInt8](repeating: 0, count: needed)
        let total: Int
        switch FileBytes.read(inst.path, at: at.offset, into: &bytes) {
        case let .success(n): total = n
        case let .failure(.open(why)): throw .io(path: inst.path, reason: "cannot be opened again to read its pixels (\(why))")
        case let .failure(.read(why)): throw .io(path: inst.path, reason: "reading PixelData: \(why)")
        }
        guard total == needed else {
            throw .unreadable(path: inst.path, reason: "truncated: the file ends before its declared data (PixelData has \(total) of \(needed) bytes)")
        }
        return bytes
    }

    /// Every stored byte of PixelData, decoded (compressed syntaxes) or copied, frames one after another.
    static func decodedBytes(_ inst: DicomInstance, _ obj: DicomObject) throws(DicomPrepError) -> [UInt8] {
        let p = inst.path
        guard let info = obj.pixelInfo() else { throw .notAnImage(path: p, reason: "no PixelData") }
        let bytesPerSample = inst.bitsAllocated / 8
        let dims = stored(inst)
        let count = dims.rows * dims.columns * dims.frames
        let needed = UInt64(count * bytesPerSample)
        if info.encapsulated {
            guard info.decodable else {
                throw .unsupported(path: p, reason: "transfer syntax \(inst.transferSyntax) (\(TransferSyntax.name(inst.transferSyntax))) has no decoder here")
            }
            guard info.fragments >= 1 else { throw .corrupt(path: p, reason: "compressed PixelData has no fragments") }
            if dims.frames > info.fragments {
                throw .corrupt(path: p, reason: "NumberOfFrames \(dims.frames) but only \(info.fragments) compressed fragments")
            }
        } else if info.length < needed {
            throw .corrupt(path: p, reason: "PixelData is shorter than Rows x Columns x frames (\(info.length) of \(needed) bytes)")
        }
        var raw = [UInt8](repeating: 0, count: Int(needed))
        let failure: DicomPrepError? = raw.withUnsafeMutableBytes { buf -> DicomPrepError? in
            do throws(DicomPrepError) {
                try obj.decodePixels(frames: dims.frames, rows: dims.rows, columns: dims.columns,
                                     bitsAllocated: inst.bitsAllocated, into: buf)
                return nil
            } catch { return error }
        }
        if let failure { throw failure }
        return raw
    }

    /// Masks raw samples to BitsStored (at HighBit) and sign-extends signed data.
    static func unpack(_ raw: ArraySlice<UInt8>, count: Int, bitsAllocated: Int, bitsStored: Int, highBit: Int, signed: Bool) -> [Int32] {
        let shift = (highBit + 1 - bitsStored) >= 0 && highBit < bitsAllocated ? UInt32(highBit + 1 - bitsStored) : 0
        let mask: UInt32 = bitsStored >= 32 ? UInt32.max : (UInt32(1) << UInt32(bitsStored)) - 1
        let sign: UInt32 = UInt32(1) << UInt32(bitsStored - 1)
        // Every element is written below, so the array is not zeroed first.
        return [Int32](unsafeUninitializedCapacity: count) { o, initialized in
            raw.withUnsafeBytes { r in
                @inline(__always) func put(_ i: Int, _ v: UInt32) {
                    let m = (v >> shift) & mask
                    if signed && (m & sign) != 0 {
                        o[i] = Int32(truncatingIfNeeded: Int64(m) - (Int64(1) << Int64(bitsStored)))
                    } else {
                        o[i] = Int32(truncatingIfNeeded: m)
                    }
                }
                switch bitsAllocated {
                case 8:
                    let s = r.bindMemory(to: UInt8.self)
                    for i in 0..<count { put(i, UInt32(s[i])) }
                case 16:
                    let s = r.bindMemory(to: UInt16.self)
                    if shift == 0 && bitsStored == 16 {
                        if signed { for i in 0..<count { o[i] = Int32(Int16(bitPattern: s[i])) } }
                        else { for i in 0..<count { o[i] = Int32(s[i]) } }
                    } else {
                        for i in 0..<count { put(i, UInt32(s[i])) }
                    }
                default:
                    let s = r.bindMemory(to: UInt32.self)
                    for i in 0..<count { put(i, s[i]) }
                }
            }
            initialized = count
        }
    }
}

/// Names of transfer syntaxes, for messages and sidecars.
public enum TransferSyntax {
    public static func name(_ uid: String) -> String {
        switch uid {
        case "1.2.840.10008.1.2": return "Implicit VR Little Endian"
        case "1.2.840.10008.1.2.1": return "Explicit VR Little Endian"
        case "1.2.840.10008.1.2.1.99": return "Deflated Explicit VR Little Endian"
        case "1.2.840.10008.1.2.2": return "Explicit VR Big Endian"
        case "1.2.840.10008.1.2.4.50": return "JPEG Baseline"
        case "1.2.840.10008.1.2.4.51": return "JPEG Extended"
        case "1.2.840.10008.1.2.4.57": return "JPEG Lossless"
        case "1.2.840.10008.1.2.4.70": return "JPEG Lossless SV1"
        case "1.2.840.10008.1.2.4.80": return "JPEG-LS Lossless"
        case "1.2.840.10008.1.2.4.81": return "JPEG-LS Near-Lossless"
        case "1.2.840.10008.1.2.4.90": return "JPEG 2000 Lossless"
        case "1.2.840.10008.1.2.4.91": return "JPEG 2000"
        case "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203": return "High-Throughput JPEG 2000"
        case "1.2.840.10008.1.2.5": return "RLE Lossless"
        case "1.2.840.10008.1.2.4.100", "1.2.840.10008.1.2.4.101", "1.2.840.10008.1.2.4.102", "1.2.840.10008.1.2.4.103":
            return "MPEG-2/MPEG-4 video"
        default: return "unknown"
        }
    }
}

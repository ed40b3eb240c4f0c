#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Parses the header of a DICOM file into a `DicomInstance`, refusing objects that hold no image.
public enum InstanceParser {
    /// SOP classes that never carry a convertible image, with what they are.
    static let nonImageClasses: [(prefix: String, what: String)] = [
        ("1.2.840.10008.1.3.10", "DICOMDIR (media directory)"),
        ("1.2.840.10008.5.1.4.1.1.88.", "structured report"),
        ("1.2.840.10008.5.1.4.1.1.481.2", "RT dose"),
        ("1.2.840.10008.5.1.4.1.1.481.3", "RT structure set"),
        ("1.2.840.10008.5.1.4.1.1.481.5", "RT plan"),
        ("1.2.840.10008.5.1.4.1.1.481.8", "RT ion plan"),
        ("1.2.840.10008.5.1.4.1.1.481.", "RT object"),
        ("1.2.840.10008.5.1.4.1.1.11.", "presentation state"),
        ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
        ("1.2.840.10008.5.1.4.1.1.66", "raw data / registration / segmentation object"),
        ("1.2.840.10008.5.1.4.1.1.9.", "waveform"),
    ]

    /// Parsed files, and those that could not be parsed with the reason.
    public struct Parsed: Sendable {
        public var instances: [DicomInstance]
        /// Each parsed file's folder relative to its input root, by path.
        public var relativeDir: [String: String]
        public var skipped: [SkippedEntry]
    }

    /// Parses scanned files on up to `threads` threads; the result keeps the files' order.
    public static func parseAll(_ files: [ScannedFile], threads: Int) -> Parsed {
        let results = UnsafeSendableBox([Result<DicomInstance, DicomPrepError>?](repeating: nil, count: files.count))
        Parallel.forEach(count: files.count, threads: threads) { i in
            let r = catching { () throws(DicomPrepError) in try parse(path: files[i].path) }
            results.withLock { $0[i] = r }
        }
        var out = Parsed(instances: [], relativeDir: [:], skipped: [])
        out.instances.reserveCapacity(files.count)
        for (i, r) in results.take().enumerated() {
            switch r! {
            case let .success(inst):
                out.instances.append(inst)
                out.relativeDir[inst.path] = files[i].relativeDir
            case let .failure(e):
                var s = SkippedEntry(path: files[i].path, reason: e.reason)
                // Not DICOM at all and not named like DICOM (notes, spreadsheets): listed, but no error of the run.
                var name = (files[i].path as NSString).lastPathComponent.lowercased()
                if name.hasSuffix(".gz") { name.removeLast(3) }
                let ext = (name as NSString).pathExtension
                if case .notDicom = e, !["dcm", "dicom", "dic", "ima"].contains(ext) { s.notDicom = true }
                out.skipped.append(s)
            }
        }
        return out
    }

    /// Reads and parses one file.
    public static func parse(path: String) throws(DicomPrepError) -> DicomInstance {
        let head = try checkLooksLikeDicom(path)
        let gzip = head.starts(with: [0x1F, 0x8B])
        let obj: DicomObject
        do throws(DicomPrepError) {
            obj = try DicomObject(reading: path, gzip: gzip)
        } catch let .unreadable(p, reason) {
            // dcmtk could not read it: damaged DICOM, or not DICOM at all (a CSA blob, a binary of any kind)?
            if !gzip && !DicomSniffer.looksLikeDicom(head) {
                throw .notDicom(path: p, reason: "no DICOM preamble (\"DICM\") and no DICOM attribute at its start")
            }
            throw .unreadable(path: p, reason: reason)
        }
        var inst = try parse(obj)
        inst.gzipCompressed = gzip
        return inst
    }

    static func parse(_ o: DicomObject) throws(DicomPrepError) -> DicomInstance {
        let path = o.path
        let sopClass = o.string(.sopClassUID) ?? o.string(.mediaStorageSOPClassUID) ?? ""
        for (prefix, what) in nonImageClasses where sopClass.hasPrefix(prefix) {
            throw .notAnImage(path: path, reason: "\(what) (SOP class \(sopClass))")
        }
        let pixelInfo = o.pixelInfo()
        let hasPixels = pixelInfo != nil
        let rows = int(o, .rows), cols = int(o, .columns)
        if !hasPixels {
            if rows == nil && o.string(.sopInstanceUID) == nil && o.string(.modality) == nil && o.string(.studyInstanceUID) == nil {
                throw .unreadable(path: path, reason: "no recognisable DICOM attributes")
            }
            throw .notAnImage(path: path, reason: "no PixelData" + (sopClass.isEmpty ? "" : " (SOP class \(sopClass))"))
        }
        guard let rows, let cols, rows > 0, cols > 0 else {
            throw .corrupt(path: path, reason: "Rows/Columns missing or zero")
        }
        let frames = int(o, .numberOfFrames) ?? 1
        guard frames >= 1 else { throw .corrupt(path: path, reason: "NumberOfFrames is \(frames)") }
        let bitsAllocated = int(o, .bitsAllocated) ?? 0
        let bitsStored = int(o, .bitsStored) ?? bitsAllocated
        let isEnhanced = o.itemCount(TagPath(.perFrameFunctionalGroups)) > 0 || o.itemCount(TagPath(.sharedFunctionalGroups)) > 0

        var identity: [String: String] = [:]
        for a in IdentifyingAttributes.all {
            if let v = o.string(a.tag) { identity[a.keyword] = v }
        }

        let top = topFrame(o)
        var frameInfos: [FrameInfo] = []
        let table = isEnhanced ? FrameTable(o) : nil
        if let table {
            frameInfos = (0..<frames).map { enhancedFrame(table, $0, fallback: top) }
        } else {
            frameInfos = [top]
            if frames > 1 {
                // Classic multi-frame: only the first frame has a known position.
                var other = top
                other.position = nil
                frameInfos += [FrameInfo](repeating: other, count: frames - 1)
            }
        }

        // stat, not FileManager's attribute dictionary (a dynamic cast per file).
        var st = stat()
        let fileSize = stat(path, &st) == 0 ? Int(st.st_size) : 0
        var inst = DicomInstance(
            path: path, fileSize: fileSize, transferSyntax: o.transferSyntax, sopClassUID: sopClass,
            sopInstanceUID: o.string(.sopInstanceUID) ?? "", seriesInstanceUID: o.string(.seriesInstanceUID) ?? "",
            studyInstanceUID: o.string(.studyInstanceUID) ?? "", frameOfReferenceUID: o.string(.frameOfReferenceUID) ?? "",
            modality: o.string(.modality) ?? "", seriesNumber: int(o, .seriesNumber), instanceNumber: int(o, .instanceNumber),
            acquisitionNumber: int(o, .acquisitionNumber), echoNumber: int(o, .echoNumbers),
            temporalPosition: int(o, .temporalPositionIdentifier),
            rows: rows, columns: cols, bitsAllocated: bitsAllocated, bitsStored: bitsStored,
            highBit: int(o, .highBit) ?? (bitsStored - 1), pixelRepresentation: int(o, .pixelRepresentation) ?? 0,
            samplesPerPixel: int(o, .samplesPerPixel) ?? 1,
            photometric: (o.string(.photometricInterpretation) ?? "MONOCHROME2").uppercased(),
            numberOfFrames: frames, isEnhanced: isEnhanced, frames: frameInfos,
            modalityLUT: lut(o, .modalityLUTSequence, signed: int(o, .pixelRepresentation) == 1),
            voiLUT: lut(o, .voiLUTSequence, signed: int(o, .pixelRepresentation) == 1),
            voiFunction: (o.string(.voiLUTFunction) ?? "LINEAR").uppercased(),
            seriesDescription: o.string(.seriesDescription), protocolName: o.string(.protocolName),
            manufacturer: o.string(.manufacturer), manufacturerModelName: o.string(.manufacturerModelName),
            magneticFieldStrength: double(o, .magneticFieldStrength),
            echoTime: double(o, .echoTime) ?? frameInfos.first?.echoTime, repetitionTime: double(o, .repetitionTime),
            inversionTime: double(o, .inversionTime), flipAngle: double(o, .flipAngle),
            imageType: (o.string(.imageType) ?? "").split(separator: "\\").map { $0.trimmingBlanks },
            sliceThickness: double(o, .sliceThickness) ?? frameInfos.first?.sliceThickness,
            spacingBetweenSlices: double(o, .spacingBetweenSlices), sequenceName: o.string(.sequenceName),
            scanningSequence: o.string(.scanningSequence), bodyPartExamined: o.string(.bodyPartExamined),
            gantryTilt: double(o, .gantryDetectorTilt),
            rawOrientation: numbers(o.string(.imageOrientationPatient)) ?? table?.numbers(0, .orientation),
            rawPixelSpacing: numbers(o.string(.pixelSpacing)) ?? table?.numbers(0, .pixelSpacing),
            identity: identity)
        if let pixelInfo, let offset = pixelInfo.fileOffset, !pixelInfo.encapsulated {
            inst.pixelDataLocation = (offset, pixelInfo.length)
        }
        VendorFields.read(o, table: table, into: &inst)
        return inst
    }

    /// Refuses files that are plainly not DICOM before dcmtk tries them (gzip-compressed files are
    /// looked into when they are opened); returns the first bytes it read.
    static func checkLooksLikeDicom(_ path: String) throws(DicomPrepError) -> [UInt8] {
        let head = DicomSniffer.head(of: path)
        // A file that cannot be read at all is left to dcmtk, which says why.
        if head.isEmpty && ArchiveMembers.shared.bytes(path) == nil && FileHandle(forReadingAtPath: path) == nil { return head }
        if head.starts(with: [0x1F, 0x8B]) { return head }
        if let why = DicomSniffer.notDicom(head[...]) { throw .notDicom(path: path, reason: "the file is \(why)") }
        return head
    }

    // MARK: value helpers

    /// The `\`-separated numbers of a DS/IS value (spaces around each trimmed); nil when any is not a finite number.
    static func numbers(_ s: String?) -> [Double]? {
        guard var s else { return nil }
        return s.withUTF8 { u -> [Double]? in
            var out: [Double] = []
            var start = 0
            for k in 0...u.count where k == u.count || u[k] == 0x5C {
                guard let v = number(u, start, k) else { return nil }
                out.append(v)
                start = k + 1
            }
            return out.isEmpty ? nil : out
        }
    }

    /// The first of the `\`-separated numbers.
    static func firstNumber(_ s: String?) -> Double? {
        guard var s else { return nil }
        return s.withUTF8 { u in number(u, 0, u.firstIndex(of: 0x5C) ?? u.count) }
    }

    /// Parses bytes `from..<to` (trimmed of spaces, tabs and NULs) as a finite number, as `Double(String)` would.
    static func number(_ u: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Double? {
        var a = from, b = to
        while a < b && (u[a] == 0x20 || u[a] == 0x09 || u[a] == 0) { a += 1 }
        while b > a && (u[b - 1] == 0x20 || u[b - 1] == 0x09 || u[b - 1] == 0) { b -= 1 }
        let n = b - a
        guard n > 0, n < 64 else { return n >= 64 ? Double(String(decoding: UnsafeBufferPointer(rebasing: u[a..<b]), as: UTF8.self)).flatMap { $0.isFinite ? $0 : nil } : nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 65) { buf -> Double? in
            for k in 0..<n { buf[k] = CChar(bitPattern: u[a + k]) }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(buf.baseAddress!, &end)
            guard let end, end == buf.baseAddress! + n, v.isFinite else { return nil }
            return v
        }
    }

    static func double(_ o: DicomObject, _ path: TagPath) -> Double? { firstNumber(o.string(path)) }
    static func double(_ o: DicomObject, _ tag: Tag) -> Double? { double(o, TagPath(tag)) }

    /// Integers beyond this magnitude are refused, however they are stored (no DICOM count or size is near it).
    static let largestInteger = 1_000_000_000_000_000

    static func int(_ o: DicomObject, _ tag: Tag) -> Int? { int(o, TagPath(tag)) }
    static func int(_ o: DicomObject, _ path: TagPath) -> Int? {
        // Binary integers (Rows, Columns, Bits Allocated, ...) directly; text (IS, DS) parsed as a number.
        switch o.integer(path) {
        case .absent: return nil
        case let .value(v): return abs(v) < largestInteger ? v : nil
        case .text: break
        }
        guard let d = firstNumber(o.string(path)), d == d.rounded(), abs(d) < Double(largestInteger) else { return nil }
        return Int(d)
    }

    static func unitVectors(_ values: [Double]?) -> (Vector3, Vector3)? {
        guard let v = values, v.count == 6 else { return nil }
        let r = Vector3(v[0], v[1], v[2]), c = Vector3(v[3], v[4], v[5])
        guard r.length > 0.5, c.length > 0.5 else { return nil }
        return (r.normalized, c.normalized)
    }

    static func topFrame(_ o: DicomObject) -> FrameInfo {
        var f = FrameInfo()
        f.position = numbers(o.string(.imagePositionPatient)).flatMap(Vector3.init)
        if let (r, c) = unitVectors(numbers(o.string(.imageOrientationPatient))) {
            f.rowDirection = r
            f.columnDirection = c
        }
        f.pixelSpacing = numbers(o.string(.pixelSpacing)).flatMap { $0.count == 2 && $0[0] > 0 && $0[1] > 0 ? $0 : nil }
        if f.pixelSpacing == nil, let imager = numbers(o.string(.imagerPixelSpacing)), imager.count == 2, imager[0] > 0, imager[1] > 0 {
            f.pixelSpacing = imager
            f.pixelSpacingSource = "ImagerPixelSpacing"
        }
        f.sliceThickness = double(o, .sliceThickness)
        // findAndGet* would give 0 for a missing slope: keep the defaults unless the value is really there.
        if let s = double(o, .rescaleSlope), s != 0 { f.rescaleSlope = s }
        if let i = double(o, .rescaleIntercept) { f.rescaleIntercept = i }
        f.windowCenter = double(o, .windowCenter)
        f.windowWidth = double(o, .windowWidth)
        f.acquisitionNumber = int(o, .acquisitionNumber)
        f.temporalIndex = int(o, .temporalPositionIdentifier)
        return f
    }

    /// A functional-group attribute of a frame: the per-frame item first, then the shared one.
    static func group(_ o: DicomObject, frame: Int, _ seq: Tag, _ attr: Tag) -> String? {
        o.string(TagPath([(.perFrameFunctionalGroups, frame), (seq, 0)], attr))
            ?? o.string(TagPath([(.sharedFunctionalGroups, 0), (seq, 0)], attr))
    }

    static func enhancedFrame(_ t: FrameTable, _ k: Int, fallback top: FrameInfo) -> FrameInfo {
        var f = FrameInfo()
        f.position = t.numbers(k, .position).flatMap(Vector3.init) ?? (k == 0 ? top.position : nil)
        if let (r, c) = unitVectors(t.numbers(k, .orientation)) {
            f.rowDirection = r
            f.columnDirection = c
        } else {
            f.rowDirection = top.rowDirection
            f.columnDirection = top.columnDirection
        }
        f.pixelSpacing = t.numbers(k, .pixelSpacing).flatMap { $0.count == 2 && $0[0] > 0 && $0[1] > 0 ? $0 : nil } ?? top.pixelSpacing
        f.sliceThickness = t.number(k, .sliceThickness) ?? top.sliceThickness
        if let s = t.number(k, .rescaleSlope), s != 0 { f.rescaleSlope = s } else { f.rescaleSlope = top.rescaleSlope }
        f.rescaleIntercept = t.number(k, .rescaleIntercept) ?? top.rescaleIntercept
        f.windowCenter = t.number(k, .windowCenter) ?? top.windowCenter
        f.windowWidth = t.number(k, .windowWidth) ?? top.windowWidth
        f.echoTime = t.number(k, .echoTime)
        f.temporalIndex = t.int(k, .temporalIndex)
        f.acquisitionNumber = t.int(k, .acquisitionNumber)
        return f
    }

    static func lut(_ o: DicomObject, _ seq: Tag, signed: Bool) -> LookupTable? {
        guard o.itemCount(TagPath(seq)) > 0,
              let desc = numbers(o.string(TagPath([(seq, 0)], .lutDescriptor))), desc.count == 3,
              let data = numbers(o.string(TagPath([(seq, 0)], .lutData))) else { return nil }
        let entries = desc[0] == 0 ? 65536 : Int(desc[0])
        var first = Int(desc[1])
        // The first mapped value is US or SS depending on the pixel representation.
        if signed && first > 32767 && first < 65536 { first -= 65536 }
        return LookupTable(entries: entries, firstMapped: first, bits: Int(desc[2]), data: data.map { Int($0) })
    }
}

import Foundation

/// Vendor and acquisition fields that real scanner exports need: Siemens mosaics (CSA header), diffusion
/// b-values and gradients, image components (magnitude, phase, real, imaginary, field maps), slice times,
/// phase-encoding facts and the Philips private scale. Each value is read from the standard attribute first,
/// then from the vendor's private place, as the reference converter (dcm2niix) does.
enum VendorFields {
    /// How a private value is encoded when the file does not say (implicit VR reads private values as UN).
    enum Binary { case float32, float64, int16, uint16, int32 }

    /// A private element's values: text for string VRs, decoded numbers for binary ones.
    static func numbers(_ o: DicomObject, _ path: TagPath?, unknownAs binary: Binary) -> [Double]? {
        guard let path, let (bytes, vr) = o.bytes(path) else { return nil }
        let textVRs: Set<String> = ["DS", "IS", "LO", "SH", "CS", "LT", "ST", "UT"]
        var kind: Binary?
        switch vr {
        case "FL": kind = .float32
        case "FD": kind = .float64
        case "SS": kind = .int16
        case "US": kind = .uint16
        case "SL": kind = .int32
        case "UN", "OB", "OW":
            // An unknown VR: text if it reads as numbers, otherwise the expected binary type.
            if let t = InstanceParser.numbers(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)), !t.isEmpty,
               bytes.allSatisfy({ $0 == 0 || $0 == 0x20 || $0 == 0x5C || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45 || ($0 >= 0x30 && $0 <= 0x39) }) {
                return t
            }
            kind = binary
        default:
            if textVRs.contains(vr) { return InstanceParser.numbers(String(decoding: bytes, as: UTF8.self)) }
            return nil
        }
        guard let kind else { return nil }
        func read<T>(_: T.Type, _ f: (T) -> Double) -> [Double] {
            let size = MemoryLayout<T>.size
            guard bytes.count >= size else { return [] }
            return (0..<(bytes.count / size)).map { i in
                bytes.withUnsafeBytes { f($0.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
            }
        }
        let v: [Double]
        switch kind {
        case .float32: v = read(Float.self) { Double($0) }
        case .float64: v = read(Double.self) { $0 }
        case .int16: v = read(Int16.self) { Double($0) }
        case .uint16: v = read(UInt16.self) { Double($0) }
        case .int32: v = read(Int32.self) { Double($0) }
        }
        return v.isEmpty || v.contains(where: { !$0.isFinite }) ? nil : v
    }

    static func text(_ o: DicomObject, _ path: TagPath?) -> String? {
        guard let path, let (bytes, _) = o.bytes(path) else { return nil }
        let s = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingBlanks
        return s.isEmpty ? nil : s
    }

    /// Seconds since midnight of a DICOM TM (hhmmss.frac) or the time part of a DT (YYYYMMDDhhmmss.frac).
    static func seconds(_ s: String?) -> Double? {
        guard var s else { return nil }
        return s.withUTF8 { u -> Double? in
            // Digits only, up to an offset sign (+hhmm / -hhmm) or the end; colons (old TM form) skipped.
            var d: [UInt8] = []
            d.reserveCapacity(20)
            var frac: Double = 0, scale = 0.1, inFraction = false
            for c in u {
                if c == 0x20 && d.isEmpty { continue }
                if c == 0x2B || c == 0x2D || c == 0x20 || c == 0 { break }
                if c == 0x3A { continue }
                if c == 0x2E { inFraction = true; continue }
                guard c >= 0x30 && c <= 0x39 else { return nil }
                if inFraction { frac += Double(c - 0x30) * scale; scale /= 10 } else { d.append(c - 0x30) }
            }
            if d.count >= 14 { d.removeFirst(8) } // a DT: drop YYYYMMDD
            guard d.count >= 2 else { return nil }
            func two(_ k: Int) -> Double { d.count >= k + 2 ? Double(Int(d[k]) * 10 + Int(d[k + 1])) : 0 }
            return two(0) * 3600 + two(2) * 60 + two(4) + frac
        }
    }

    /// The component a text code names (ImageType values, Philips and enhanced codes), nil when it names none.
    static func component(_ code: String) -> ImageComponent? {
        switch code.uppercased() {
        case "M", "MAGNITUDE", "M_FFE", "M_SE", "M_IR": return .magnitude
        case "P", "PHASE", "P_FFE", "P_SE", "P_IR", "PHASE MAP": return .phase
        case "R", "REAL", "R_FFE", "R_SE", "R_IR": return .real
        case "I", "IMAGINARY", "I_FFE", "I_SE", "I_IR": return .imaginary
        case "B0", "FIELD_MAP", "FIELDMAP", "B0 MAP": return .fieldMapHz
        default: return nil
        }
    }

    static func component(imageType: [String]) -> ImageComponent? {
        // Siemens and Philips put the code third (ORIGINAL\PRIMARY\M\ND); look there first, then anywhere.
        if imageType.count > 2, let c = component(imageType[2]) { return c }
        for t in imageType.dropFirst(2) { if let c = component(t) { return c } }
        return nil
    }

    // MARK: reading

    /// Fills the vendor fields of a parsed instance. Mosaics become one frame per tile.
    static func read(_ o: DicomObject, table: FrameTable?, into inst: inout DicomInstance) {
        let vendor = inst.vendor
        let siemens = vendor.contains("SIEMENS"), ge = vendor.hasPrefix("GE"), philips = vendor.contains("PHILIPS")
        let csa = siemens ? o.privateTag(0x0029, creator: "SIEMENS CSA HEADER", element: 0x10).flatMap { o.bytes($0) }.flatMap { CSAHeader($0.bytes) } : nil
        var facts = AcquisitionFacts()
        facts.mrAcquisitionType = o.string(.mrAcquisitionType)?.uppercased()
        let peText = o.string(.inPlanePhaseEncodingDirection)
            ?? (inst.isEnhanced ? InstanceParser.group(o, frame: 0, .mrFOVGeometrySequence, .inPlanePhaseEncodingDirection)
                ?? InstanceParser.group(o, frame: 0, .mrTimingAndRelatedParametersSequence, .inPlanePhaseEncodingDirection) : nil)
        if let pe = peText?.uppercased() { facts.phaseEncodingAxis = pe.hasPrefix("COL") ? "COL" : (pe.hasPrefix("ROW") ? "ROW" : nil) }
        if inst.repetitionTime == nil && inst.isEnhanced {
            inst.repetitionTime = InstanceParser.numbers(InstanceParser.group(o, frame: 0, .mrTimingAndRelatedParametersSequence, .repetitionTime))?.first
        }
        facts.pulseSequenceName = o.string(.pulseSequenceName)

        // Siemens: CSA image header (classic and mosaic), XA enhanced private per-frame items.
        if let csa {
            if let v = csa.int("PhaseEncodingDirectionPositive") { facts.phaseEncodingPositive = v == 1 }
            facts.bandwidthPerPixelPhaseEncode = csa.double("BandwidthPerPixelPhaseEncode")
        }
        if siemens && facts.bandwidthPerPixelPhaseEncode == nil {
            facts.bandwidthPerPixelPhaseEncode = numbers(o, o.privateTag(0x0019, creator: "SIEMENS MR HEADER", element: 0x28), unknownAs: .float64)?.first
        }
        if siemens && inst.isEnhanced, let seq = o.privateTag(0x0021, creator: "SIEMENS MR SDI 02", element: 0xFE, in: [(.perFrameFunctionalGroups, 0)]) {
            let seqTag = Tag(UInt16(seq.tags.last! >> 16), UInt16(seq.tags.last! & 0xFFFF))
            let steps: [(Tag, Int)] = [(.perFrameFunctionalGroups, 0), (seqTag, 0)]
            if let t = o.privateTag(0x0021, creator: "SIEMENS MR SDI 02", element: 0x1C, in: steps), let v = numbers(o, t, unknownAs: .int32)?.first {
                facts.phaseEncodingPositive = v == 1
            }
            if let t = o.privateTag(0x0021, creator: "SIEMENS MR SDI 02", element: 0x53, in: steps) {
                facts.bandwidthPerPixelPhaseEncode = numbers(o, t, unknownAs: .float64)?.first
            }
        }

        // GE private acquisition fields.
        var geComponent: ImageComponent?
        if ge {
            if let t = o.privateTag(0x0019, creator: "GEMS_ACQU_01", element: 0x9C) { facts.pulseSequenceName = text(o, t) ?? facts.pulseSequenceName }
            if let esp = numbers(o, o.privateTag(0x0043, creator: "GEMS_PARM_01", element: 0x2C), unknownAs: .int16)?.first, esp > 0 {
                let asset = numbers(o, o.privateTag(0x0043, creator: "GEMS_PARM_01", element: 0x83), unknownAs: .float64)?.first ?? 1
                facts.vendorEchoSpacing = esp * 1e-6 * (asset > 0 && asset <= 1 ? asset : 1)
            }
            if let raw = numbers(o, o.privateTag(0x0043, creator: "GEMS_PARM_01", element: 0x2F), unknownAs: .int16)?.first {
                geComponent = [0: .magnitude, 1: .phase, 2: .real, 3: .imaginary][Int(raw)]
            }
        }

        // Mosaic: tiles become frames.
        if inst.imageType.contains(where: { $0.uppercased() == "MOSAIC" }) && !inst.isEnhanced && inst.numberOfFrames == 1 {
            let n = csa?.int("NumberOfImagesInMosaic")
                ?? numbers(o, o.privateTag(0x0019, creator: "SIEMENS MR HEADER", element: 0x0A), unknownAs: .uint16)?.first.map { Int($0) }
            if let n, n > 1 {
                let tiles = Int(Double(n).squareRoot().rounded(.up))
                if inst.rows % tiles == 0 && inst.columns % tiles == 0 {
                    let top = inst.frames[0]
                    let layout = MosaicLayout(storedRows: inst.rows, storedColumns: inst.columns, tilesPerRow: tiles, slices: n)
                    let r = inst.rows / tiles, c = inst.columns / tiles
                    var frames: [FrameInfo] = []
                    var times = csa?.doubles("MosaicRefAcqTimes") ?? []
                    var timeSource = "Siemens CSA MosaicRefAcqTimes"
                    if times.count < n, let t = protocolSliceTimes(o, slices: n) {
                        times = t
                        timeSource = "Siemens protocol (ASCCONV sSliceArray.ucMode, alTR, lDelayTimeInTR)"
                    }
                    if let pos = top.position, let row = top.rowDirection, let col = top.columnDirection, let ps = top.pixelSpacing {
                        // ImagePositionPatient is the corner of the whole stored frame; move it to tile 1's corner.
                        let p0 = pos + row * (ps[1] * Double(inst.columns - c) / 2) + col * (ps[0] * Double(inst.rows - r) / 2)
                        let csaNormal = csa.flatMap { Vector3($0.doubles("SliceNormalVector")) }
                        var normal = row.cross(col).normalized
                        if let n = csaNormal, n.length > 0.5 { normal = n.normalized }
                        let step = inst.spacingBetweenSlices ?? top.sliceThickness ?? 1
                        for k in 0..<n {
                            var f = top
                            f.position = p0 + normal * (step * Double(k))
                            if k < times.count { f.acquisitionTime = times[k] / 1000 }
                            frames.append(f)
                        }
                    } else {
                        frames = [FrameInfo](repeating: top, count: n)
                        for k in 1..<n { frames[k].position = nil }
                    }
                    inst.mosaic = layout
                    inst.rows = r
                    inst.columns = c
                    inst.numberOfFrames = n
                    inst.frames = frames
                    if !times.isEmpty { facts.sliceTimeSource = timeSource }
                }
            }
        }

        // Per-frame fields.
        let philipsItemTag = philips && inst.isEnhanced
            ? o.privateTag(0x2005, creator: "Philips MR Imaging DD 005", element: 0x0F, in: [(.perFrameFunctionalGroups, 0)]) : nil
        // Philips' private per-frame item (2005,xx0F): creator blocks resolved once, on the first frame, then
        // type, scale slope and echo of every frame read in one pass.
        var philipsFrames: [[String?]]?
        if let t = philipsItemTag {
            let seq = Tag(UInt16(t.tags.last! >> 16), UInt16(t.tags.last! & 0xFFFF))
            let steps: [(Tag, Int)] = [(.perFrameFunctionalGroups, 0), (seq, 0)]
            func relative(_ p: TagPath?) -> TagPath { p.map { TagPath([(seq, 0)], Tag(UInt16($0.tags.last! >> 16), UInt16($0.tags.last! & 0xFFFF))) } ?? TagPath([(seq, 0)], Tag(0x2005, 0xFFFF)) }
            philipsFrames = o.sequenceStrings(TagPath(.perFrameFunctionalGroups), [
                relative(o.privateTag(0x2005, creator: "Philips MR Imaging DD 001", element: 0x11, in: steps)),
                relative(o.privateTag(0x2005, creator: "Philips MR Imaging DD 001", element: 0x0E, in: steps)),
                TagPath([(seq, 0)], .echoNumbers),
            ])
        }
        let typeComponent = component(imageType: inst.imageType)
        let topDiffusion = diffusion(o, steps: [], csa: csa, vendor: vendor)
        let topPhilipsScale = philips && !inst.isEnhanced
            ? numbers(o, o.privateTag(0x2005, creator: "Philips MR Imaging DD 001", element: 0x0E), unknownAs: .float32)?.first : nil
        let topPhilipsType = philips && !inst.isEnhanced ? text(o, o.privateTag(0x2005, creator: "Philips MR Imaging DD 001", element: 0x11)).flatMap(component) : nil
        let classicTime: Double? = inst.mosaic != nil ? nil
            : (ge ? InstanceParser.double(o, .triggerTime).map { $0 / 1000 } : (siemens ? seconds(o.string(.acquisitionTime)) : nil))
        if !inst.isEnhanced && inst.mosaic == nil && classicTime != nil {
            facts.sliceTimeSource = ge ? "GE TriggerTime" : "AcquisitionTime"
        }
        var anyDiffusion = topDiffusion != nil
        var enhancedTimes = false
        for k in inst.frames.indices {
            var f = inst.frames[k]
            f.echoNumber = inst.echoNumber
            if let table {
                let enhancedComponent = table.string(k, .complexComponent).flatMap(component)
                var philipsComponent: ImageComponent?
                if let row = philipsFrames?[safe: k] {
                    philipsComponent = row[0].flatMap(component)
                    f.philipsScaleSlope = row[1].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                    if let e = row[2].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { f.echoNumber = e }
                }
                f.component = philipsComponent ?? enhancedComponent ?? typeComponent ?? .magnitude
                if let b = table.number(k, .bValue) {
                    f.bValue = b
                    f.gradient = unit(table.numbers(k, .gradient))
                    anyDiffusion = true
                }
                if let t = seconds(table.own(k, .acquisitionDateTime)) {
                    f.acquisitionTime = t
                    enhancedTimes = true
                }
            } else {
                f.component = topPhilipsType ?? geComponent ?? typeComponent ?? .magnitude
                if let d = topDiffusion { (f.bValue, f.gradient) = d }
                f.philipsScaleSlope = topPhilipsScale
                if inst.mosaic == nil { f.acquisitionTime = classicTime }
            }
            inst.frames[k] = f
        }
        if enhancedTimes { facts.sliceTimeSource = "FrameAcquisitionDateTime" }
        if anyDiffusion { facts.diffusionSource = diffusionSource(o, csa: csa, vendor: vendor, enhanced: inst.isEnhanced) }
        inst.acquisition = facts
    }

    /// Slice times (ms, in tile order) from the Siemens protocol text in the CSA series header, for mosaics
    /// written before MosaicRefAcqTimes existed: acquisition time TR − lDelayTimeInTR spread over the slices in
    /// the order sSliceArray.ucMode gives (1 ascending, 2 descending, 4 interleaved). nil with concatenations.
    static func protocolSliceTimes(_ o: DicomObject, slices n: Int) -> [Double]? {
        guard let t = o.privateTag(0x0029, creator: "SIEMENS CSA HEADER", element: 0x20), let b = o.bytes(t), let series = CSAHeader(b.bytes),
              let text = (series.strings("MrPhoenixProtocol").first ?? series.strings("MrProtocol").first) else { return nil }
        let values = phoenixValues(text, keys: ["alTR[0]", "sSliceArray.ucMode", "sSliceArray.lConc", "lDelayTimeInTR"])
        guard let tr = values["alTR[0]"], tr > 0, let mode = values["sSliceArray.ucMode"], (values["sSliceArray.lConc"] ?? 1) == 1 else { return nil }
        let ta = (tr - (values["lDelayTimeInTR"] ?? 0)) / 1000 // µs -> ms
        let dt = ta / Double(n)
        var order: [Int]
        switch Int(mode) {
        case 1: order = Array(0..<n)
        case 2: order = Array((0..<n).reversed())
        case 4:
            // Siemens interleaved: odd slice counts start with the first slice, even counts with the second.
            let first = n % 2 == 1 ? 0 : 1
            order = Array(stride(from: first, to: n, by: 2)) + Array(stride(from: 1 - first, to: n, by: 2))
        default: return nil
        }
        var times = [Double](repeating: 0, count: n)
        for (rank, slice) in order.enumerated() { times[slice] = Double(rank) * dt }
        return times
    }

    /// The numeric values of `keys` in a Siemens Phoenix protocol ("key = value" lines, values decimal
    /// or 0x hexadecimal). The protocol is ~100 KB of text in every file of a series, so it is scanned
    /// as bytes for the few keys wanted rather than split into strings line by line.
    static func phoenixValues(_ text: String, keys: [String]) -> [String: Double] {
        var text = text
        let wanted = keys.map { Array($0.utf8) }
        var values: [String: Double] = [:]
        text.withUTF8 { u in
            var i = 0
            let n = u.count
            while i < n {
                var e = i
                while e < n && u[e] != 0x0A && u[e] != 0x0D { e += 1 }
                var a = i
                while a < e && (u[a] == 0x20 || u[a] == 0x09) { a += 1 }
                for (k, key) in wanted.enumerated() where e - a > key.count && u[a] == key[0] {
                    var m = 0
                    while m < key.count && u[a + m] == key[m] { m += 1 }
                    guard m == key.count else { continue }
                    var q = a + m
                    while q < e && (u[q] == 0x20 || u[q] == 0x09) { q += 1 }
                    guard q < e && u[q] == 0x3D else { continue }  // '='
                    q += 1
                    while q < e && (u[q] == 0x20 || u[q] == 0x09) { q += 1 }
                    var r = q
                    while r < e && u[r] != 0x20 && u[r] != 0x09 { r += 1 }
                    let token = String(decoding: UnsafeBufferPointer(rebasing: u[q..<r]), as: UTF8.self)
                    let v = token.hasPrefix("0x") ? Int(token.dropFirst(2), radix: 16).map(Double.init) : Double(token)
                    if let v { values[keys[k]] = v }
                }
                i = e + 1
            }
        }
        return values
    }

    /// b-value and gradient of the item at `steps` (standard attributes), or of the file's vendor fields.
    static func diffusion(_ o: DicomObject, steps: [(Tag, Int)], csa: CSAHeader?, vendor: String) -> (Double?, Vector3?)? {
        let seq = steps + [(.mrDiffusionSequence, 0)]
        if let b = InstanceParser.numbers(o.string(TagPath(seq, .diffusionBValue)))?.first
            ?? (steps.isEmpty ? InstanceParser.numbers(o.string(.diffusionBValue))?.first : nil) {
            let g = InstanceParser.numbers(o.string(TagPath(seq + [(.diffusionGradientDirectionSequence, 0)], .diffusionGradientOrientation)))
                ?? (steps.isEmpty ? InstanceParser.numbers(o.string(TagPath([(.diffusionGradientDirectionSequence, 0)], .diffusionGradientOrientation)))
                    ?? InstanceParser.numbers(o.string(.diffusionGradientOrientation)) : nil)
            return (b, unit(g))
        }
        guard steps.isEmpty else { return nil }
        if let csa, let b = csa.double("B_value") {
            return (b, unit(csa.doubles("DiffusionGradientDirection")))
        }
        if vendor.contains("SIEMENS"), let b = numbers(o, o.privateTag(0x0019, creator: "SIEMENS MR HEADER", element: 0x0C), unknownAs: .int32)?.first {
            return (b, unit(numbers(o, o.privateTag(0x0019, creator: "SIEMENS MR HEADER", element: 0x0E), unknownAs: .float64)))
        }
        if vendor.hasPrefix("GE"), var b = numbers(o, o.privateTag(0x0043, creator: "GEMS_PARM_01", element: 0x39), unknownAs: .int32)?.first {
            // GE adds 1e9 to flag some b-values; the gradient is in the scanner's logical frame (not converted).
            if b >= 1e9 { b = b.truncatingRemainder(dividingBy: 1e9) }
            return (b, nil)
        }
        if vendor.contains("PHILIPS"), let b = numbers(o, o.privateTag(0x2001, creator: "Philips Imaging DD 001", element: 0x03), unknownAs: .float32)?.first {
            let p = { (e: UInt8) in numbers(o, o.privateTag(0x2005, creator: "Philips MR Imaging DD 001", element: e), unknownAs: .float32)?.first }
            if let x = p(0xB0), let y = p(0xB1), let z = p(0xB2) { return (b, unit([x, y, z])) }
            return (b, nil)
        }
        return nil
    }

    static func diffusionSource(_ o: DicomObject, csa: CSAHeader?, vendor: String, enhanced: Bool) -> String {
        if enhanced || o.string(.diffusionBValue) != nil { return "DiffusionBValue (0018,9087) / DiffusionGradientOrientation (0018,9089)" }
        if csa?.double("B_value") != nil { return "Siemens CSA B_value / DiffusionGradientDirection" }
        if vendor.contains("SIEMENS") { return "Siemens (0019,100C) / (0019,100E)" }
        if vendor.hasPrefix("GE") { return "GE (0043,1039); gradient directions not converted" }
        return "Philips (2001,1003) / (2005,10B0-B2)"
    }

    static func unit(_ g: [Double]?) -> Vector3? {
        guard let g, let v = Vector3(g), v.length > 1e-6 else { return nil }
        return v.normalized
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}

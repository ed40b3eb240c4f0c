import DicomPrepCore
import Foundation

/// Synthetic exports shaped like what MRI scanners write for fMRI and diffusion: many small files, mosaics,
/// one enhanced file of thousands of frames, a multi-echo field map. They feed `make bench` (speed on
/// many small files) and tests; every file carries the attributes real exports use for 4D assembly,
/// image type and timing, so converters have to do the real work.
public struct ScannerExport: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// One file per slice and volume (TemporalPositionIdentifier, AcquisitionNumber, AcquisitionTime).
        case fmriClassic = "fmri-classic"
        /// Siemens mosaics: one file per volume, tiles with a CSA header (NumberOfImagesInMosaic, MosaicRefAcqTimes).
        case fmriMosaic = "fmri-mosaic"
        /// One Enhanced MR file: every slice of every volume a frame, diffusion per frame.
        case dwiEnhanced = "dwi-enhanced"
        /// A two-echo gradient-echo field map: magnitude of both echoes and the phase difference.
        case fieldmap
    }

    public var kind = Kind.fmriClassic
    public var matrix = 64
    public var slices = 36
    public var volumes = 300
    public var seed: UInt64 = 7
    public init(kind: Kind = .fmriClassic) { self.kind = kind }

    static let tr = 2000.0

    /// Writes the export into `dir`; returns the number of files written.
    @discardableResult
    public func write(to dir: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> Int {
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw .io(path: dir, reason: "cannot create folder")
        }
        var rng = SeededRandom(seed: seed)
        let uids = Uids(study: rng.uid(), series: rng.uid(), frame: rng.uid(), seed: rng.next())
        switch kind {
        case .fmriClassic: return try classic(dir, uids, threads: threads, echoes: [1], components: ["M"], volumes: volumes)
        case .fieldmap: return try classic(dir, uids, threads: threads, echoes: [1, 2], components: ["M", "P"], volumes: 1)
        case .fmriMosaic: return try mosaic(dir, uids, threads: threads)
        case .dwiEnhanced: return try enhanced(dir, uids)
        }
    }

    struct Uids: Sendable { var study: String, series: String, frame: String, seed: UInt64 }

    /// Interleaved ascending acquisition order (odd slices first), as many scanners default to.
    func sliceTime(_ k: Int) -> Double {
        let order = Array(stride(from: 0, to: slices, by: 2)) + Array(stride(from: 1, to: slices, by: 2))
        return Double(order.firstIndex(of: k)!) * Self.tr / Double(slices)
    }

    func position(_ k: Int) -> Vector3 { Vector3(-Double(matrix) * 1.5, -Double(matrix) * 1.5, -40 + 3.5 * Double(k)) }

    /// Smooth head-like content that changes a little with time, echo and component.
    func value(_ i: Int, _ j: Int, _ k: Int, _ t: Int, _ salt: Int) -> Int {
        let c = Double(matrix) / 2
        let r = (((Double(i) - c) * (Double(i) - c) + (Double(j) - c) * (Double(j) - c)) / (c * c)).squareRoot()
        let base = r < 0.85 ? 900 + Int(200 * sin(Double(i + k) / 5) * cos(Double(j) / 7)) : 30
        return max(0, base + (t * 7 + salt * 131 + i * 3 + j) % 23)
    }

    func slicePixels(_ k: Int, _ t: Int, _ salt: Int) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(matrix * matrix * 2)
        for j in 0..<matrix { for i in 0..<matrix {
            let v = value(i, j, k, t, salt)
            out.append(UInt8(truncatingIfNeeded: v)); out.append(UInt8(truncatingIfNeeded: v >> 8))
        } }
        return out
    }

    func common(_ w: DicomWriter, _ u: Uids, sop: String, enhanced: Bool, rows: Int, columns: Int) throws(DicomPrepError) {
        try w.set(.sopClassUID, enhanced ? "1.2.840.10008.5.1.4.1.1.4.1" : "1.2.840.10008.5.1.4.1.1.4")
        try w.set(.sopInstanceUID, sop)
        try w.set(.studyInstanceUID, u.study)
        try w.set(.seriesInstanceUID, u.series)
        try w.set(.frameOfReferenceUID, u.frame)
        try w.set(.modality, "MR")
        try w.set(.manufacturer, kind == .fmriMosaic ? "SIEMENS" : "dicomprep-synth")
        try w.set(.seriesNumber, "5")
        try w.set(.seriesDescription, kind.rawValue)
        try w.set(.mrAcquisitionType, "2D")
        try w.set(.repetitionTime, dicomNumber(Self.tr))
        try w.set(.magneticFieldStrength, "3")
        try w.set(.samplesPerPixel, "1")
        try w.set(.photometricInterpretation, "MONOCHROME2")
        try w.set(.rows, String(rows))
        try w.set(.columns, String(columns))
        try w.set(.bitsAllocated, "16")
        try w.set(.bitsStored, "12")
        try w.set(.highBit, "11")
        try w.set(.pixelRepresentation, "0")
        try w.set(.pixelSpacing, "3\\3")
        try w.set(.sliceThickness, "3.5")
        try w.set(.spacingBetweenSlices, "3.5")
        try w.set(.imageOrientationPatient, "1\\0\\0\\0\\1\\0")
        try w.set(.inPlanePhaseEncodingDirection, "COL")
        try w.set(.acquisitionMatrix, "\(matrix)\\0\\0\\\(matrix)")
    }

    func classic(_ dir: String, _ u: Uids, threads: Int, echoes: [Int], components: [String], volumes: Int) throws(DicomPrepError) -> Int {
        let jobs = echoes.flatMap { e in components.map { (e, $0) } }.filter { !($0.1 == "P" && $0.0 == 1) }
        let total = jobs.count * volumes * slices
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        Parallel.forEach(count: total, threads: threads) { n in
            let job = jobs[n / (volumes * slices)], t = (n / slices) % volumes, k = n % slices
            var rng = SeededRandom(seed: u.seed &+ UInt64(n))
            do throws(DicomPrepError) {
                let w = try DicomWriter(path: "\(dir)/IM-\(String(format: "%04d", n / slices + 1))-\(String(format: "%04d", k + 1)).dcm")
                try common(w, u, sop: rng.uid(), enhanced: false, rows: matrix, columns: matrix)
                try w.set(.imageType, job.1 == "P" ? "ORIGINAL\\PRIMARY\\P\\ND" : "ORIGINAL\\PRIMARY\\M\\ND")
                try w.set(.echoNumbers, String(job.0))
                try w.set(.echoTime, job.0 == 1 ? "4.92" : "7.38")
                try w.set(.instanceNumber, String(t * slices + k + 1))
                try w.set(.acquisitionNumber, String(t + 1))
                try w.set(.temporalPositionIdentifier, String(t + 1))
                let seconds = 36000 + Double(t) * Self.tr / 1000 + sliceTime(k) / 1000
                try w.set(.acquisitionTime, String(format: "%02d%02d%09.6f", Int(seconds) / 3600, Int(seconds) / 60 % 60, seconds.truncatingRemainder(dividingBy: 60)))
                try w.set(.imagePositionPatient, position(k).array.map(dicomNumber).joined(separator: "\\"))
                try w.setPixels(slicePixels(k, t, job.0 * 10 + (job.1 == "P" ? 1 : 0)), bitsAllocated: 16)
                try w.save()
            } catch { failure.withLock { $0 = error } }
        }
        if let e = failure.take() { throw e }
        return total
    }

    func mosaic(_ dir: String, _ u: Uids, threads: Int) throws(DicomPrepError) -> Int {
        let tiles = Int(Double(slices).squareRoot().rounded(.up))
        let side = tiles * matrix
        let times = (0..<slices).map { sliceTime($0) }
        let csa = CSAWriter.header([
            ("NumberOfImagesInMosaic", "IS", [String(slices)]),
            ("SliceNormalVector", "FD", ["0", "0", "1"]),
            ("MosaicRefAcqTimes", "FD", times.map { String(format: "%.8f", $0) }),
            ("PhaseEncodingDirectionPositive", "IS", ["1"]),
            ("BandwidthPerPixelPhaseEncode", "FD", ["30.000"]),
        ])
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        Parallel.forEach(count: volumes, threads: threads) { t in
            var rng = SeededRandom(seed: u.seed &+ UInt64(t))
            do throws(DicomPrepError) {
                let w = try DicomWriter(path: "\(dir)/IM-0001-\(String(format: "%04d", t + 1)).dcm")
                try common(w, u, sop: rng.uid(), enhanced: false, rows: side, columns: side)
                try w.set(.imageType, "ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC")
                try w.set(.echoTime, "30")
                try w.set(.instanceNumber, String(t + 1))
                try w.set(.acquisitionNumber, String(t + 1))
                // The whole frame's corner: tile 1's corner moved back by half the unused mosaic size.
                let p = position(0) - Vector3(3, 0, 0) * (Double(side - matrix) / 2) - Vector3(0, 3, 0) * (Double(side - matrix) / 2)
                try w.set(.imagePositionPatient, p.array.map(dicomNumber).joined(separator: "\\"))
                try w.set(Tag(0x0029, 0x0010), "SIEMENS CSA HEADER")
                try w.set(Tag(0x0029, 0x1010), bytes: csa)
                try w.set(Tag(0x0019, 0x0010), "SIEMENS MR HEADER")
                try w.set(Tag(0x0019, 0x100A), bytes: [UInt8(slices & 0xFF), UInt8(slices >> 8)])
                var px = [UInt8](repeating: 0, count: side * side * 2)
                for k in 0..<slices {
                    let tile = slicePixels(k, t, 0), tx = k % tiles, ty = k / tiles
                    for y in 0..<matrix {
                        let from = y * matrix * 2, to = ((ty * matrix + y) * side + tx * matrix) * 2
                        px.replaceSubrange(to..<(to + matrix * 2), with: tile[from..<(from + matrix * 2)])
                    }
                }
                try w.setPixels(px, bitsAllocated: 16)
                try w.save()
            } catch { failure.withLock { $0 = error } }
        }
        if let e = failure.take() { throw e }
        return volumes
    }

    /// Unit gradient directions spread over the sphere (a golden-angle spiral); b = 0 every 10th volume (from the 6th).
    func gradient(_ t: Int) -> (Double, Vector3) {
        if t % 10 == 5 { return (0, .zero) }
        let n = Double(volumes), z = 1 - 2 * (Double(t) + 0.5) / n, r = (1 - z * z).squareRoot(), phi = Double(t) * 2.399963
        return (1000, Vector3(r * cos(phi), r * sin(phi), z))
    }

    func enhanced(_ dir: String, _ u: Uids) throws(DicomPrepError) -> Int {
        var rng = SeededRandom(seed: u.seed)
        let w = try DicomWriter(path: "\(dir)/DWI.dcm")
        try common(w, u, sop: rng.uid(), enhanced: true, rows: matrix, columns: matrix)
        try w.set(.imageType, "ORIGINAL\\PRIMARY\\DIFFUSION\\NONE")
        try w.set(.instanceNumber, "1")
        try w.set(.numberOfFrames, String(slices * volumes))
        try w.set([(.sharedFunctionalGroups, 0), (.planeOrientationSequence, 0)], .imageOrientationPatient, "1\\0\\0\\0\\1\\0")
        try w.set([(.sharedFunctionalGroups, 0), (.pixelMeasuresSequence, 0)], .pixelSpacing, "3\\3")
        try w.set([(.sharedFunctionalGroups, 0), (.pixelMeasuresSequence, 0)], .sliceThickness, "3.5")
        try w.set([(.sharedFunctionalGroups, 0), (.mrTimingAndRelatedParametersSequence, 0)], .repetitionTime, dicomNumber(Self.tr))
        // Frames are organised by stack, position in the stack and time point, as scanners declare it.
        let org = rng.uid()
        try w.set([(.dimensionOrganizationSequence, 0)], .dimensionOrganizationUID, org)
        for (d, pointer) in [Tag.stackID, .inStackPositionNumber, .temporalPositionIndex].enumerated() {
            try w.set([(.dimensionIndexSequence, d)], .dimensionOrganizationUID, org)
            try w.set([(.dimensionIndexSequence, d)], .dimensionIndexPointer, pointer.description)
            try w.set([(.dimensionIndexSequence, d)], .functionalGroupPointer, "(0020,9111)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(matrix * matrix * 2 * slices * volumes)
        var f = 0
        for t in 0..<volumes {
            let (b, g) = gradient(t)
            for k in 0..<slices {
                let pf: [(Tag, Int)] = [(.perFrameFunctionalGroups, f)]
                try w.set(pf + [(.planePositionSequence, 0)], .imagePositionPatient, position(k).array.map(dicomNumber).joined(separator: "\\"))
                try w.set(pf + [(.frameContentSequence, 0)], .temporalPositionIndex, String(t + 1))
                try w.set(pf + [(.frameContentSequence, 0)], .stackID, "1")
                try w.set(pf + [(.frameContentSequence, 0)], .inStackPositionNumber, String(k + 1))
                try w.set(pf + [(.frameContentSequence, 0)], .dimensionIndexValues, "1\\\(k + 1)\\\(t + 1)")
                let seconds = 36000 + Double(t) * Self.tr / 1000 + sliceTime(k) / 1000
                try w.set(pf + [(.frameContentSequence, 0)], .frameAcquisitionDateTime, "20261201" + String(format: "%02d%02d%09.6f", Int(seconds) / 3600, Int(seconds) / 60 % 60, seconds.truncatingRemainder(dividingBy: 60)))
                try w.set(pf + [(.mrDiffusionSequence, 0)], .diffusionBValue, dicomNumber(b))
                try w.set(pf + [(.mrDiffusionSequence, 0)], .diffusionDirectionality, b > 0 ? "DIRECTIONAL" : "NONE")
                if b > 0 {
                    try w.set(pf + [(.mrDiffusionSequence, 0), (.diffusionGradientDirectionSequence, 0)], .diffusionGradientOrientation,
                              g.array.map { String(format: "%.6f", $0) }.joined(separator: "\\"))
                }
                bytes += slicePixels(k, t, 0)
                f += 1
            }
        }
        try w.setPixels(bytes, bitsAllocated: 16)
        try w.save()
        return 1
    }
}

/// Builds a Siemens CSA2 ("SV10") header from named text values, as `CSAHeader` reads it.
public enum CSAWriter {
    public static func header(_ elements: [(name: String, vr: String, values: [String])]) -> [UInt8] {
        var b: [UInt8] = Array("SV10".utf8) + [4, 3, 2, 1]
        func u32(_ v: Int) { for s in stride(from: 0, to: 32, by: 8) { b.append(UInt8((UInt32(truncatingIfNeeded: v) >> UInt32(s)) & 0xFF)) } }
        u32(elements.count)
        u32(77)
        for e in elements {
            var name = Array(e.name.utf8.prefix(63)); name += [UInt8](repeating: 0, count: 64 - name.count)
            b += name
            u32(e.values.count)
            var vr = Array(e.vr.utf8.prefix(3)); vr += [UInt8](repeating: 0, count: 4 - vr.count)
            b += vr
            u32(0)
            u32(e.values.count)
            u32(77)
            for v in e.values {
                let text = Array(v.utf8) + [0]
                u32(text.count); u32(text.count); u32(77); u32(text.count)
                b += text
                b += [UInt8](repeating: 0, count: (4 - text.count % 4) % 4)
            }
        }
        return b
    }
}

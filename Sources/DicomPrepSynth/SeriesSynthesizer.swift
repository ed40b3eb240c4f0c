import DicomPrepCore
import Foundation

/// A synthetic DICOM series with known geometry and voxel values, for tests, demos and benchmarks.
public struct SyntheticSeries: Sendable {
    public var rows = 24
    public var columns = 20
    public var slices = 8
    /// [between rows, between columns] mm.
    public var pixelSpacing = [0.9, 0.8]
    public var sliceSpacing = 2.5
    public var rowDirection = Vector3(1, 0, 0)
    public var columnDirection = Vector3(0, 1, 0)
    public var origin = Vector3(-100, -120, 30)
    /// In-plane shift of each slice along the column direction (mm), i.e. a gantry tilt.
    public var tiltShift = 0.0
    public var modality = "MR"
    public var seriesNumber = 3
    public var seriesDescription = "T1w"
    public var bitsAllocated = 16
    public var bitsStored = 12
    public var signed = false
    public var photometric = "MONOCHROME2"
    public var rescaleSlope: Double?
    public var rescaleIntercept: Double?
    /// Slope of slice k is rescaleSlope * (1 + k * perSliceSlopeStep).
    public var perSliceSlopeStep = 0.0
    public var windowCenter: Double?
    public var windowWidth: Double?
    public var echoNumber: Int?
    public enum Numbering: String, Sendable { case ascending, reversed, none }
    public var instanceNumbers = Numbering.ascending
    public var omitPositions = false
    /// Slice indices not written (a gap).
    public var missing: Set<Int> = []
    /// Slice indices written a second time under another file name (same pixels, new SOP UID).
    public var duplicated: Set<Int> = []
    /// File names: "Image-{n}.dcm" style with n = 1...; shuffled renames them in a random order.
    public var fileNamePattern = "Image-{n}.dcm"
    public var shuffleNames = false
    /// One Enhanced MR multi-frame file instead of one file per slice.
    public var multiframe = false
    public var syntax = DicomWriter.Syntax.explicitLittle
    public var seed: UInt64 = 1
    /// Identifying attributes to plant (tests of de-identification).
    public var identity: [Tag: String] = [:]
    /// Values: a function of (column, row, slice) -> stored value; default a deterministic pattern.
    public var value: @Sendable (Int, Int, Int) -> Int = { i, j, k in (i * 7 + j * 13 + k * 31) % 1000 + 10 }

    public init() {}

    public var normal: Vector3 { rowDirection.cross(columnDirection).normalized }

    /// The LPS position of slice k (before any gap is removed).
    public func position(_ k: Int) -> Vector3 {
        origin + normal * (sliceSpacing * Double(k)) + columnDirection * (tiltShift * Double(k))
    }

    /// The expected voxel -> RAS affine of the converted volume in acquired order.
    public var expectedAffine: Matrix4 {
        let slice = normal * sliceSpacing + columnDirection * tiltShift
        var a = Matrix4(columns: rowDirection * pixelSpacing[1], columnDirection * pixelSpacing[0], slice, origin: origin)
        for c in 0..<4 { a[0, c] = -a[0, c]; a[1, c] = -a[1, c] }
        return a
    }

    /// The slope of slice k.
    public func slope(_ k: Int) -> Double { (rescaleSlope ?? 1) * (1 + Double(k) * perSliceSlopeStep) }

    /// Writes the series into `dir`; returns the file paths.
    @discardableResult
    public func write(to dir: String) throws(DicomPrepError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw .io(path: dir, reason: "cannot create folder")
        }
        var rng = SeededRandom(seed: seed &* 1_000_003 &+ UInt64(truncatingIfNeeded: seriesNumber))
        let study = rng.uid(), series = rng.uid(), frameOfRef = rng.uid()
        let kept = (0..<slices).filter { !missing.contains($0) }
        if multiframe {
            let path = dir + "/" + fileNamePattern.replacingOccurrences(of: "{n}", with: "1")
            let w = try DicomWriter(path: path)
            try common(w, study: study, series: series, frameOfRef: frameOfRef, sop: rng.uid(), enhanced: true)
            try w.set(.numberOfFrames, String(kept.count))
            try w.set(.instanceNumber, "1")
            let iop = (rowDirection.array + columnDirection.array).map(dicomNumber).joined(separator: "\\")
            try w.set([(.sharedFunctionalGroups, 0), (.planeOrientationSequence, 0)], .imageOrientationPatient, iop)
            try w.set([(.sharedFunctionalGroups, 0), (.pixelMeasuresSequence, 0)], .pixelSpacing, pixelSpacing.map(dicomNumber).joined(separator: "\\"))
            try w.set([(.sharedFunctionalGroups, 0), (.pixelMeasuresSequence, 0)], .sliceThickness, dicomNumber(sliceSpacing))
            var bytes: [UInt8] = []
            for (f, k) in kept.enumerated() {
                let p = position(k)
                try w.set([(.perFrameFunctionalGroups, f), (.planePositionSequence, 0)], .imagePositionPatient, p.array.map(dicomNumber).joined(separator: "\\"))
                try w.set([(.perFrameFunctionalGroups, f), (.frameContentSequence, 0)], .inStackPositionNumber, String(f + 1))
                try w.set([(.perFrameFunctionalGroups, f), (.frameContentSequence, 0)], .stackID, "1")
                try w.set([(.perFrameFunctionalGroups, f), (.pixelValueTransformationSequence, 0)], .rescaleSlope, dicomNumber(slope(k)))
                try w.set([(.perFrameFunctionalGroups, f), (.pixelValueTransformationSequence, 0)], .rescaleIntercept, dicomNumber(rescaleIntercept ?? 0))
                bytes += pixels(k)
            }
            try w.setPixels(bytes, bitsAllocated: bitsAllocated)
            try w.save(syntax: syntax)
            return [path]
        }
        var names = (1...(kept.count + duplicated.count)).map { fileNamePattern.replacingOccurrences(of: "{n}", with: String($0)) }
        if shuffleNames { names.shuffle(using: &rng) }
        var paths: [String] = []
        var nameIndex = 0
        let writes = kept.map { ($0, false) } + kept.filter { duplicated.contains($0) }.map { ($0, true) }
        var sops: [Int: String] = [:]
        for (k, again) in writes {
            let path = dir + "/" + names[nameIndex]
            nameIndex += 1
            let w = try DicomWriter(path: path)
            // A duplicated slice is the same image exported twice: the same SOPInstanceUID.
            let sop = again ? sops[k]! : rng.uid()
            sops[k] = sop
            try common(w, study: study, series: series, frameOfRef: frameOfRef, sop: sop, enhanced: false)
            switch instanceNumbers {
            case .ascending: try w.set(.instanceNumber, String(k + 1))
            case .reversed: try w.set(.instanceNumber, String(slices - k))
            case .none: break
            }
            if !omitPositions {
                try w.set(.imagePositionPatient, position(k).array.map(dicomNumber).joined(separator: "\\"))
                try w.set(.sliceLocation, dicomNumber(position(k).dot(normal)))
            }
            try w.set(.imageOrientationPatient, (rowDirection.array + columnDirection.array).map(dicomNumber).joined(separator: "\\"))
            try w.set(.pixelSpacing, pixelSpacing.map(dicomNumber).joined(separator: "\\"))
            try w.set(.sliceThickness, dicomNumber(sliceSpacing))
            if rescaleSlope != nil || rescaleIntercept != nil {
                try w.set(.rescaleSlope, dicomNumber(slope(k)))
                try w.set(.rescaleIntercept, dicomNumber(rescaleIntercept ?? 0))
            }
            try w.setPixels(pixels(k), bitsAllocated: bitsAllocated)
            try w.save(syntax: syntax)
            paths.append(path)
        }
        return paths
    }

    private func common(_ w: DicomWriter, study: String, series: String, frameOfRef: String, sop: String, enhanced: Bool) throws(DicomPrepError) {
        let sopClass = enhanced ? "1.2.840.10008.5.1.4.1.1.4.1" : (modality == "CT" ? "1.2.840.10008.5.1.4.1.1.2" : "1.2.840.10008.5.1.4.1.1.4")
        try w.set(.sopClassUID, sopClass)
        try w.set(.sopInstanceUID, sop)
        try w.set(.studyInstanceUID, study)
        try w.set(.seriesInstanceUID, series)
        try w.set(.frameOfReferenceUID, frameOfRef)
        try w.set(.modality, modality)
        try w.set(.seriesNumber, String(seriesNumber))
        try w.set(.seriesDescription, seriesDescription)
        try w.set(.protocolName, seriesDescription)
        try w.set(.manufacturer, "dicomprep-synth")
        try w.set(.imageType, "ORIGINAL\\PRIMARY\\M")
        if modality == "MR" {
            try w.set(.magneticFieldStrength, "3")
            try w.set(.echoTime, "12.5")
            try w.set(.repetitionTime, "500")
            try w.set(.flipAngle, "90")
        }
        if let e = echoNumber { try w.set(.echoNumbers, String(e)) }
        if let c = windowCenter, let wd = windowWidth {
            try w.set(.windowCenter, dicomNumber(c))
            try w.set(.windowWidth, dicomNumber(wd))
        }
        try w.set(.samplesPerPixel, "1")
        try w.set(.photometricInterpretation, photometric)
        try w.set(.rows, String(rows))
        try w.set(.columns, String(columns))
        try w.set(.bitsAllocated, String(bitsAllocated))
        try w.set(.bitsStored, String(bitsStored))
        try w.set(.highBit, String(bitsStored - 1))
        try w.set(.pixelRepresentation, signed ? "1" : "0")
        for (tag, v) in identity.sorted(by: { $0.key.raw < $1.key.raw }) { try w.set(tag, v) }
    }

    /// Slice k's stored values as little-endian bytes (two's complement masked to BitsStored).
    func pixels(_ k: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(rows * columns * bitsAllocated / 8)
        let mask = (1 << bitsStored) - 1
        for j in 0..<rows {
            for i in 0..<columns {
                let v = value(i, j, k) & mask
                if bitsAllocated == 8 { out.append(UInt8(truncatingIfNeeded: v)) } else {
                    out.append(UInt8(truncatingIfNeeded: v))
                    out.append(UInt8(truncatingIfNeeded: v >> 8))
                }
            }
        }
        return out
    }
}

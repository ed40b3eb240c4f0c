import DicomPrepCore

/// The metadata of a DICOM image as a JSON document (DICOM keywords as keys), plus derived values that a
/// JSON Schema can bound but not compute: the lengths of the two ImageOrientationPatient vectors and
/// their dot product (unit, orthogonal vectors: 1, 1 and 0). Used by `validate --dicom`.
public enum DicomMetadata {
    public static func document(_ i: DicomInstance) -> JSONValue {
        var d: [String: JSONValue] = [:]
        func put(_ k: String, _ v: JSONValue?) { if let v { d[k] = v } }
        func num(_ x: Double?) -> JSONValue? { x.map { .number($0) } }
        func int(_ x: Int?) -> JSONValue? { x.map { .number(Double($0)) } }
        func str(_ x: String?) -> JSONValue? { x.flatMap { $0.isEmpty ? nil : .string($0) } }
        func arr(_ x: [Double]?) -> JSONValue? { x.map { .array($0.map { .number($0) }) } }
        let f = i.frames[0]
        put("path", .string(i.path))
        put("SOPClassUID", str(i.sopClassUID))
        put("TransferSyntaxUID", str(i.transferSyntax))
        put("Modality", str(i.modality))
        put("SeriesInstanceUID", str(i.seriesInstanceUID))
        put("SeriesNumber", int(i.seriesNumber))
        put("InstanceNumber", int(i.instanceNumber))
        put("Rows", int(i.rows))
        put("Columns", int(i.columns))
        put("NumberOfFrames", int(i.numberOfFrames))
        put("BitsAllocated", int(i.bitsAllocated))
        put("BitsStored", int(i.bitsStored))
        put("HighBit", int(i.highBit))
        put("PixelRepresentation", int(i.pixelRepresentation))
        put("SamplesPerPixel", int(i.samplesPerPixel))
        put("PhotometricInterpretation", str(i.photometric))
        put("PixelSpacing", arr(i.rawPixelSpacing ?? f.pixelSpacing))
        put("SliceThickness", num(i.sliceThickness))
        put("SpacingBetweenSlices", num(i.spacingBetweenSlices))
        put("ImagePositionPatient", arr(f.position?.array))
        if let r = f.rowDirection, let c = f.columnDirection {
            put("ImageOrientationPatient", arr(r.array + c.array))
        }
        put("RescaleSlope", num(f.rescaleSlope))
        put("RescaleIntercept", num(f.rescaleIntercept))
        put("WindowCenter", num(f.windowCenter))
        put("WindowWidth", num(f.windowWidth))
        put("EchoTime", num(i.echoTime))
        put("RepetitionTime", num(i.repetitionTime))
        put("FlipAngle", num(i.flipAngle))
        put("MagneticFieldStrength", num(i.magneticFieldStrength))
        put("SeriesDescription", str(i.seriesDescription))
        put("Manufacturer", str(i.manufacturer))
        var derived: [String: JSONValue] = [:]
        if let raw = i.rawOrientation, raw.count == 6 {
            let r = Vector3(raw[0], raw[1], raw[2]), c = Vector3(raw[3], raw[4], raw[5])
            derived["rowNorm"] = .number(r.length)
            derived["columnNorm"] = .number(c.length)
            derived["dot"] = .number(r.dot(c))
        }
        if !derived.isEmpty { d["derived"] = .object(derived, order: derived.keys.sorted()) }
        return .object(d, order: d.keys.sorted())
    }
}

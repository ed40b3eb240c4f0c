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

/// The DICOM attributes dicomprep reads and writes.
public extension Tag {
    static let transferSyntaxUID = Tag(0x0002, 0x0010)
    static let mediaStorageSOPClassUID = Tag(0x0002, 0x0002)
    static let specificCharacterSet = Tag(0x0008, 0x0005)
    static let imageType = Tag(0x0008, 0x0008)
    static let sopClassUID = Tag(0x0008, 0x0016)
    static let sopInstanceUID = Tag(0x0008, 0x0018)
    static let studyDate = Tag(0x0008, 0x0020)
    static let seriesDate = Tag(0x0008, 0x0021)
    static let acquisitionDate = Tag(0x0008, 0x0022)
    static let contentDate = Tag(0x0008, 0x0023)
    static let acquisitionDateTime = Tag(0x0008, 0x002A)
    static let studyTime = Tag(0x0008, 0x0030)
    static let seriesTime = Tag(0x0008, 0x0031)
    static let acquisitionTime = Tag(0x0008, 0x0032)
    static let accessionNumber = Tag(0x0008, 0x0050)
    static let modality = Tag(0x0008, 0x0060)
    static let manufacturer = Tag(0x0008, 0x0070)
    static let institutionName = Tag(0x0008, 0x0080)
    static let referringPhysicianName = Tag(0x0008, 0x0090)
    static let stationName = Tag(0x0008, 0x1010)
    static let studyDescription = Tag(0x0008, 0x1030)
    static let seriesDescription = Tag(0x0008, 0x103E)
    static let manufacturerModelName = Tag(0x0008, 0x1090)
    static let patientName = Tag(0x0010, 0x0010)
    static let patientID = Tag(0x0010, 0x0020)
    static let patientBirthDate = Tag(0x0010, 0x0030)
    static let patientSex = Tag(0x0010, 0x0040)
    static let patientAge = Tag(0x0010, 0x1010)
    static let bodyPartExamined = Tag(0x0018, 0x0015)
    static let scanningSequence = Tag(0x0018, 0x0020)
    static let sequenceVariant = Tag(0x0018, 0x0021)
    static let sliceThickness = Tag(0x0018, 0x0050)
    static let repetitionTime = Tag(0x0018, 0x0080)
    static let echoTime = Tag(0x0018, 0x0081)
    static let inversionTime = Tag(0x0018, 0x0082)
    static let magneticFieldStrength = Tag(0x0018, 0x0087)
    static let spacingBetweenSlices = Tag(0x0018, 0x0088)
    static let echoNumbers = Tag(0x0018, 0x0086)
    static let sequenceName = Tag(0x0018, 0x0024)
    static let protocolName = Tag(0x0018, 0x1030)
    static let flipAngle = Tag(0x0018, 0x1314)
    static let gantryDetectorTilt = Tag(0x0018, 0x1120)
    static let kvp = Tag(0x0018, 0x0060)
    static let studyInstanceUID = Tag(0x0020, 0x000D)
    static let seriesInstanceUID = Tag(0x0020, 0x000E)
    static let studyID = Tag(0x0020, 0x0010)
    static let seriesNumber = Tag(0x0020, 0x0011)
    static let acquisitionNumber = Tag(0x0020, 0x0012)
    static let instanceNumber = Tag(0x0020, 0x0013)
    static let imagePositionPatient = Tag(0x0020, 0x0032)
    static let imageOrientationPatient = Tag(0x0020, 0x0037)
    static let frameOfReferenceUID = Tag(0x0020, 0x0052)
    static let temporalPositionIdentifier = Tag(0x0020, 0x0100)
    static let sliceLocation = Tag(0x0020, 0x1041)
    static let samplesPerPixel = Tag(0x0028, 0x0002)
    static let photometricInterpretation = Tag(0x0028, 0x0004)
    static let numberOfFrames = Tag(0x0028, 0x0008)
    static let rows = Tag(0x0028, 0x0010)
    static let columns = Tag(0x0028, 0x0011)
    static let pixelSpacing = Tag(0x0028, 0x0030)
    static let imagerPixelSpacing = Tag(0x0018, 0x1164)
    static let bitsAllocated = Tag(0x0028, 0x0100)
    static let bitsStored = Tag(0x0028, 0x0101)
    static let highBit = Tag(0x0028, 0x0102)
    static let pixelRepresentation = Tag(0x0028, 0x0103)
    static let windowCenter = Tag(0x0028, 0x1050)
    static let windowWidth = Tag(0x0028, 0x1051)
    static let rescaleIntercept = Tag(0x0028, 0x1052)
    static let rescaleSlope = Tag(0x0028, 0x1053)
    static let rescaleType = Tag(0x0028, 0x1054)
    static let voiLUTFunction = Tag(0x0028, 0x1056)
    static let modalityLUTSequence = Tag(0x0028, 0x3000)
    static let lutDescriptor = Tag(0x0028, 0x3002)
    static let lutData = Tag(0x0028, 0x3006)
    static let voiLUTSequence = Tag(0x0028, 0x3010)
    static let pixelData = Tag(0x7FE0, 0x0010)
    // Enhanced multi-frame functional groups.
    static let sharedFunctionalGroups = Tag(0x5200, 0x9229)
    static let perFrameFunctionalGroups = Tag(0x5200, 0x9230)
    static let planePositionSequence = Tag(0x0020, 0x9113)
    static let planeOrientationSequence = Tag(0x0020, 0x9116)
    static let pixelMeasuresSequence = Tag(0x0028, 0x9110)
    static let pixelValueTransformationSequence = Tag(0x0028, 0x9145)
    static let frameVOILUTSequence = Tag(0x0028, 0x9132)
    static let frameContentSequence = Tag(0x0020, 0x9111)
    static let mrEchoSequence = Tag(0x0018, 0x9114)
    static let effectiveEchoTime = Tag(0x0018, 0x9082)
    static let stackID = Tag(0x0020, 0x9056)
    static let inStackPositionNumber = Tag(0x0020, 0x9057)
    static let temporalPositionIndex = Tag(0x0020, 0x9128)
    static let frameAcquisitionNumber = Tag(0x0020, 0x9156)
    // Acquisition, timing and diffusion.
    static let mrAcquisitionType = Tag(0x0018, 0x0023)
    static let triggerTime = Tag(0x0018, 0x1060)
    static let inPlanePhaseEncodingDirection = Tag(0x0018, 0x1312)
    static let pulseSequenceName = Tag(0x0018, 0x9005)
    static let frameAcquisitionDateTime = Tag(0x0018, 0x9074)
    static let mrTimingAndRelatedParametersSequence = Tag(0x0018, 0x9112)
    static let mrFOVGeometrySequence = Tag(0x0018, 0x9125)
    static let mrImageFrameTypeSequence = Tag(0x0018, 0x9226)
    static let complexImageComponent = Tag(0x0008, 0x9208)
    static let mrDiffusionSequence = Tag(0x0018, 0x9117)
    static let diffusionGradientDirectionSequence = Tag(0x0018, 0x9076)
    static let diffusionBValue = Tag(0x0018, 0x9087)
    static let diffusionGradientOrientation = Tag(0x0018, 0x9089)
}

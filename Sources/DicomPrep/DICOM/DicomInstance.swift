/// What one frame of an image says about where it is and how to turn its stored values into real ones.
public struct FrameInfo: Sendable, Equatable {
    /// ImagePositionPatient (LPS mm) of the first voxel.
    public var position: Vector3?
    /// ImageOrientationPatient: direction of increasing column index, then of increasing row index.
    public var rowDirection: Vector3?
    public var columnDirection: Vector3?
    /// PixelSpacing: [between rows, between columns] in mm.
    public var pixelSpacing: [Double]?
    /// Where pixelSpacing came from when not PixelSpacing itself.
    public var pixelSpacingSource: String?
    public var sliceThickness: Double?
    public var rescaleSlope: Double = 1
    public var rescaleIntercept: Double = 0
    public var windowCenter: Double?
    public var windowWidth: Double?
    /// Per-frame echo time (ms) of enhanced MR.
    public var echoTime: Double?
    public var stackID: String?
    public var inStackPosition: Int?
    public var temporalIndex: Int?
    public var acquisitionNumber: Int?
}

/// A lookup table (Modality or VOI LUT Sequence item).
public struct LookupTable: Sendable, Equatable {
    public var entries: Int
    public var firstMapped: Int
    public var bits: Int
    public var data: [Int]
}

/// The header of one DICOM image file, as parsed: everything grouping, geometry and value mapping need.
public struct DicomInstance: Sendable {
    public var path: String
    public var fileSize: Int
    public var transferSyntax: String
    public var sopClassUID: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String
    public var studyInstanceUID: String
    public var frameOfReferenceUID: String
    public var modality: String
    public var seriesNumber: Int?
    public var instanceNumber: Int?
    public var acquisitionNumber: Int?
    public var echoNumber: Int?
    public var temporalPosition: Int?
    public var rows: Int
    public var columns: Int
    public var bitsAllocated: Int
    public var bitsStored: Int
    public var highBit: Int
    public var pixelRepresentation: Int
    public var samplesPerPixel: Int
    public var photometric: String
    public var numberOfFrames: Int
    public var isEnhanced: Bool
    public var frames: [FrameInfo]
    public var modalityLUT: LookupTable?
    public var voiLUT: LookupTable?
    public var voiFunction: String
    /// Non-identifying acquisition description (BIDS-like keys).
    public var seriesDescription: String?
    public var protocolName: String?
    public var manufacturer: String?
    public var manufacturerModelName: String?
    public var magneticFieldStrength: Double?
    public var echoTime: Double?
    public var repetitionTime: Double?
    public var inversionTime: Double?
    public var flipAngle: Double?
    public var imageType: [String]
    public var sliceThickness: Double?
    public var spacingBetweenSlices: Double?
    public var sequenceName: String?
    public var scanningSequence: String?
    public var bodyPartExamined: String?
    public var gantryTilt: Double?
    /// ImageOrientationPatient exactly as written (before normalisation), for metadata validation.
    public var rawOrientation: [Double]?
    /// PixelSpacing exactly as written (even when unusable), for metadata validation.
    public var rawPixelSpacing: [Double]?
    /// Identifying attributes (PHI), used only with --keep-phi. Keys are DICOM keywords.
    public var identity: [String: String]

    /// The signed/unsigned range of the stored values.
    public var storedRange: ClosedRange<Int64> {
        pixelRepresentation == 1 ? -(Int64(1) << (bitsStored - 1))...((Int64(1) << (bitsStored - 1)) - 1)
                                 : 0...((Int64(1) << bitsStored) - 1)
    }
}

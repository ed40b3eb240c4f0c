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
    public var temporalIndex: Int?
    public var acquisitionNumber: Int?
    /// Echo number of this frame (enhanced files carry it per frame in vendor items).
    public var echoNumber: Int?
    /// Magnitude, phase, real, imaginary or a derived map: frames of different kinds are separate outputs.
    public var component: ImageComponent = .magnitude
    /// Diffusion weighting (s/mm²) and gradient direction (patient LPS, unit length), where the file gives them.
    public var bValue: Double?
    public var gradient: Vector3?
    /// When this frame (slice) was acquired, in seconds on a clock shared by the series (slice timing).
    public var acquisitionTime: Double?
    /// Philips private scale slope (2005,100E): precise value = (stored × slope + intercept) / (slope × this).
    public var philipsScaleSlope: Double?
}

/// What kind of value an image holds; the suffix names the output the way the reference converter does.
public enum ImageComponent: String, Sendable, Codable, Equatable, Comparable {
    case magnitude, phase, real, imaginary, fieldMapHz, derived

    public var suffix: String {
        switch self {
        case .magnitude: return ""
        case .phase: return "_ph"
        case .real: return "_real"
        case .imaginary: return "_imaginary"
        case .fieldMapHz: return "_fieldmaphz"
        case .derived: return "_derived"
        }
    }

    public static func < (a: ImageComponent, b: ImageComponent) -> Bool {
        let order: [ImageComponent] = [.magnitude, .phase, .real, .imaginary, .fieldMapHz, .derived]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}

/// A Siemens mosaic: one stored frame tiles every slice of a volume.
public struct MosaicLayout: Sendable, Equatable {
    /// The stored frame's size.
    public var storedRows: Int
    public var storedColumns: Int
    /// Tiles per row of the mosaic (the mosaic is tilesPerRow × tilesPerRow tiles).
    public var tilesPerRow: Int
    /// Slices actually present (NumberOfImagesInMosaic).
    public var slices: Int
}

/// Series-level acquisition facts for BIDS timing and encoding fields (vendor fields read where known).
public struct AcquisitionFacts: Sendable, Equatable {
    /// "2D" or "3D" (MRAcquisitionType).
    public var mrAcquisitionType: String?
    /// InPlanePhaseEncodingDirection: "ROW" or "COL".
    public var phaseEncodingAxis: String?
    /// Whether phase encoding runs along the positive axis direction (Siemens CSA / XA); nil where unknown.
    public var phaseEncodingPositive: Bool?
    /// Siemens BandwidthPerPixelPhaseEncode (Hz).
    public var bandwidthPerPixelPhaseEncode: Double?
    /// Effective echo spacing in seconds given directly by the vendor (GE 0043,102C / ASSET).
    public var vendorEchoSpacing: Double?
    /// Vendor pulse sequence name (GE 0019,109C, enhanced 0018,9005).
    public var pulseSequenceName: String?
    /// Where per-slice times came from ("MosaicRefAcqTimes", "FrameAcquisitionDateTime", ...).
    public var sliceTimeSource: String?
    /// Where diffusion values came from.
    public var diffusionSource: String?
    public init() {}
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
    /// Set when the file is a Siemens mosaic: `rows`/`columns`/`numberOfFrames` then describe the tiles.
    public var mosaic: MosaicLayout? = nil
    /// The file is gzip-compressed (`.dcm.gz`), so decoding reads it through the same in-memory path.
    public var gzipCompressed = false
    /// Where native little-endian PixelData lies in the file (value offset and length), when dcmtk left
    /// it unread: decoding then reads those bytes instead of parsing the file a second time.
    public var pixelDataLocation: (offset: UInt64, length: UInt64)? = nil
    public var acquisition = AcquisitionFacts()
    /// Manufacturer in upper case, for vendor rules.
    public var vendor: String { (manufacturer ?? "").uppercased() }

    /// The signed/unsigned range of the stored values.
    public var storedRange: ClosedRange<Int64> {
        pixelRepresentation == 1 ? -(Int64(1) << (bitsStored - 1))...((Int64(1) << (bitsStored - 1)) - 1)
                                 : 0...((Int64(1) << bitsStored) - 1)
    }
}

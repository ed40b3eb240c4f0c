import DicomPrepCore
import Foundation

/// The JSON written beside each volume: BIDS-style acquisition fields plus dicomprep's own geometry and
/// warnings. It carries no patient identifiers, dates or UIDs unless --keep-phi asked for them.
public struct Sidecar: Codable, Sendable, Equatable {
    public var schema = "series-sidecar.schema.json"
    public var Modality: String?
    public var Manufacturer: String?
    public var ManufacturersModelName: String?
    public var MagneticFieldStrength: Double?
    public var SeriesDescription: String?
    public var ProtocolName: String?
    public var SeriesNumber: Int?
    public var ImageType: [String]?
    public var SequenceName: String?
    public var ScanningSequence: String?
    public var BodyPartExamined: String?
    /// Seconds, as BIDS.
    public var EchoTime: Double?
    public var RepetitionTime: Double?
    public var InversionTime: Double?
    public var FlipAngle: Double?
    public var SliceThickness: Double?
    public var SpacingBetweenSlices: Double?
    public var AcquisitionPlane: String
    public var ImageOrientationPatientDICOM: [Double]
    public var PhotometricInterpretation: String
    /// "normal" for MONOCHROME2, "inverted" for MONOCHROME1 (values are real-world values either way).
    public var DisplayPolarity: String
    public var TransferSyntax: String
    // Real scanner exports: image kind, timing, encoding, diffusion, vendor scaling (BIDS names, seconds).
    public var ImageComponent: String?
    public var EchoNumber: Int?
    public var MRAcquisitionType: String?
    public var PulseSequenceName: String?
    public var MosaicSlices: Int?
    public var SliceTiming: [Double]?
    public var SliceTimingSource: String?
    public var SliceEncodingDirection: String?
    public var MultibandAccelerationFactor: Int?
    public var PhaseEncodingDirection: String?
    public var PhaseEncodingAxis: String?
    public var BandwidthPerPixelPhaseEncode: Double?
    public var EffectiveEchoSpacing: Double?
    public var TotalReadoutTime: Double?
    public var DiffusionSource: String?
    public var PhilipsRescaleSlope: Double?
    public var PhilipsRescaleIntercept: Double?
    public var PhilipsScaleSlope: Double?
    /// 1 when the values are Philips' precise (floating-point) values, 0 when display values were kept.
    public var UsePhilipsFloatNotDisplayScaling: Int?
    public var ConversionSoftware = "dicomprep"
    public var ConversionSoftwareVersion = DicomPrepVersion.string
    // dicomprep's own fields.
    public var Dimensions: [Int]
    public var VoxelSize: [Double]
    public var DataType: String
    public var Affine: [[Double]]
    public var AxisCodes: String
    public var SliceCount: Int
    public var Timepoints: Int
    public var SliceSpacingFromPositions: Double
    public var SortKey: String
    public var MissingSlices: Int
    public var NonUniformSpacing: Bool
    public var GantryTiltDegrees: Double
    public var ValueMapping: String
    public var WindowCenter: Double?
    public var WindowWidth: Double?
    public var Transforms: [String]
    public var Warnings: [SeriesWarning]
    public var SourceFileCount: Int
    /// A hash of the source files (names, sizes, times) and output options, used by --resume.
    public var SourceFingerprint: String
    /// Identifying attributes, present only with --keep-phi.
    public var PHI: [String: String]?

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case Modality, Manufacturer, ManufacturersModelName, MagneticFieldStrength, SeriesDescription, ProtocolName,
             SeriesNumber, ImageType, SequenceName, ScanningSequence, BodyPartExamined, EchoTime, RepetitionTime,
             InversionTime, FlipAngle, SliceThickness, SpacingBetweenSlices, AcquisitionPlane, ImageOrientationPatientDICOM,
             PhotometricInterpretation, DisplayPolarity, TransferSyntax, ImageComponent, EchoNumber, MRAcquisitionType,
             PulseSequenceName, MosaicSlices, SliceTiming, SliceTimingSource, SliceEncodingDirection, MultibandAccelerationFactor,
             PhaseEncodingDirection, PhaseEncodingAxis, BandwidthPerPixelPhaseEncode, EffectiveEchoSpacing, TotalReadoutTime,
             DiffusionSource, PhilipsRescaleSlope, PhilipsRescaleIntercept, PhilipsScaleSlope, UsePhilipsFloatNotDisplayScaling,
             ConversionSoftware, ConversionSoftwareVersion,
             Dimensions, VoxelSize, DataType, Affine, AxisCodes, SliceCount, Timepoints, SliceSpacingFromPositions, SortKey,
             MissingSlices, NonUniformSpacing, GantryTiltDegrees, ValueMapping, WindowCenter, WindowWidth, Transforms,
             Warnings, SourceFileCount, SourceFingerprint, PHI
    }

    /// The sidecar of a volume built from `plan`.
    public init(plan: SeriesPlan, volume: Volume, transforms: [String], fingerprint: String, keepPHI: Bool,
                acquisition: AcquisitionFields? = nil, philipsDisplayValues: Bool = false) {
        let i = plan.first
        let f0 = plan.frame(plan.volumes[0][0])
        let acq = acquisition ?? AcquisitionFields(plan: plan, affine: volume.affine)
        let g = plan.geometry
        let x = keepPHI ? PHIScrubber.none : PHIScrubber(identity: i.identity)
        Modality = i.modality.isEmpty ? nil : i.modality
        Manufacturer = x.scrub(i.manufacturer)
        ManufacturersModelName = x.scrub(i.manufacturerModelName)
        MagneticFieldStrength = i.magneticFieldStrength
        SeriesDescription = x.scrub(i.seriesDescription)
        ProtocolName = x.scrub(i.protocolName)
        SeriesNumber = i.seriesNumber.map { $0 + plan.seriesNumberOffset }
        ImageType = i.imageType.isEmpty ? nil : i.imageType.map { x.scrub($0) }
        SequenceName = x.scrub(i.sequenceName)
        ScanningSequence = x.scrub(i.scanningSequence)
        BodyPartExamined = x.scrub(i.bodyPartExamined)
        EchoTime = (f0.echoTime ?? i.echoTime).map { $0 / 1000 }
        RepetitionTime = i.repetitionTime.map { $0 / 1000 }
        InversionTime = i.inversionTime.map { $0 / 1000 }
        FlipAngle = i.flipAngle
        SliceThickness = i.sliceThickness
        SpacingBetweenSlices = i.spacingBetweenSlices
        AcquisitionPlane = g.acquisitionPlane
        ImageOrientationPatientDICOM = g.orientation
        PhotometricInterpretation = i.photometric
        DisplayPolarity = i.photometric == "MONOCHROME1" ? "inverted" : "normal"
        TransferSyntax = DicomPrepCore.TransferSyntax.name(i.transferSyntax)
        ImageComponent = plan.component.rawValue.uppercased()
        EchoNumber = f0.echoNumber
        MRAcquisitionType = i.acquisition.mrAcquisitionType
        PulseSequenceName = x.scrub(i.acquisition.pulseSequenceName)
        MosaicSlices = i.mosaic?.slices
        SliceTiming = acq.sliceTiming
        SliceTimingSource = acq.sliceTiming != nil ? i.acquisition.sliceTimeSource : nil
        SliceEncodingDirection = acq.sliceEncodingDirection
        MultibandAccelerationFactor = acq.multibandAccelerationFactor
        PhaseEncodingDirection = acq.phaseEncodingDirection
        PhaseEncodingAxis = acq.phaseEncodingDirection == nil ? acq.phaseEncodingAxis : nil
        BandwidthPerPixelPhaseEncode = i.acquisition.bandwidthPerPixelPhaseEncode
        EffectiveEchoSpacing = acq.effectiveEchoSpacing
        TotalReadoutTime = acq.totalReadoutTime
        DiffusionSource = acq.bValues != nil ? i.acquisition.diffusionSource : nil
        if plan.usesPhilipsScale {
            PhilipsRescaleSlope = f0.rescaleSlope
            PhilipsRescaleIntercept = f0.rescaleIntercept
            PhilipsScaleSlope = f0.philipsScaleSlope
            UsePhilipsFloatNotDisplayScaling = philipsDisplayValues ? 0 : 1
        }
        Dimensions = volume.dims
        VoxelSize = volume.spacing
        DataType = volume.voxels.dataType.rawValue
        Affine = volume.affine.nested
        AxisCodes = volume.affine.axisCodes
        SliceCount = g.slices
        Timepoints = g.timepoints
        SliceSpacingFromPositions = g.sliceSpacing
        SortKey = g.sortKey
        MissingSlices = g.missingSlices
        NonUniformSpacing = g.nonUniformSpacing
        GantryTiltDegrees = g.tiltDegrees
        ValueMapping = volume.metadata.valueMapping
        WindowCenter = volume.metadata.windowCenter
        WindowWidth = volume.metadata.windowWidth
        Transforms = transforms
        Warnings = plan.warnings.map { SeriesWarning(kind: $0.kind, message: x.scrub($0.message)) }
            + acq.warnings.map { SeriesWarning(kind: .diffusion, message: $0) }
        SourceFileCount = plan.usedPaths.count
        SourceFingerprint = fingerprint
        PHI = keepPHI ? i.identity : nil
    }
}

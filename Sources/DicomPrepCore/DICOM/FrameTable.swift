/// The per-frame attributes of an enhanced multi-frame file, read in one pass over the Per-frame
/// Functional Groups Sequence (one item per frame), with the Shared Functional Groups as fallback. Reading
/// them one lookup at a time walks the item list from its start for every frame: quadratic in frames.
struct FrameTable {
    /// What is read for every frame, relative to the frame's item.
    enum Field: Int, CaseIterable {
        case position, orientation, pixelSpacing, sliceThickness, rescaleSlope, rescaleIntercept, windowCenter, windowWidth,
             echoTime, temporalIndex, acquisitionNumber, acquisitionDateTime, complexComponent, bValue, gradient

        var path: TagPath {
            switch self {
            case .position: return TagPath([(.planePositionSequence, 0)], .imagePositionPatient)
            case .orientation: return TagPath([(.planeOrientationSequence, 0)], .imageOrientationPatient)
            case .pixelSpacing: return TagPath([(.pixelMeasuresSequence, 0)], .pixelSpacing)
            case .sliceThickness: return TagPath([(.pixelMeasuresSequence, 0)], .sliceThickness)
            case .rescaleSlope: return TagPath([(.pixelValueTransformationSequence, 0)], .rescaleSlope)
            case .rescaleIntercept: return TagPath([(.pixelValueTransformationSequence, 0)], .rescaleIntercept)
            case .windowCenter: return TagPath([(.frameVOILUTSequence, 0)], .windowCenter)
            case .windowWidth: return TagPath([(.frameVOILUTSequence, 0)], .windowWidth)
            case .echoTime: return TagPath([(.mrEchoSequence, 0)], .effectiveEchoTime)
            case .temporalIndex: return TagPath([(.frameContentSequence, 0)], .temporalPositionIndex)
            case .acquisitionNumber: return TagPath([(.frameContentSequence, 0)], .frameAcquisitionNumber)
            case .acquisitionDateTime: return TagPath([(.frameContentSequence, 0)], .frameAcquisitionDateTime)
            case .complexComponent: return TagPath([(.mrImageFrameTypeSequence, 0)], .complexImageComponent)
            case .bValue: return TagPath([(.mrDiffusionSequence, 0)], .diffusionBValue)
            case .gradient: return TagPath([(.mrDiffusionSequence, 0), (.diffusionGradientDirectionSequence, 0)], .diffusionGradientOrientation)
            }
        }
    }

    let perFrame: [[String?]]
    let shared: [String?]

    init(_ o: DicomObject) {
        let paths = Field.allCases.map(\.path)
        perFrame = o.sequenceStrings(TagPath(.perFrameFunctionalGroups), paths) ?? []
        shared = o.sequenceStrings(TagPath(.sharedFunctionalGroups), paths)?.first ?? [String?](repeating: nil, count: paths.count)
    }

    /// The frame's value, else the shared one.
    func string(_ frame: Int, _ field: Field) -> String? {
        (frame < perFrame.count ? perFrame[frame][field.rawValue] : nil) ?? shared[field.rawValue]
    }

    /// Only the frame's own value (no shared fallback): for attributes a frame must carry itself.
    func own(_ frame: Int, _ field: Field) -> String? { frame < perFrame.count ? perFrame[frame][field.rawValue] : nil }

    func numbers(_ frame: Int, _ field: Field) -> [Double]? { InstanceParser.numbers(string(frame, field)) }
    func number(_ frame: Int, _ field: Field) -> Double? { numbers(frame, field)?.first }
    func int(_ frame: Int, _ field: Field) -> Int? { number(frame, field).flatMap { $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil } }
}

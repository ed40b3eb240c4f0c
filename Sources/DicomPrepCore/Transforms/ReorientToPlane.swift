/// Reorients a volume so that its slices are axial, coronal or sagittal, without resampling
/// (the RSNA data mixes planes; a model sees one). Axial: RAS; coronal: RSA; sagittal: ASR.
public struct ReorientToPlane: VolumeTransform {
    public enum Plane: String, Sendable, CaseIterable, Codable {
        case axial, coronal, sagittal
        var code: String {
            switch self {
            case .axial: return "RAS"
            case .coronal: return "RSA"
            case .sagittal: return "ASR"
            }
        }
    }
    public let plane: Plane
    public init(_ plane: Plane) { self.plane = plane }
    public var name: String { "plane(\(plane.rawValue))" }
    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume { try Reorient(plane.code).apply(v) }
}

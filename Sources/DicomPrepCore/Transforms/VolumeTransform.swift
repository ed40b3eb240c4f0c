/// One step of a preprocessing pipeline: takes a volume, returns a new one. Steps are small values
/// composed in order by `Pipeline`; the CLI and the dataset preparation only assemble them from options.
public protocol VolumeTransform: Sendable {
    /// A short name for logs and metadata, e.g. "reorient(RAS)".
    var name: String { get }
    func apply(_ volume: Volume) throws(DicomPrepError) -> Volume
}

/// Transforms applied in order.
public struct Pipeline: Sendable {
    public var steps: [any VolumeTransform]
    public init(_ steps: [any VolumeTransform]) { self.steps = steps }
    public func apply(_ volume: Volume) throws(DicomPrepError) -> Volume {
        var v = volume
        for s in steps { v = try s.apply(v) }
        return v
    }
    public var names: [String] { steps.map(\.name) }
}

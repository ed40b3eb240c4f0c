/// Converts voxels to Float32 (model inputs are float).
public struct ToFloat: VolumeTransform {
    public init() {}
    public var name: String { "float32" }
    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume { v.asFloat }
}

/// Converts voxels to a given NIfTI type (integers rounded and clamped), e.g. after a VOI window.
public struct CastTo: VolumeTransform {
    public let type: NiftiDataType
    public init(_ type: NiftiDataType) { self.type = type }
    public var name: String { "cast(\(type.rawValue))" }
    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        var out = v
        out.voxels = v.voxels.converted(to: type)
        return out
    }
}

/// Inverts MONOCHROME1 images (max − value) so that bright means high signal, as the RSNA winner did;
/// MONOCHROME2 volumes pass unchanged.
public struct DisplayPolarity: VolumeTransform {
    public init() {}
    public var name: String { "polarity" }
    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        guard v.metadata.photometric == "MONOCHROME1" else { return v }
        var out = v.asFloat
        let f = out.floatValues
        let mx = f.max() ?? 0
        out.voxels = .float32(f.map { mx - $0 })
        out.metadata.photometric = "MONOCHROME2"
        return out
    }
}

/// Scales intensities: min–max to [0, 1], or z-score (zero mean, unit standard deviation).
public struct Normalize: VolumeTransform {
    public enum Mode: String, Sendable, CaseIterable, Codable { case minmax, zscore }
    public let mode: Mode
    public init(_ mode: Mode) { self.mode = mode }
    public var name: String { "normalize(\(mode.rawValue))" }

    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        var out = v
        var f = v.floatValues
        guard !f.isEmpty else { return out }
        switch mode {
        case .minmax:
            let lo = f.min()!, hi = f.max()!
            let range = hi - lo
            if range > 0 {
                for i in f.indices { f[i] = (f[i] - lo) / range }
            } else {
                for i in f.indices { f[i] = 0 }
            }
        case .zscore:
            var sum = 0.0, sq = 0.0
            for x in f { sum += Double(x); sq += Double(x) * Double(x) }
            let n = Double(f.count)
            let mean = sum / n
            let sd = max(0, sq / n - mean * mean).squareRoot()
            let m = Float(mean), inv = sd > 0 ? Float(1 / sd) : 0
            for i in f.indices { f[i] = (f[i] - m) * inv }
        }
        out.voxels = .float32(f)
        return out
    }
}

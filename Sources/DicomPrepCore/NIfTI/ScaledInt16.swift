/// Float values stored as int16 with scl_slope / scl_inter over their range (NIfTI-1 has no float16): half
/// the size of float32 for model inputs. `encode` is what the writer stores; `decoded` is exactly what a
/// reader gets back (the header holds slope and intercept as float32), so training on files and predicting
/// from memory see the same numbers.
public enum ScaledInt16 {
    public static func encode(_ f: [Double]) -> (values: [Int16], slope: Double, intercept: Double) {
        let lo = f.min() ?? 0, hi = f.max() ?? 0
        let slope = hi > lo ? (hi - lo) / 65534 : 1
        let inter = hi > lo ? lo + 32767 * slope : lo
        return (f.map { Int16(((($0 - inter) / slope).rounded()).clamped(-32767, 32767)) }, slope, inter)
    }

    public static func decoded(_ e: (values: [Int16], slope: Double, intercept: Double)) -> [Double] {
        let s = Double(Float(e.slope)), b = Double(Float(e.intercept))
        if s == 1 && b == 0 { return e.values.map { Double($0) } }
        return e.values.map { Double($0) * s + b }
    }
}

/// What a float volume becomes when written with scaled-int16 storage and read back, in memory.
public struct ScaledInt16RoundTrip: VolumeTransform {
    public init() {}
    public var name: String { "storage(scaled-int16)" }
    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        guard v.voxels.dataType == .float32 || v.voxels.dataType == .float64 else { return v }
        var out = v
        out.voxels = .float32(ScaledInt16.decoded(ScaledInt16.encode(v.voxels.doubles)).map(Float.init))
        return out
    }
}

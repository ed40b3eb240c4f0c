/// Maps intensities linearly from [a, b] to [outMin, outMax], with [a, b] either fixed (MONAI's
/// ScaleIntensityRange, e.g. CT HU -57..164 -> 0..1) or taken from percentiles of the volume (MONAI's
/// ScaleIntensityRangePercentiles, robust to bright outliers and scanner units); optionally clipped.
public struct ScaleIntensity: VolumeTransform, Codable, Equatable {
    /// `fixed`: lower and upper are values; `percentiles`: they are percentiles (0...100) of the volume.
    public enum Mode: String, Sendable, Codable, Equatable { case fixed, percentiles }
    public var mode: Mode
    public var lower: Double
    public var upper: Double
    public var outMin = 0.0
    public var outMax = 1.0
    public var clip = true

    public init(_ mode: Mode, _ lower: Double, _ upper: Double, outMin: Double = 0, outMax: Double = 1, clip: Bool = true) {
        self.mode = mode
        self.lower = lower
        self.upper = upper
        self.outMin = outMin
        self.outMax = outMax
        self.clip = clip
    }

    public var name: String {
        let p = mode == .percentiles ? "p" : ""
        return "scale-intensity(\(p)\(lower)..\(p)\(upper) -> \(outMin)..\(outMax)\(clip ? ", clip" : ""))"
    }

    /// The input range [a, b] this volume maps from.
    public func bounds(_ f: [Float]) -> (Double, Double) {
        mode == .fixed ? (lower, upper) : (Self.percentile(f, lower), Self.percentile(f, upper))
    }

    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        var f = v.floatValues
        guard !f.isEmpty else { return v }
        scale(&f)
        var out = v
        out.voxels = .float32(f)
        return out
    }

    /// Maps values in place from this volume's [a, b] (see `bounds`).
    public func scale(_ f: inout [Float]) {
        guard !f.isEmpty else { return }
        let (a, b) = bounds(f)
        let scale = b > a ? (outMax - outMin) / (b - a) : 0
        let lo = Float(min(outMin, outMax)), hi = Float(max(outMin, outMax))
        let s = Float(scale), o = Float(outMin - a * scale)
        for i in f.indices {
            var x = f[i] * s + o
            if clip { x = min(max(x, lo), hi) }
            f[i] = x
        }
    }

    /// The p-th percentile (0...100) with linear interpolation between order statistics (numpy's default),
    /// from a histogram of 4096 bins refined exactly inside the bin, so large volumes need no full sort.
    public static func percentile(_ f: [Float], _ p: Double) -> Double {
        guard !f.isEmpty else { return 0 }
        var lo = Float.infinity, hi = -Float.infinity
        for x in f where x.isFinite { lo = min(lo, x); hi = max(hi, x) }
        guard lo < hi else { return Double(lo.isFinite ? lo : 0) }
        let rank = max(0, min(1, p / 100)) * Double(f.count - 1)
        let k0 = Int(rank.rounded(.down)), k1 = min(k0 + 1, f.count - 1)
        let bins = 4096
        var hist = [Int](repeating: 0, count: bins)
        let scale = Float(bins) / (hi - lo)
        for x in f { hist[min(bins - 1, max(0, Int((x - lo) * scale)))] += 1 }
        func value(_ k: Int) -> Float {
            var acc = 0
            for b in 0..<bins {
                if acc + hist[b] > k {
                    var inBin: [Float] = []
                    inBin.reserveCapacity(hist[b])
                    for x in f where min(bins - 1, max(0, Int((x - lo) * scale))) == b { inBin.append(x) }
                    inBin.sort()
                    return inBin[k - acc]
                }
                acc += hist[b]
            }
            return hi
        }
        let v0 = Double(value(k0)), v1 = k1 == k0 ? v0 : Double(value(k1))
        return v0 + (v1 - v0) * (rank - Double(k0))
    }
}

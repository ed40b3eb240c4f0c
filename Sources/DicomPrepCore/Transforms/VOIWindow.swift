#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// The VOI LUT or window of one slice, with pydicom's `apply_voi_lut` semantics: a VOI LUT Sequence, or
/// WindowCenter/Width through VOILUTFunction LINEAR, LINEAR_EXACT or SIGMOID onto the output range that
/// the stored range (or the modality LUT's) takes through the rescale.
public struct SliceVOI: Sendable, Equatable {
    public enum Function: Sendable, Equatable { case lut(LookupTable), linear, linearExact, sigmoid }
    public var function: Function
    public var center: Double, width: Double
    public var yMin: Double, yMax: Double

    /// The slice's VOI, or nil when it has none usable (no window, or a width the function refuses).
    public init?(instance inst: DicomInstance, frame f: FrameInfo) {
        var yMin: Double, yMax: Double
        if let m = inst.modalityLUT {
            yMin = 0
            yMax = Double((1 << m.bits) - 1)
        } else {
            let r = inst.storedRange
            yMin = Double(r.lowerBound) * f.rescaleSlope + f.rescaleIntercept
            yMax = Double(r.upperBound) * f.rescaleSlope + f.rescaleIntercept
        }
        self.yMin = yMin
        self.yMax = yMax
        if let lut = inst.voiLUT {
            function = .lut(lut)
            center = 0
            width = 0
            return
        }
        guard let c = f.windowCenter, let w = f.windowWidth else { return nil }
        center = c
        width = w
        switch inst.voiFunction {
        case "SIGMOID": guard w > 0 else { return nil }; function = .sigmoid
        case "LINEAR_EXACT": guard w > 0 else { return nil }; function = .linearExact
        default: guard w >= 1 else { return nil }; function = .linear
        }
    }

    public var functionName: String {
        switch function {
        case .lut: return "VOI LUT Sequence"
        case .linear: return "LINEAR"
        case .linearExact: return "LINEAR_EXACT"
        case .sigmoid: return "SIGMOID"
        }
    }

    @inline(__always)
    public func map(_ x: Double) -> Double {
        let lo = yMin, hi = yMax
        switch function {
        case let .lut(l):
            let i = min(max(Int(x.rounded(.down)) - l.firstMapped, 0), l.data.count - 1)
            return Double(l.data[i])
        case .linear:
            let c = center - 0.5, w = width - 1
            if x <= c - w / 2 { return lo }
            if x > c + w / 2 { return hi }
            return ((x - c) / w + 0.5) * (hi - lo) + lo
        case .linearExact:
            if x <= center - width / 2 { return lo }
            if x > center + width / 2 { return hi }
            return ((x - center) / width + 0.5) * (hi - lo) + lo
        case .sigmoid:
            return (hi - lo) / (1 + _exp(-4 * (x - center) / width)) + lo
        }
    }
}

/// Applies each slice's VOI LUT / window (recorded in `VolumeMetadata.voi` when the volume was built) to the
/// real-world values. It must come before any transform that reorders slices (those drop the record);
/// a volume without a record passes unchanged. Integral results in range stay int16, others are float32.
public struct VOIWindow: VolumeTransform {
    public init() {}
    public var name: String { "voi" }

    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        guard let slices = v.metadata.voi, slices.contains(where: { $0 != nil }) else { return v }
        let per = v.dims[0] * v.dims[1]
        guard slices.count * per == v.voxels.count else {
            throw .usage("the VOI window must be applied before transforms that change the slices")
        }
        var x = v.voxels.doubles
        var integral = true
        for (s, voi) in slices.enumerated() {
            guard let voi else { continue }
            for i in (s * per)..<((s + 1) * per) {
                let y = voi.map(x[i])
                if integral && !(abs(y) <= 32767 && y == y.rounded()) { integral = false }
                x[i] = y
            }
        }
        var out = v
        out.voxels = integral && x.allSatisfy({ $0 >= -32768 && $0 <= 32767 }) ? .int16(x.map { Int16($0) }) : .float32(x.map(Float.init))
        out.metadata.voi = nil
        out.metadata.valueMapping += " + VOI LUT (\(slices.compactMap { $0 }.first!.functionName))"
        return out
    }
}

@inline(__always) func _exp(_ x: Double) -> Double {
    #if canImport(Glibc)
    return Glibc.exp(x)
    #else
    return Foundation.exp(x)
    #endif
}

/// How stored values become output values.
public struct ValueOptions: Sendable {
    /// Apply the VOI LUT / window (as pydicom's apply_voi_lut) after the modality LUT.
    public var applyVOI = false
    /// Output type; nil chooses int16 when every value is an integer in range, float32 otherwise.
    public var dataType: NiftiDataType?
    public init(applyVOI: Bool = false, dataType: NiftiDataType? = nil) {
        self.applyVOI = applyVOI
        self.dataType = dataType
    }
}

/// Reads a planned series into a `Volume`: decodes every file (in parallel), applies the modality LUT per
/// slice (and the VOI LUT on request), and places each slice where the plan says.
public enum VolumeBuilder {
    public static func build(_ plan: SeriesPlan, values: ValueOptions = ValueOptions(), threads: Int = Parallel.cores) throws(DicomPrepError) -> Volume {
        let g = plan.geometry
        let nx = g.columns, ny = g.rows, nz = g.slices, nt = g.timepoints
        let sliceSize = nx * ny
        let total = sliceSize * nz * nt
        // Where each (instance, frame) goes.
        var destinations: [[(frame: Int, slot: Int)]] = Array(repeating: [], count: plan.instances.count)
        for (t, vol) in plan.volumes.enumerated() {
            for (k, ref) in vol.enumerated() { destinations[ref.instance].append((ref.frame, t * nz + k)) }
        }
        for inst in plan.instances { try PixelDecoder.check(inst) }
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: total)
        defer { out.deallocate() }
        out.initialize(repeating: 0)
        let dest = SendableFloatBuffer(out)
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        let stats = UnsafeSendableBox((integral: true, min: Double.infinity, max: -Double.infinity))
        let destinationsCopy = destinations
        Parallel.forEach(count: plan.instances.count, threads: threads) { i in
            if failure.withLock({ $0 != nil }) { return }
            let inst = plan.instances[i]
            do throws(DicomPrepError) {
                let stored = try PixelDecoder.storedValues(inst)
                var integral = true, lo = Double.infinity, hi = -Double.infinity
                for (frame, slot) in destinationsCopy[i] {
                    let f = inst.frames[frame]
                    let mapper = ValueMapper(instance: inst, frame: f, applyVOI: values.applyVOI)
                    let base = frame * sliceSize, o = slot * sliceSize
                    for j in 0..<sliceSize {
                        let v = mapper.map(stored[base + j])
                        if integral && v != v.rounded() { integral = false }
                        if v < lo { lo = v }
                        if v > hi { hi = v }
                        dest.buffer[o + j] = Float(v)
                    }
                }
                stats.withLock { s in
                    s.integral = s.integral && integral
                    s.min = Swift.min(s.min, lo)
                    s.max = Swift.max(s.max, hi)
                }
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
        }
        if let e = failure.take() { throw e }
        let s = stats.take()
        let type = values.dataType ?? ((s.integral && s.min >= -32768 && s.max <= 32767) ? .int16 : .float32)
        let voxels = convert(out, to: type)
        var meta = VolumeMetadata()
        meta.seriesLabel = plan.label
        meta.photometric = plan.first.photometric
        meta.valueMapping = values.applyVOI ? "modality LUT + VOI LUT (\(plan.first.voiLUT != nil ? "VOI LUT Sequence" : plan.first.voiFunction))" : "modality LUT"
        meta.warnings = plan.warnings
        meta.sourceFiles = plan.usedPaths
        meta.geometry = g
        let f0 = plan.frame(plan.volumes[0][0])
        meta.windowCenter = f0.windowCenter
        meta.windowWidth = f0.windowWidth
        return Volume(dims: [nx, ny, nz, nt], voxels: voxels, affine: g.affine, metadata: meta)
    }

    static func convert(_ v: UnsafeMutableBufferPointer<Float>, to type: NiftiDataType) -> VoxelData {
        func clamp<T: FixedWidthInteger>(_ x: Float, _: T.Type) -> T {
            let r = x.rounded()
            if r <= Float(T.min) { return T.min }
            if r >= Float(T.max) { return T.max }
            return T(r)
        }
        switch type {
        case .float32: return .float32(Array(v))
        case .float64: return .float64(v.map(Double.init))
        case .int16: return .int16(v.map { clamp($0, Int16.self) })
        case .uint16: return .uint16(v.map { clamp($0, UInt16.self) })
        case .int32: return .int32(v.map { clamp($0, Int32.self) })
        case .uint8: return .uint8(v.map { clamp($0, UInt8.self) })
        }
    }
}

/// A Float buffer written from several threads at disjoint indices.
struct SendableFloatBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Float>
    init(_ b: UnsafeMutableBufferPointer<Float>) { buffer = b }
}

/// Maps one frame's stored values to output values: modality LUT (rescale or LUT sequence), then
/// optionally the VOI LUT, with pydicom's apply_modality_lut / apply_voi_lut semantics.
public struct ValueMapper {
    let slope: Double, intercept: Double
    let modalityLUT: LookupTable?
    let voi: VOI?

    enum VOI {
        case lut(LookupTable)
        case linear(center: Double, width: Double, yMin: Double, yMax: Double)
        case linearExact(center: Double, width: Double, yMin: Double, yMax: Double)
        case sigmoid(center: Double, width: Double, yMin: Double, yMax: Double)
    }

    public init(instance inst: DicomInstance, frame f: FrameInfo, applyVOI: Bool) {
        slope = f.rescaleSlope
        intercept = f.rescaleIntercept
        modalityLUT = inst.modalityLUT
        guard applyVOI else { voi = nil; return }
        if let lut = inst.voiLUT {
            voi = .lut(lut)
            return
        }
        guard let c = f.windowCenter, let w = f.windowWidth else { voi = nil; return }
        // Output range as pydicom: the stored range (or the modality LUT's) through the rescale.
        var yMin: Double, yMax: Double
        if let m = inst.modalityLUT {
            yMin = 0
            yMax = Double((1 << m.bits) - 1)
        } else {
            let r = inst.storedRange
            yMin = Double(r.lowerBound) * f.rescaleSlope + f.rescaleIntercept
            yMax = Double(r.upperBound) * f.rescaleSlope + f.rescaleIntercept
        }
        switch inst.voiFunction {
        case "SIGMOID": voi = w > 0 ? .sigmoid(center: c, width: w, yMin: yMin, yMax: yMax) : nil
        case "LINEAR_EXACT": voi = w > 0 ? .linearExact(center: c, width: w, yMin: yMin, yMax: yMax) : nil
        default: voi = w >= 1 ? .linear(center: c, width: w, yMin: yMin, yMax: yMax) : nil
        }
    }

    @inline(__always)
    public func map(_ stored: Int32) -> Double {
        var v: Double
        if let m = modalityLUT {
            let i = min(max(Int(stored) - m.firstMapped, 0), m.data.count - 1)
            v = Double(m.data[i])
        } else {
            v = Double(stored) * slope + intercept
        }
        guard let voi else { return v }
        switch voi {
        case let .lut(l):
            let i = min(max(Int(v.rounded(.down)) - l.firstMapped, 0), l.data.count - 1)
            v = Double(l.data[i])
        case let .linear(c0, w0, lo, hi):
            let c = c0 - 0.5, w = w0 - 1
            if v <= c - w / 2 { v = lo } else if v > c + w / 2 { v = hi } else { v = ((v - c) / w + 0.5) * (hi - lo) + lo }
        case let .linearExact(c, w, lo, hi):
            if v <= c - w / 2 { v = lo } else if v > c + w / 2 { v = hi } else { v = ((v - c) / w + 0.5) * (hi - lo) + lo }
        case let .sigmoid(c, w, lo, hi):
            v = (hi - lo) / (1 + _exp(-4 * (v - c) / w)) + lo
        }
        return v
    }
}

@inline(__always) func _exp(_ x: Double) -> Double {
    #if canImport(Glibc)
    return Glibc.exp(x)
    #else
    return Foundation.exp(x)
    #endif
}
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

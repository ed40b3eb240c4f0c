import DicomPrepCore
import Foundation

/// How stored values become output values.
public struct ValueOptions: Sendable {
    /// Apply the VOI LUT / window (as pydicom's apply_voi_lut) after the modality LUT.
    public var applyVOI = false
    /// Output type; nil chooses int16 when every value is an integer in range, float32 otherwise.
    public var dataType: NiftiDataType?
    /// Philips: write the display values (RescaleSlope/Intercept only) instead of the precise values that
    /// also undo the private scale slope (2005,100E), which the reference converter writes by default.
    public var philipsDisplayValues = false
    public init(applyVOI: Bool = false, dataType: NiftiDataType? = nil, philipsDisplayValues: Bool = false) {
        self.applyVOI = applyVOI
        self.dataType = dataType
        self.philipsDisplayValues = philipsDisplayValues
    }
}

/// Reads a planned series into a `Volume`: decodes every file (in parallel), applies the modality LUT per
/// slice (and the VOI LUT on request), and places each slice where the plan says.
///
/// When every slice's rescale is integral (slope and intercept whole numbers, no LUT, no VOI), values are
/// computed in integer arithmetic straight into the output type: int16 when the declared stored range
/// provably fits, otherwise int32 narrowed afterwards. Otherwise values go through Float and are
/// narrowed to int16 only when every one is an integer in range.
public enum VolumeBuilder {
    /// `decoded` lets a second build of the same plan (e.g. with the VOI LUT) reuse the first one's decoding.
    public static func build(_ original: SeriesPlan, values: ValueOptions = ValueOptions(), threads: Int = Parallel.cores,
                             decoded: DecodedPixels? = nil) throws(DicomPrepError) -> Volume {
        let precise = !values.philipsDisplayValues && original.usesPhilipsScale
        let plan = precise ? original.withPhilipsPreciseScaling() : original
        let g = plan.geometry
        let nx = g.columns, ny = g.rows, nz = g.slices, nt = g.timepoints
        let sliceSize = nx * ny
        let total = sliceSize * nz * nt
        var destinations: [[(frame: Int, slot: Int)]] = Array(repeating: [], count: plan.instances.count)
        for (t, vol) in plan.volumes.enumerated() {
            for (k, ref) in vol.enumerated() { destinations[ref.instance].append((ref.frame, t * nz + k)) }
        }
        for inst in plan.instances { try PixelDecoder.check(inst) }

        // Integer path when every used frame maps stored -> real by whole numbers.
        var integral = !values.applyVOI
        var lo = Int64.max, hi = Int64.min
        for (i, inst) in plan.instances.enumerated() where integral {
            if inst.modalityLUT != nil { integral = false; break }
            for (frame, _) in destinations[i] {
                let f = inst.frames[frame]
                guard f.rescaleSlope == f.rescaleSlope.rounded(), f.rescaleIntercept == f.rescaleIntercept.rounded(),
                      abs(f.rescaleSlope) < 65536, abs(f.rescaleIntercept) < 1e9 else { integral = false; break }
                let r = inst.storedRange, s = Int64(f.rescaleSlope), b = Int64(f.rescaleIntercept)
                let a1 = r.lowerBound * s + b, a2 = r.upperBound * s + b
                lo = min(lo, min(a1, a2))
                hi = max(hi, max(a1, a2))
            }
        }
        let plans = destinations
        var voxels: VoxelData
        if integral && lo >= Int64(Int16.min) && hi <= Int64(Int16.max) {
            var out = [Int16](repeating: 0, count: total)
            try out.withUnsafeMutableBufferPointer { (buf) throws(DicomPrepError) in
                let dest = SendableBuffer(buf)
                _ = try decodeAll(plan, plans, threads: threads, decoded: decoded) { inst, stored, frame, slot in
                    let f = inst.frames[frame]
                    let s = Int32(f.rescaleSlope), b = Int32(f.rescaleIntercept)
                    let base = frame * sliceSize, o = slot * sliceSize
                    stored.withUnsafeBufferPointer { src in
                        if s == 1 && b == 0 {
                            for j in 0..<sliceSize { dest.buffer[o + j] = Int16(truncatingIfNeeded: src[base + j]) }
                        } else {
                            for j in 0..<sliceSize { dest.buffer[o + j] = Int16(truncatingIfNeeded: src[base + j] &* s &+ b) }
                        }
                    }
                    return (true, 0, 0)
                }
            }
            voxels = retype(.int16(out), values.dataType)
        } else if integral {
            var out = [Int32](repeating: 0, count: total)
            var range = (min: Int64.max, max: Int64.min)
            try out.withUnsafeMutableBufferPointer { (buf) throws(DicomPrepError) in
                let dest = SendableBuffer(buf)
                let stats = try decodeAll(plan, plans, threads: threads, decoded: decoded) { inst, stored, frame, slot in
                    let f = inst.frames[frame]
                    let s = Int64(f.rescaleSlope), b = Int64(f.rescaleIntercept)
                    let base = frame * sliceSize, o = slot * sliceSize
                    var mn = Int64.max, mx = Int64.min
                    for j in 0..<sliceSize {
                        let v = min(max(Int64(stored[base + j]) * s + b, Int64(Int32.min)), Int64(Int32.max))
                        mn = min(mn, v)
                        mx = max(mx, v)
                        dest.buffer[o + j] = Int32(v)
                    }
                    return (true, Double(mn), Double(mx))
                }
                range = (Int64(stats.min), Int64(stats.max))
            }
            if values.dataType == nil && range.min >= Int64(Int16.min) && range.max <= Int64(Int16.max) {
                voxels = .int16(out.map { Int16(truncatingIfNeeded: $0) })
            } else if values.dataType == nil {
                voxels = .float32(out.map { Float($0) })
            } else {
                voxels = retype(.int32(out), values.dataType)
            }
        } else {
            var out = [Float](repeating: 0, count: total)
            var allIntegral = true, mn = 0.0, mx = 0.0
            try out.withUnsafeMutableBufferPointer { (buf) throws(DicomPrepError) in
                let dest = SendableBuffer(buf)
                let stats = try decodeAll(plan, plans, threads: threads, decoded: decoded) { inst, stored, frame, slot in
                    let mapper = ValueMapper(instance: inst, frame: inst.frames[frame], applyVOI: values.applyVOI)
                    let base = frame * sliceSize, o = slot * sliceSize
                    var whole = true, lo = Double.infinity, hi = -Double.infinity
                    for j in 0..<sliceSize {
                        let v = mapper.map(stored[base + j])
                        if whole && !(abs(v) < 1e15 && Double(Int64(v)) == v) { whole = false }
                        lo = min(lo, v)
                        hi = max(hi, v)
                        dest.buffer[o + j] = Float(v)
                    }
                    return (whole, lo, hi)
                }
                (allIntegral, mn, mx) = (stats.integral, stats.min, stats.max)
            }
            if values.dataType == nil && allIntegral && mn >= -32768 && mx <= 32767 {
                voxels = .int16(out.map { Int16(Int32($0)) })
            } else {
                voxels = retype(.float32(out), values.dataType)
            }
        }

        if plan.mirroredAlongPhaseEncoding {
            // Phase encoded along a column (COL) runs across rows: mirror the row index, otherwise the column index.
            let acrossRows = plan.first.acquisition.phaseEncodingAxis == "COL"
            voxels = voxels.permuted(count: total) { idx in
                let x = idx % nx, y = (idx / nx) % ny, rest = idx / sliceSize
                return rest * sliceSize + (acrossRows ? (ny - 1 - y) * nx + x : y * nx + (nx - 1 - x))
            }
        }
        var meta = VolumeMetadata()
        meta.photometric = plan.first.photometric
        meta.valueMapping = (precise ? "modality LUT, Philips precise values ((stored x RescaleSlope + RescaleIntercept) / (RescaleSlope x ScaleSlope 2005,100E))" : "modality LUT")
            + (values.applyVOI ? " + VOI LUT (\(plan.first.voiLUT != nil ? "VOI LUT Sequence" : plan.first.voiFunction))" : "")
        let f0 = plan.frame(plan.volumes[0][0])
        meta.windowCenter = f0.windowCenter
        meta.windowWidth = f0.windowWidth
        return Volume(dims: [nx, ny, nz, nt], voxels: voxels, affine: g.affine, metadata: meta)
    }

    /// Decodes every instance once (in parallel) and hands each used frame to `place`, which returns
    /// (all values integral, min, max) of what it wrote; the combined statistics are returned.
    static func decodeAll(_ plan: SeriesPlan, _ destinations: [[(frame: Int, slot: Int)]], threads: Int, decoded: DecodedPixels?,
                          _ place: @escaping @Sendable (DicomInstance, [Int32], Int, Int) -> (Bool, Double, Double)) throws(DicomPrepError) -> (integral: Bool, min: Double, max: Double) {
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        let stats = UnsafeSendableBox((integral: true, min: Double.infinity, max: -Double.infinity))
        let dests = SendableValue(destinations)
        Parallel.forEach(count: plan.instances.count, threads: threads) { i in
            if failure.withLock({ $0 != nil }) { return }
            let inst = plan.instances[i]
            do throws(DicomPrepError) {
                let stored: [Int32]
                if let d = decoded?.values(inst.path) {
                    stored = d
                } else {
                    stored = try PixelDecoder.storedValues(inst)
                    decoded?.keep(inst.path, stored)
                }
                var whole = true, lo = Double.infinity, hi = -Double.infinity
                for (frame, slot) in dests.value[i] {
                    let r = place(inst, stored, frame, slot)
                    whole = whole && r.0
                    lo = min(lo, r.1)
                    hi = max(hi, r.2)
                }
                stats.withLock { s in
                    s.integral = s.integral && whole
                    s.min = Swift.min(s.min, lo)
                    s.max = Swift.max(s.max, hi)
                }
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
        }
        if let e = failure.take() { throw e }
        return stats.take()
    }

    /// Converts voxels to the requested type (nil keeps them), rounding and clamping integers.
    static func retype(_ v: VoxelData, _ type: NiftiDataType?) -> VoxelData {
        guard let type, type != v.dataType else { return v }
        func clamp<T: FixedWidthInteger>(_ x: Double, _: T.Type) -> T {
            let r = x.rounded()
            if r <= Double(T.min) { return T.min }
            if r >= Double(T.max) { return T.max }
            return T(r)
        }
        let d = v.doubles
        switch type {
        case .float32: return .float32(d.map(Float.init))
        case .float64: return .float64(d)
        case .int16: return .int16(d.map { clamp($0, Int16.self) })
        case .uint16: return .uint16(d.map { clamp($0, UInt16.self) })
        case .int32: return .int32(d.map { clamp($0, Int32.self) })
        case .uint8: return .uint8(d.map { clamp($0, UInt8.self) })
        }
    }
}

/// Stored values of decoded files, kept for a second build of the same series.
public final class DecodedPixels: @unchecked Sendable {
    private var byPath: [String: [Int32]] = [:]
    private let lock = NSLock()
    public init() {}
    func values(_ path: String) -> [Int32]? { lock.withLock { byPath[path] } }
    func keep(_ path: String, _ v: [Int32]) { lock.withLock { byPath[path] = v } }
}

/// A buffer written from several threads at disjoint indices.
struct SendableBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    init(_ b: UnsafeMutableBufferPointer<T>) { buffer = b }
}

/// A value the caller promises not to mutate while threads read it.
struct SendableValue<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
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

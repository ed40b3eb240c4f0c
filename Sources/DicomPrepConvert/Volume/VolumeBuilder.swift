import DicomPrepCore
import Foundation

/// How stored values become output values.
public struct ValueOptions: Sendable {
    /// Output type; nil chooses int16 when every value is an integer in range, float32 otherwise.
    public var dataType: NiftiDataType?
    /// Philips: write the display values (RescaleSlope/Intercept only) instead of the precise values that
    /// also undo the private scale slope (2005,100E), which the reference converter writes by default.
    public var philipsDisplayValues = false
    public init(dataType: NiftiDataType? = nil, philipsDisplayValues: Bool = false) {
        self.dataType = dataType
        self.philipsDisplayValues = philipsDisplayValues
    }
}

/// Reads a planned series into a `Volume`: decodes every file (in parallel), applies the modality LUT per
/// slice, and places each slice where the plan says. Each slice's VOI LUT / window is recorded in the
/// metadata for the `VOIWindow` transform.
///
/// When every slice's rescale is integral (slope and intercept whole numbers, no LUT), values are
/// computed in integer arithmetic straight into the output type: int16 when the declared stored range
/// provably fits, otherwise int32 narrowed afterwards. Otherwise values go through Float and are
/// narrowed to int16 only when every one is an integer in range.
public enum VolumeBuilder {
    public static func build(_ original: SeriesPlan, values: ValueOptions = ValueOptions(), threads: Int = Parallel.cores) throws(DicomPrepError) -> Volume {
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
        var integral = true
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
                _ = try decodeAll(plan, plans, threads: threads) { inst, src, frame, slot in
                    let f = inst.frames[frame]
                    let s = Int32(f.rescaleSlope), b = Int32(f.rescaleIntercept)
                    let o = slot * sliceSize
                    if s == 1 && b == 0 {
                        for j in 0..<sliceSize { dest.buffer[o + j] = Int16(truncatingIfNeeded: src[j]) }
                    } else {
                        for j in 0..<sliceSize { dest.buffer[o + j] = Int16(truncatingIfNeeded: src[j] &* s &+ b) }
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
                let stats = try decodeAll(plan, plans, threads: threads) { inst, src, frame, slot in
                    let f = inst.frames[frame]
                    let s = Int64(f.rescaleSlope), b = Int64(f.rescaleIntercept)
                    let o = slot * sliceSize
                    var mn = Int64.max, mx = Int64.min
                    for j in 0..<sliceSize {
                        let v = min(max(Int64(src[j]) * s + b, Int64(Int32.min)), Int64(Int32.max))
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
                let stats = try decodeAll(plan, plans, threads: threads) { inst, src, frame, slot in
                    let mapper = ValueMapper(instance: inst, frame: inst.frames[frame])
                    let o = slot * sliceSize
                    var whole = true, lo = Double.infinity, hi = -Double.infinity
                    for j in 0..<sliceSize {
                        let v = mapper.map(src[j])
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
            voxels = voxels.mirroredInPlane(nx: nx, ny: ny, acrossRows: acrossRows)
        }
        var meta = VolumeMetadata()
        meta.photometric = plan.first.photometric
        meta.modality = plan.first.modality
        meta.valueMapping = precise ? "modality LUT, Philips precise values ((stored x RescaleSlope + RescaleIntercept) / (RescaleSlope x ScaleSlope 2005,100E))" : "modality LUT"
        let vois = plan.volumes.flatMap { $0.map { SliceVOI(instance: plan.instances[$0.instance], frame: plan.frame($0)) } }
        meta.voi = vois.contains { $0 != nil } ? vois : nil
        let f0 = plan.frame(plan.volumes[0][0])
        meta.windowCenter = f0.windowCenter
        meta.windowWidth = f0.windowWidth
        return Volume(dims: [nx, ny, nz, nt], voxels: voxels, affine: g.affine, metadata: meta)
    }

    /// Decodes every instance once (in parallel) and hands each used frame's stored values to `place`, which returns
    /// (all values integral, min, max) of what it wrote; the combined statistics are returned.
    static func decodeAll(_ plan: SeriesPlan, _ destinations: [[(frame: Int, slot: Int)]], threads: Int,
                          _ place: @escaping @Sendable (DicomInstance, UnsafeBufferPointer<Int32>, Int, Int) -> (Bool, Double, Double)) throws(DicomPrepError) -> (integral: Bool, min: Double, max: Double) {
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        let stats = UnsafeSendableBox((integral: true, min: Double.infinity, max: -Double.infinity))
        let dests = SendableValue(destinations)
        Parallel.forEach(count: plan.instances.count, threads: threads) { i in
            if failure.withLock({ $0 != nil }) { return }
            let inst = plan.instances[i]
            do throws(DicomPrepError) {
                var whole = true, lo = Double.infinity, hi = -Double.infinity
                let wanted = dests.value[i]
                var k = 0
                try PixelDecoder.forEachFrame(inst, wanted.map(\.frame)) { frame, values in
                    let r = place(inst, values, frame, wanted[k].slot)
                    k += 1
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
        type.map { v.converted(to: $0) } ?? v
    }
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

/// Maps one frame's stored values to real-world values: the modality LUT (rescale or LUT sequence), with
/// pydicom's apply_modality_lut semantics.
public struct ValueMapper {
    let slope: Double, intercept: Double
    let modalityLUT: LookupTable?

    public init(instance inst: DicomInstance, frame f: FrameInfo) {
        slope = f.rescaleSlope
        intercept = f.rescaleIntercept
        modalityLUT = inst.modalityLUT
    }

    @inline(__always)
    public func map(_ stored: Int32) -> Double {
        if let m = modalityLUT {
            let i = min(max(Int(stored) - m.firstMapped, 0), m.data.count - 1)
            return Double(m.data[i])
        }
        return Double(stored) * slope + intercept
    }
}

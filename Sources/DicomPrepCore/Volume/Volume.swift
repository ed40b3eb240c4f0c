/// Voxel values in one of the NIfTI types dicomprep writes, x (column) fastest, then y (row), z (slice), t.
public enum VoxelData: Sendable, Equatable {
    case uint8([UInt8]), int16([Int16]), uint16([UInt16]), int32([Int32]), float32([Float]), float64([Double])

    public var dataType: NiftiDataType {
        switch self {
        case .uint8: return .uint8
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .float32: return .float32
        case .float64: return .float64
        }
    }

    public var count: Int {
        switch self {
        case let .uint8(v): return v.count
        case let .int16(v): return v.count
        case let .uint16(v): return v.count
        case let .int32(v): return v.count
        case let .float32(v): return v.count
        case let .float64(v): return v.count
        }
    }

    /// Every value as Float (for transforms and model inputs).
    public var floats: [Float] {
        switch self {
        case let .uint8(v): return v.map(Float.init)
        case let .int16(v): return v.map(Float.init)
        case let .uint16(v): return v.map(Float.init)
        case let .int32(v): return v.map(Float.init)
        case let .float32(v): return v
        case let .float64(v): return v.map(Float.init)
        }
    }

    /// Every value as Double.
    public var doubles: [Double] {
        switch self {
        case let .uint8(v): return v.map(Double.init)
        case let .int16(v): return v.map(Double.init)
        case let .uint16(v): return v.map(Double.init)
        case let .int32(v): return v.map(Double.init)
        case let .float32(v): return v.map(Double.init)
        case let .float64(v): return v
        }
    }

    /// Calls `body` with the little-endian bytes of the values (x86_64 and arm64 are little-endian).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case let .uint8(v): return try v.withUnsafeBytes(body)
        case let .int16(v): return try v.withUnsafeBytes(body)
        case let .uint16(v): return try v.withUnsafeBytes(body)
        case let .int32(v): return try v.withUnsafeBytes(body)
        case let .float32(v): return try v.withUnsafeBytes(body)
        case let .float64(v): return try v.withUnsafeBytes(body)
        }
    }

    /// The values in another NIfTI type, integers rounded and clamped to the type's range.
    public func converted(to type: NiftiDataType) -> VoxelData {
        guard type != dataType else { return self }
        func clamp<T: FixedWidthInteger>(_ x: Double, _: T.Type) -> T {
            let r = x.rounded()
            if r <= Double(T.min) { return T.min }
            if r >= Double(T.max) { return T.max }
            return T(r)
        }
        let d = doubles
        switch type {
        case .float32: return .float32(d.map(Float.init))
        case .float64: return .float64(d)
        case .int16: return .int16(d.map { clamp($0, Int16.self) })
        case .uint16: return .uint16(d.map { clamp($0, UInt16.self) })
        case .int32: return .int32(d.map { clamp($0, Int32.self) })
        case .uint8: return .uint8(d.map { clamp($0, UInt8.self) })
        }
    }

    /// The same values rearranged: element i of the result is element `source(i)` of this one.
    /// Each slice mirrored in-plane: rows reversed (`acrossRows`, y -> ny-1-y) or columns (x -> nx-1-x);
    /// the values are copied row by row, not looked up voxel by voxel.
    public func mirroredInPlane(nx: Int, ny: Int, acrossRows: Bool) -> VoxelData {
        func m<T>(_ v: [T]) -> [T] {
            var out = v
            let slices = v.count / max(1, nx * ny)
            out.withUnsafeMutableBufferPointer { o in
                v.withUnsafeBufferPointer { s in
                    for z in 0..<slices {
                        let base = z * nx * ny
                        for y in 0..<ny {
                            let dst = base + y * nx
                            if acrossRows {
                                let src = base + (ny - 1 - y) * nx
                                for x in 0..<nx { o[dst + x] = s[src + x] }
                            } else {
                                for x in 0..<nx { o[dst + x] = s[dst + nx - 1 - x] }
                            }
                        }
                    }
                }
            }
            return out
        }
        switch self {
        case let .uint8(v): return .uint8(m(v))
        case let .int16(v): return .int16(m(v))
        case let .uint16(v): return .uint16(m(v))
        case let .int32(v): return .int32(m(v))
        case let .float32(v): return .float32(m(v))
        case let .float64(v): return .float64(m(v))
        }
    }

    public func permuted(count n: Int, _ source: (Int) -> Int) -> VoxelData {
        func p<T>(_ v: [T]) -> [T] { (0..<n).map { v[source($0)] } }
        switch self {
        case let .uint8(v): return .uint8(p(v))
        case let .int16(v): return .int16(p(v))
        case let .uint16(v): return .uint16(p(v))
        case let .int32(v): return .int32(p(v))
        case let .float32(v): return .float32(p(v))
        case let .float64(v): return .float64(p(v))
        }
    }
}

/// Descriptive, non-identifying facts about where a volume came from, carried to the sidecar.
public struct VolumeMetadata: Sendable {
    public var photometric: String = "MONOCHROME2"
    public var valueMapping: String = "modality LUT"
    /// The DICOM Modality (CT, MR, ...) when the volume was built from DICOM.
    public var modality: String?
    /// The first slice's window (for VOI and viewers).
    public var windowCenter: Double?
    public var windowWidth: Double?
    /// Each slice's VOI LUT / window (slot t × slices + k), for `VOIWindow`; dropped by transforms that reorder slices.
    public var voi: [SliceVOI?]?
    /// The slice window chosen for a model input, when one was.
    public var sliceWindow: SliceWindowInfo?
    public init() {}
}

/// Which slices a model input holds: the largest-foreground slice, the chosen range and the padding.
public struct SliceWindowInfo: Sendable, Codable, Equatable {
    /// Index (in the series, after any reorientation) of the slice with the largest foreground area.
    public var center: Int
    /// First and one-past-last source slice taken.
    public var start: Int
    public var end: Int
    /// Zero slices added before and after when the series is shorter than the window.
    public var padBefore: Int
    public var padAfter: Int
    /// Foreground bounding-box area (pixels) of the centre slice.
    public var centerArea: Int
    /// The threshold (Otsu) that separated foreground from background.
    public var threshold: Double
}

/// An image: voxels, the voxel -> RAS millimetre affine, and metadata. Everything else derives from these.
public struct Volume: Sendable {
    /// nx (columns), ny (rows), nz (slices), nt (time points).
    public var dims: [Int]
    public var voxels: VoxelData
    public var affine: Matrix4
    public var metadata: VolumeMetadata

    public init(dims: [Int], voxels: VoxelData, affine: Matrix4, metadata: VolumeMetadata = VolumeMetadata()) {
        precondition(dims.count == 4 && dims.reduce(1, *) == voxels.count, "dims do not match the voxel count")
        self.dims = dims
        self.voxels = voxels
        self.affine = affine
        self.metadata = metadata
    }

    /// The same volume with Float voxels.
    public var asFloat: Volume {
        if case .float32 = voxels { return self }
        var v = self
        v.voxels = .float32(voxels.floats)
        return v
    }

    /// Float voxels (converting when needed).
    public var floatValues: [Float] {
        if case let .float32(f) = voxels { return f }
        return voxels.floats
    }

    /// Voxel size along each voxel axis (mm), from the affine.
    public var spacing: [Double] { (0..<3).map { affine.column($0).length } }
    public var voxelsPerVolume: Int { dims[0] * dims[1] * dims[2] }
}

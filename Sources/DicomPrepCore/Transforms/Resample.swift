import Foundation

/// A voxel grid in the world: size and voxel -> RAS millimetre affine.
public struct VoxelGrid: Sendable, Equatable, Codable {
    /// nx, ny, nz.
    public var dims: [Int]
    public var affine: Matrix4

    public init(dims: [Int], affine: Matrix4) {
        self.dims = Array(dims.prefix(3))
        self.affine = affine
    }

    /// The grid of a volume (its first three axes).
    public init(of v: Volume) { self.init(dims: Array(v.dims.prefix(3)), affine: v.affine) }

    /// An axis-aligned RAS grid with the given spacing (mm) covering every voxel of `grid` (its corners,
    /// half a voxel beyond the outer voxel centres): what Orientation(RAS) + Spacing give for a straight
    /// acquisition, and a bounding grid for an oblique one.
    public static func canonical(covering grid: VoxelGrid, spacing: [Double]) -> VoxelGrid {
        var lo = [Double.infinity, .infinity, .infinity], hi = [-Double.infinity, -.infinity, -.infinity]
        for c in 0..<8 {
            let idx = Vector3(c & 1 == 0 ? -0.5 : Double(grid.dims[0]) - 0.5, c & 2 == 0 ? -0.5 : Double(grid.dims[1]) - 0.5,
                              c & 4 == 0 ? -0.5 : Double(grid.dims[2]) - 0.5)
            let w = grid.affine.apply(idx)
            for a in 0..<3 { lo[a] = min(lo[a], w[a]); hi[a] = max(hi[a], w[a]) }
        }
        var dims = [0, 0, 0]
        var origin = [0.0, 0.0, 0.0]
        for a in 0..<3 {
            let extent = hi[a] - lo[a]
            dims[a] = max(1, Int((extent / spacing[a] - 1e-6).rounded(.up)))
            // Centre the new grid on the old extent.
            let centre = (lo[a] + hi[a]) / 2
            origin[a] = centre - Double(dims[a] - 1) / 2 * spacing[a]
        }
        let affine = Matrix4(columns: Vector3(spacing[0], 0, 0), Vector3(0, spacing[1], 0), Vector3(0, 0, spacing[2]),
                             origin: Vector3(origin[0], origin[1], origin[2]))
        return VoxelGrid(dims: dims, affine: affine)
    }

    public var count: Int { dims[0] * dims[1] * dims[2] }
    public var spacing: [Double] { (0..<3).map { affine.column($0).length } }
}

/// Resamples a volume (each time point) onto another grid in world space: trilinear for images, nearest
/// neighbour for label maps; points outside the source get `fill`. The output carries the target affine,
/// so every voxel keeps its world position (as ITK's ResampleImageFilter, MONAI's SpatialResample).
public struct ResampleToGrid: VolumeTransform {
    public enum Interpolation: String, Sendable, Codable { case linear, nearest }
    public let grid: VoxelGrid
    public let interpolation: Interpolation
    public let fill: Float
    public var threads = Parallel.cores

    public init(_ grid: VoxelGrid, interpolation: Interpolation = .linear, fill: Float = 0) {
        self.grid = grid
        self.interpolation = interpolation
        self.fill = fill
    }

    public var name: String { "resample(\(grid.dims.map(String.init).joined(separator: "x")), \(interpolation.rawValue))" }

    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        guard let inv = v.affine.inverse else { throw .usage("the volume's affine cannot be inverted") }
        // source index = inv * target affine * target index
        let m = inv * grid.affine
        let src = v.floatValues
        let per = v.voxelsPerVolume, nt = v.dims[3]
        var out = [Float](repeating: fill, count: grid.count * nt)
        for t in 0..<nt {
            let part = Self.resample(src, offset: t * per, dims: Array(v.dims.prefix(3)), map: m, to: grid.dims, interpolation: interpolation,
                                     fill: fill, threads: threads)
            out.replaceSubrange((t * grid.count)..<((t + 1) * grid.count), with: part)
        }
        var meta = v.metadata
        meta.voi = nil
        meta.sliceWindow = nil
        return Volume(dims: grid.dims + [nt], voxels: .float32(out), affine: grid.affine, metadata: meta)
    }

    /// Resamples one 3D array (x fastest) through `map` (target index -> source index).
    public static func resample(_ src: [Float], offset: Int = 0, dims n: [Int], map m: Matrix4, to d: [Int], interpolation: Interpolation,
                                fill: Float, threads: Int = Parallel.cores) -> [Float] {
        let result = UnsafeMutableBufferPointer<Float>.allocate(capacity: d[0] * d[1] * d[2])
        result.initialize(repeating: fill)
        let dst = SendableBuffer(result)
        let nx = n[0], ny = n[1], nz = n[2]
        let sx = 1, sy = nx, sz = nx * ny
        src.withUnsafeBufferPointer { sp in
            let s = SendableConstBuffer(sp)
            Parallel.forEach(count: d[2], threads: threads) { k in
                let p = s.buffer
                for j in 0..<d[1] {
                    // Source index of (0, j, k) and its step along i.
                    let bx = m[0, 1] * Double(j) + m[0, 2] * Double(k) + m[0, 3]
                    let by = m[1, 1] * Double(j) + m[1, 2] * Double(k) + m[1, 3]
                    let bz = m[2, 1] * Double(j) + m[2, 2] * Double(k) + m[2, 3]
                    let row = (k * d[1] + j) * d[0]
                    for i in 0..<d[0] {
                        let x = bx + m[0, 0] * Double(i), y = by + m[1, 0] * Double(i), z = bz + m[2, 0] * Double(i)
                        if interpolation == .nearest {
                            let xi = Int((x + 0.5).rounded(.down)), yi = Int((y + 0.5).rounded(.down)), zi = Int((z + 0.5).rounded(.down))
                            if xi >= 0 && yi >= 0 && zi >= 0 && xi < nx && yi < ny && zi < nz {
                                dst.buffer[row + i] = p[offset + xi + yi * sy + zi * sz]
                            }
                            continue
                        }
                        // Trilinear; within half a voxel outside the outer centres the edge value is used.
                        guard x > -0.5, y > -0.5, z > -0.5, x < Double(nx) - 0.5, y < Double(ny) - 0.5, z < Double(nz) - 0.5 else { continue }
                        let cx = min(max(x, 0), Double(nx - 1)), cy = min(max(y, 0), Double(ny - 1)), cz = min(max(z, 0), Double(nz - 1))
                        let x0 = min(Int(cx), max(nx - 2, 0)), y0 = min(Int(cy), max(ny - 2, 0)), z0 = min(Int(cz), max(nz - 2, 0))
                        let fx = Float(cx - Double(x0)), fy = Float(cy - Double(y0)), fz = Float(cz - Double(z0))
                        let dx = nx > 1 ? sx : 0, dy = ny > 1 ? sy : 0, dz = nz > 1 ? sz : 0
                        let b = offset + x0 + y0 * sy + z0 * sz
                        let c00 = p[b] + (p[b + dx] - p[b]) * fx
                        let c10 = p[b + dy] + (p[b + dy + dx] - p[b + dy]) * fx
                        let c01 = p[b + dz] + (p[b + dz + dx] - p[b + dz]) * fx
                        let c11 = p[b + dz + dy] + (p[b + dz + dy + dx] - p[b + dz + dy]) * fx
                        let c0 = c00 + (c10 - c00) * fy, c1 = c01 + (c11 - c01) * fy
                        dst.buffer[row + i] = c0 + (c1 - c0) * fz
                    }
                }
            }
        }
        let r = Array(result)
        result.deallocate()
        return r
    }
}

/// A mutable buffer handed to parallel workers that write disjoint parts.
public struct SendableBuffer<T>: @unchecked Sendable {
    public let buffer: UnsafeMutableBufferPointer<T>
    public init(_ b: UnsafeMutableBufferPointer<T>) { buffer = b }
}

/// A read-only buffer handed to parallel workers.
public struct SendableConstBuffer<T>: @unchecked Sendable {
    public let buffer: UnsafeBufferPointer<T>
    public init(_ b: UnsafeBufferPointer<T>) { buffer = b }
}

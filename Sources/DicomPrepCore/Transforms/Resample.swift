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
    public enum Interpolation: String, Sendable, Codable, CaseIterable { case linear, nearest, bspline }
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
            let part = interpolation == .bspline
                ? BSpline.resample(Array(src[(t * per)..<((t + 1) * per)]), dims: Array(v.dims.prefix(3)), map: m, to: grid.dims, fill: fill, threads: threads)
                : Self.resample(src, offset: t * per, dims: Array(v.dims.prefix(3)), map: m, to: grid.dims, interpolation: interpolation,
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

/// Cubic B-spline interpolation (as ITK's BSplineInterpolateImageFunction of order 3): the image is first
/// turned into B-spline coefficients by the exact recursive prefilter (Unser; pole √3 − 2, mirror boundaries)
/// along each axis, so the spline passes through every voxel value; then each point sums 4×4×4 coefficients
/// weighted by the cubic B-spline.
public enum BSpline {
    static let pole = 3.0.squareRoot() - 2

    /// In-place coefficients of one line (mirror-symmetric boundary).
    static func prefilter(_ c: inout [Double]) {
        let n = c.count
        guard n > 1 else { return }
        let z = pole, lambda = (1 - z) * (1 - 1 / z)
        for i in 0..<n { c[i] *= lambda }
        // Causal initialisation, mirror boundary: a truncated sum for long lines, the exact one for short.
        let horizon = Int((log(1e-12) / log(abs(z))).rounded(.up))
        if horizon < n {
            var zn = z, sum = c[0]
            for k in 1..<horizon { sum += zn * c[k]; zn *= z }
            c[0] = sum
        } else {
            var zn = z
            let iz = 1 / z
            var z2n = pow(z, Double(n - 1))
            var sum = c[0] + z2n * c[n - 1]
            z2n *= z2n * iz
            if n > 2 { for k in 1...(n - 2) { sum += (zn + z2n) * c[k]; zn *= z; z2n *= iz } }
            c[0] = sum / (1 - zn * zn)
        }
        for k in 1..<n { c[k] += z * c[k - 1] }
        c[n - 1] = (z / (z * z - 1)) * (z * c[n - 2] + c[n - 1])
        for k in stride(from: n - 2, through: 0, by: -1) { c[k] = z * (c[k + 1] - c[k]) }
    }

    /// B-spline coefficients of a 3D array (x fastest).
    public static func coefficients(_ f: [Float], dims d: [Int]) -> [Double] {
        var c = f.map(Double.init)
        let stride = [1, d[0], d[0] * d[1]]
        for axis in 0..<3 where d[axis] > 1 {
            let others = (0..<3).filter { $0 != axis }
            var line = [Double](repeating: 0, count: d[axis])
            for b in 0..<d[others[1]] {
                for a in 0..<d[others[0]] {
                    let base = a * stride[others[0]] + b * stride[others[1]]
                    for i in 0..<d[axis] { line[i] = c[base + i * stride[axis]] }
                    prefilter(&line)
                    for i in 0..<d[axis] { c[base + i * stride[axis]] = line[i] }
                }
            }
        }
        return c
    }

    @inline(__always) static func weights(_ t: Double) -> (Double, Double, Double, Double) {
        let t2 = t * t, t3 = t2 * t
        return ((1 - t) * (1 - t) * (1 - t) / 6, (3 * t3 - 6 * t2 + 4) / 6, (-3 * t3 + 3 * t2 + 3 * t + 1) / 6, t3 / 6)
    }

    @inline(__always) static func mirror(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var k = i
        let period = 2 * n - 2
        k = ((k % period) + period) % period
        return k < n ? k : period - k
    }

    public static func resample(_ src: [Float], dims n: [Int], map m: Matrix4, to d: [Int], fill: Float, threads: Int = Parallel.cores) -> [Float] {
        let c = coefficients(src, dims: n)
        let result = UnsafeMutableBufferPointer<Float>.allocate(capacity: d[0] * d[1] * d[2])
        result.initialize(repeating: fill)
        let dst = SendableBuffer(result)
        c.withUnsafeBufferPointer { cp in
            let cb = SendableConstBuffer(cp)
            Parallel.forEach(count: d[2], threads: threads) { k in
                let p = cb.buffer
                for j in 0..<d[1] {
                    for i in 0..<d[0] {
                        let x = m[0, 0] * Double(i) + m[0, 1] * Double(j) + m[0, 2] * Double(k) + m[0, 3]
                        let y = m[1, 0] * Double(i) + m[1, 1] * Double(j) + m[1, 2] * Double(k) + m[1, 3]
                        let z = m[2, 0] * Double(i) + m[2, 1] * Double(j) + m[2, 2] * Double(k) + m[2, 3]
                        guard x > -0.5, y > -0.5, z > -0.5, x < Double(n[0]) - 0.5, y < Double(n[1]) - 0.5, z < Double(n[2]) - 0.5 else { continue }
                        let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down)), z0 = Int(z.rounded(.down))
                        let wx = weights(x - Double(x0)), wy = weights(y - Double(y0)), wz = weights(z - Double(z0))
                        let ax = [wx.0, wx.1, wx.2, wx.3], ay = [wy.0, wy.1, wy.2, wy.3], az = [wz.0, wz.1, wz.2, wz.3]
                        var acc = 0.0
                        for c3 in 0..<4 {
                            let zi = mirror(z0 - 1 + c3, n[2])
                            for c2 in 0..<4 {
                                let yi = mirror(y0 - 1 + c2, n[1])
                                let row = n[0] * (yi + n[1] * zi)
                                var line = 0.0
                                for c1 in 0..<4 { line += ax[c1] * p[row + mirror(x0 - 1 + c1, n[0])] }
                                acc += ay[c2] * az[c3] * line
                            }
                        }
                        dst.buffer[(k * d[1] + j) * d[0] + i] = Float(acc)
                    }
                }
            }
        }
        let r = Array(result)
        result.deallocate()
        return r
    }
}

/// Resamples onto an axis-aligned RAS grid of the given spacing covering the volume (isotropic voxels for
/// CT analysis, for instance): `ResampleToGrid` onto `VoxelGrid.canonical`.
public struct ResampleToSpacing: VolumeTransform {
    public let spacing: [Double]
    public let interpolation: ResampleToGrid.Interpolation
    public init(_ spacing: [Double], interpolation: ResampleToGrid.Interpolation = .linear) {
        self.spacing = spacing
        self.interpolation = interpolation
    }
    public var name: String { "resample(\(spacing.map { String(format: "%g", $0) }.joined(separator: "x")) mm, \(interpolation.rawValue))" }
    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        guard spacing.count == 3, spacing.allSatisfy({ $0 > 0 }) else { throw .usage("the spacing needs three positive values") }
        let fill = v.floatValues.min() ?? 0
        return try ResampleToGrid(.canonical(covering: VoxelGrid(of: v), spacing: spacing), interpolation: interpolation, fill: fill).apply(v)
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

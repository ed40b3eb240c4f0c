/// Resizes every slice in plane to `width` × `height`: area averaging when shrinking (as OpenCV's
/// INTER_AREA), bilinear with half-pixel centres when enlarging. The affine follows, so every voxel
/// keeps its place in the world.
public struct Resize: VolumeTransform {
    public let width: Int, height: Int
    public init(width: Int, height: Int) { self.width = width; self.height = height }
    public var name: String { "resize(\(width)x\(height))" }

    /// Per output index: (source index, weight) pairs.
    static func weights(from n: Int, to m: Int) -> [[(Int, Float)]] {
        let s = Double(n) / Double(m)
        if n == m { return (0..<m).map { [($0, Float(1))] } }
        if n > m {
            // Area: output pixel j covers [j*s, (j+1)*s) of the input.
            return (0..<m).map { j in
                let a = Double(j) * s, b = Double(j + 1) * s
                var w: [(Int, Float)] = []
                var i = Int(a.rounded(.down))
                while Double(i) < b && i < n {
                    let overlap = min(b, Double(i + 1)) - max(a, Double(i))
                    if overlap > 1e-9 { w.append((i, Float(overlap / s))) }
                    i += 1
                }
                return w
            }
        }
        return (0..<m).map { j in
            let x = min(max((Double(j) + 0.5) * s - 0.5, 0), Double(n - 1))
            let i0 = Int(x.rounded(.down)), i1 = min(i0 + 1, n - 1)
            let t = Float(x - Double(i0))
            return t == 0 ? [(i0, Float(1))] : [(i0, 1 - t), (i1, t)]
        }
    }

    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        guard width > 0, height > 0 else { throw .usage("resize needs a positive size") }
        let nx = v.dims[0], ny = v.dims[1], slices = v.dims[2] * v.dims[3]
        if nx == width && ny == height { return v.asFloat }
        let wx = Self.weights(from: nx, to: width), wy = Self.weights(from: ny, to: height)
        let f = v.floatValues
        var out = [Float](repeating: 0, count: width * height * slices)
        var tmp = [Float](repeating: 0, count: width * ny)
        for z in 0..<slices {
            let src = z * nx * ny
            for y in 0..<ny {
                for x in 0..<width {
                    var acc: Float = 0
                    for (i, w) in wx[x] { acc += f[src + y * nx + i] * w }
                    tmp[y * width + x] = acc
                }
            }
            let dst = z * width * height
            for y in 0..<height {
                for x in 0..<width {
                    var acc: Float = 0
                    for (j, w) in wy[y] { acc += tmp[j * width + x] * w }
                    out[dst + y * width + x] = acc
                }
            }
        }
        // New index i' sits at old continuous index s*i' + (s-1)/2.
        let sx = Double(nx) / Double(width), sy = Double(ny) / Double(height)
        var m = Matrix4.identity
        m[0, 0] = sx; m[0, 3] = (sx - 1) / 2
        m[1, 1] = sy; m[1, 3] = (sy - 1) / 2
        return Volume(dims: [width, height, v.dims[2], v.dims[3]], voxels: .float32(out), affine: v.affine * m, metadata: v.metadata)
    }
}

/// Exact Euclidean distance transform (Felzenszwalb & Huttenlocher's lower envelope of parabolas, one
/// axis at a time) on an anisotropic 3D grid, x fastest.
public enum DistanceTransform {
    /// Squared distance (mm²) from every voxel to the nearest voxel where `target` is true (0 on target;
    /// +inf everywhere when there is no target voxel).
    public static func squaredDistance(to target: [Bool], dims d: [Int], spacing: [Double]) -> [Double] {
        var f = target.map { $0 ? 0.0 : Double.infinity }
        guard target.contains(true) else { return f }
        let stride = [1, d[0], d[0] * d[1]]
        for axis in 0..<3 {
            let n = d[axis]
            if n == 1 { continue }
            let w2 = spacing[axis] * spacing[axis]
            let others = (0..<3).filter { $0 != axis }
            var line = [Double](repeating: 0, count: n), out = [Double](repeating: 0, count: n)
            var v = [Int](repeating: 0, count: n), z = [Double](repeating: 0, count: n + 1)
            for b in 0..<d[others[1]] {
                for a in 0..<d[others[0]] {
                    let base = a * stride[others[0]] + b * stride[others[1]]
                    for i in 0..<n { line[i] = f[base + i * stride[axis]] }
                    envelope(line, &out, &v, &z, w2)
                    for i in 0..<n { f[base + i * stride[axis]] = out[i] }
                }
            }
        }
        return f
    }

    /// 1D squared distance with sample spacing² w2.
    static func envelope(_ f: [Double], _ d: inout [Double], _ v: inout [Int], _ z: inout [Double], _ w2: Double) {
        let n = f.count
        var k = -1
        for q in 0..<n where f[q].isFinite {
            let fq = f[q] + w2 * Double(q * q)
            while k >= 0 {
                let p = v[k]
                let s = (fq - (f[p] + w2 * Double(p * p))) / (2 * w2 * Double(q - p))
                if s <= z[k] { k -= 1 } else { break }
            }
            k += 1
            v[k] = q
            z[k] = k == 0 ? -Double.infinity : {
                let p = v[k - 1]
                return (fq - (f[p] + w2 * Double(p * p))) / (2 * w2 * Double(q - p))
            }()
            z[k + 1] = Double.infinity
        }
        if k < 0 {
            for q in 0..<n { d[q] = .infinity }
            return
        }
        var j = 0
        for q in 0..<n {
            while z[j + 1] < Double(q) { j += 1 }
            let p = v[j]
            let dq = Double(q - p)
            d[q] = w2 * dq * dq + f[p]
        }
    }
}

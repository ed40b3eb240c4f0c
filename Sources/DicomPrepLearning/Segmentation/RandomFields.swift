import DicomPrepCore
import Foundation

/// A smooth random displacement field over a patch, in source voxels: uniform random displacements (up
/// to an amplitude drawn in 0...maxMM, per axis, and at most a quarter of the control points' distance so
/// the warp never folds) on a control grid with one point every `controlMM` or closer, interpolated
/// trilinearly at every patch voxel.
struct RandomWarpField {
    let g: [Int]
    let step: [Double]
    /// The control displacements interpolated along y and z at every patch (j, k), per control x:
    /// (g[0] x ny x nz) triples, so a voxel costs one linear interpolation along x.
    let table: [Double]
    let ny: Int, nz: Int

    /// nil when there is nothing to warp (maxMM 0).
    init?(size: [Int], spacing: [Double], scale: Double, maxMM: Double, controlMM: Double, rng: inout SeededRandom) {
        guard maxMM > 0 else { return nil }
        // Control points along each axis of the patch (its extent in mm / controlMM, at least 2 intervals).
        let extent = (0..<3).map { Double(size[$0]) * spacing[$0] * scale }
        let g = (0..<3).map { max(3, Int((extent[$0] / controlMM).rounded(.up)) + 1) }
        // No folding: neighbouring control points differ by at most 2 x amplitude, kept to half their
        // distance (small patches have closer control points, so a smaller cap).
        let interval = (0..<3).map { extent[$0] / Double(g[$0] - 1) }.min()!
        let amplitude = rng.unit() * min(maxMM, interval / 4)
        let step = (0..<3).map { Double(g[$0] - 1) / Double(max(size[$0] - 1, 1)) }
        var d = [Double](repeating: 0, count: g[0] * g[1] * g[2] * 3)
        for i in d.indices {
            // Displacement in mm along axis i % 3, converted to that axis' source voxels.
            d[i] = (rng.unit() * 2 - 1) * amplitude / spacing[i % 3]
        }
        let ny = size[1], nz = size[2]
        var t = [Double](repeating: 0, count: g[0] * ny * nz * 3)
        for j in 0..<ny {
            let fy = Double(j) * step[1], y0 = min(Int(fy), g[1] - 2), ty = fy - Double(y0)
            for k in 0..<nz {
                let fz = Double(k) * step[2], z0 = min(Int(fz), g[2] - 2), tz = fz - Double(z0)
                let w = [(1 - ty) * (1 - tz), ty * (1 - tz), (1 - ty) * tz, ty * tz]
                for a in 0..<g[0] {
                    let o = ((a * ny + j) * nz + k) * 3
                    for c in 0..<4 {
                        let b = (a + g[0] * ((y0 + (c & 1)) + g[1] * (z0 + (c >> 1)))) * 3
                        t[o] += w[c] * d[b]; t[o + 1] += w[c] * d[b + 1]; t[o + 2] += w[c] * d[b + 2]
                    }
                }
            }
        }
        self.g = g
        self.step = step
        self.table = t
        self.ny = ny
        self.nz = nz
    }

    /// The displacement (source voxels along x, y, z) at patch voxel (i, j, k): trilinear in the control grid.
    @inline(__always) func displacement(_ i: Int, _ j: Int, _ k: Int) -> (Double, Double, Double) {
        let fx = Double(i) * step[0], x0 = min(Int(fx), g[0] - 2), tx = fx - Double(x0)
        let a = ((x0 * ny + j) * nz + k) * 3, b = a + ny * nz * 3
        return table.withUnsafeBufferPointer { t in
            (t[a] + (t[b] - t[a]) * tx, t[a + 1] + (t[b + 1] - t[a + 1]) * tx, t[a + 2] + (t[b + 2] - t[a + 2]) * tx)
        }
    }
}

/// A smooth random value in ±amplitude over a patch: uniform random values on a control grid with one
/// point every `controlMM` or closer (at least 3 per axis), interpolated trilinearly.
struct RandomScalarField {
    let g: [Int]
    let step: [Double]
    let values: [Float]

    /// nil when there is nothing to vary (amplitude 0).
    init?(size: [Int], spacing: [Double], scale: Double, amplitude: Double, controlMM: Double, rng: inout SeededRandom) {
        guard amplitude > 0 else { return nil }
        let extent = (0..<3).map { Double(size[$0]) * spacing[$0] * scale }
        let g = (0..<3).map { max(3, Int((extent[$0] / controlMM).rounded(.up)) + 1) }
        self.g = g
        step = (0..<3).map { Double(g[$0] - 1) / Double(max(size[$0] - 1, 1)) }
        var v = [Float](repeating: 0, count: g[0] * g[1] * g[2])
        for i in v.indices { v[i] = Float((rng.unit() * 2 - 1) * amplitude) }
        values = v
    }

    @inline(__always) func value(_ i: Int, _ j: Int, _ k: Int) -> Float {
        let px = Double(i) * step[0], py = Double(j) * step[1], pz = Double(k) * step[2]
        let x0 = min(Int(px), g[0] - 2), y0 = min(Int(py), g[1] - 2), z0 = min(Int(pz), g[2] - 2)
        let tx = Float(px - Double(x0)), ty = Float(py - Double(y0)), tz = Float(pz - Double(z0))
        let b = x0 + g[0] * (y0 + g[1] * z0), sy = g[0], sz = g[0] * g[1]
        return values.withUnsafeBufferPointer { v in
            let c00 = v[b] + (v[b + 1] - v[b]) * tx, c10 = v[b + sy] + (v[b + sy + 1] - v[b + sy]) * tx
            let c01 = v[b + sz] + (v[b + sz + 1] - v[b + sz]) * tx, c11 = v[b + sz + sy] + (v[b + sz + sy + 1] - v[b + sz + sy]) * tx
            let c0 = c00 + (c10 - c00) * ty, c1 = c01 + (c11 - c01) * ty
            return c0 + (c1 - c0) * tz
        }
    }
}

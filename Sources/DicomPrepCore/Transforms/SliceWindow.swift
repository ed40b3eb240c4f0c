/// Takes `count` consecutive slices centred on the slice whose foreground is largest (the RSNA winner's
/// "largest brain area" window, done better: Otsu threshold above background and the largest connected
/// component, so noise does not count), zero-padding symmetrically when the series is shorter.
/// The same rule is used for training and inference.
public struct SliceWindow: VolumeTransform {
    public let count: Int
    public init(count: Int) { self.count = count }
    public var name: String { "slice-window(\(count))" }

    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        guard count > 0 else { throw .usage("the slice window must hold at least one slice") }
        let nx = v.dims[0], ny = v.dims[1], nz = v.dims[2]
        let f = v.floatValues
        let per = nx * ny
        let threshold = Foreground.otsu(f)
        var areas = [Int](repeating: 0, count: nz)
        for z in 0..<nz {
            areas[z] = Foreground.largestComponentBoxArea(f, offset: z * per, width: nx, height: ny, threshold: Float(threshold))
        }
        let center = areas.indices.max { areas[$0] < areas[$1] || (areas[$0] == areas[$1] && $0 > $1) } ?? 0
        var start = 0, end = nz, padBefore = 0, padAfter = 0
        if nz >= count {
            start = min(max(center - count / 2, 0), nz - count)
            end = start + count
        } else {
            padBefore = (count - nz) / 2
            padAfter = count - nz - padBefore
        }
        var out = [Float](repeating: 0, count: per * count * v.dims[3])
        for t in 0..<v.dims[3] {
            for z in start..<end {
                let dst = (t * count + padBefore + z - start) * per
                let src = (t * nz + z) * per
                for i in 0..<per { out[dst + i] = f[src + i] }
            }
        }
        // Output slice k' holds source slice k' - padBefore + start.
        var shift = Matrix4.identity
        shift[2, 3] = Double(start - padBefore)
        var r = Volume(dims: [nx, ny, count, v.dims[3]], voxels: .float32(out), affine: v.affine * shift, metadata: v.metadata)
        r.metadata.voi = nil
        r.metadata.sliceWindow = SliceWindowInfo(center: center, start: start, end: end, padBefore: padBefore, padAfter: padAfter,
                                                 centerArea: areas.isEmpty ? 0 : areas[center], threshold: threshold)
        return r
    }
}

/// Foreground detection for the slice window.
public enum Foreground {
    /// Otsu's threshold over all values (256-bin histogram between min and max).
    public static func otsu(_ f: [Float]) -> Double {
        guard let lo = f.min(), let hi = f.max(), hi > lo else { return Double(f.first ?? 0) }
        var hist = [Double](repeating: 0, count: 256)
        let scale = 255 / Double(hi - lo)
        for x in f { hist[Int((Double(x - lo) * scale).rounded(.down)).clamped(0, 255)] += 1 }
        let total = Double(f.count)
        var sumAll = 0.0
        for i in 0..<256 { sumAll += Double(i) * hist[i] }
        var wB = 0.0, sumB = 0.0, best = 0.0, bestT = 0
        for t in 0..<256 {
            wB += hist[t]
            if wB == 0 { continue }
            let wF = total - wB
            if wF == 0 { break }
            sumB += Double(t) * hist[t]
            let mB = sumB / wB, mF = (sumAll - sumB) / wF
            let between = wB * wF * (mB - mF) * (mB - mF)
            if between > best { best = between; bestT = t }
        }
        // Voxels in bins above bestT are foreground.
        return Double(lo) + Double(bestT + 1) / scale
    }

    /// The bounding-box area of the largest 8-connected component of values ≥ threshold in one slice.
    public static func largestComponentBoxArea(_ f: [Float], offset: Int, width: Int, height: Int, threshold: Float) -> Int {
        var label = [Int32](repeating: 0, count: width * height)
        var best = (size: 0, area: 0)
        var next: Int32 = 0
        var stack: [Int] = []
        for start in 0..<(width * height) where label[start] == 0 && f[offset + start] >= threshold {
            next += 1
            label[start] = next
            stack.append(start)
            var size = 0, x0 = Int.max, x1 = -1, y0 = Int.max, y1 = -1
            while let p = stack.popLast() {
                size += 1
                let x = p % width, y = p / width
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
                for dy in -1...1 {
                    let yy = y + dy
                    if yy < 0 || yy >= height { continue }
                    for dx in -1...1 {
                        let xx = x + dx
                        if xx < 0 || xx >= width || (dx == 0 && dy == 0) { continue }
                        let q = yy * width + xx
                        if label[q] == 0 && f[offset + q] >= threshold {
                            label[q] = next
                            stack.append(q)
                        }
                    }
                }
            }
            if size > best.size { best = (size, (x1 - x0 + 1) * (y1 - y0 + 1)) }
        }
        return best.area
    }
}

extension Comparable {
    package func clamped(_ lo: Self, _ hi: Self) -> Self { min(max(self, lo), hi) }
}

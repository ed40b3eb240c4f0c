/// Operations on binary masks and label maps stored x fastest in a 3D grid: connected components,
/// keeping the largest, hole filling, thresholds. Pure Swift (linear time, no recursion), shared by the
/// segmentation post-processing and `mask`.
public enum LabelOperations {
    /// Face-connected (6-neighbour) components of `mask`: a label per voxel (0 = background, 1... by
    /// decreasing size) and the size of each label (index 0 unused).
    public static func components(_ mask: [Bool], dims d: [Int]) -> (labels: [Int32], sizes: [Int]) {
        let nx = d[0], ny = d[1], nz = d[2]
        var labels = [Int32](repeating: 0, count: mask.count)
        var sizes = [0]
        var stack: [Int] = []
        var next: Int32 = 1
        for start in 0..<mask.count where mask[start] && labels[start] == 0 {
            labels[start] = next
            stack.append(start)
            var size = 0
            while let p = stack.popLast() {
                size += 1
                let x = p % nx, y = (p / nx) % ny, z = p / (nx * ny)
                @inline(__always) func visit(_ q: Int) {
                    if mask[q] && labels[q] == 0 { labels[q] = next; stack.append(q) }
                }
                if x > 0 { visit(p - 1) }
                if x < nx - 1 { visit(p + 1) }
                if y > 0 { visit(p - nx) }
                if y < ny - 1 { visit(p + nx) }
                if z > 0 { visit(p - nx * ny) }
                if z < nz - 1 { visit(p + nx * ny) }
            }
            sizes.append(size)
            next += 1
        }
        // Relabel by decreasing size (ties by first voxel).
        let order = (1..<sizes.count).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var newLabel = [Int32](repeating: 0, count: sizes.count)
        for (rank, old) in order.enumerated() { newLabel[old] = Int32(rank + 1) }
        for i in labels.indices where labels[i] > 0 { labels[i] = newLabel[Int(labels[i])] }
        return (labels, [0] + order.map { sizes[$0] })
    }

    /// The `n` largest components of `mask`.
    public static func keepLargest(_ mask: [Bool], dims: [Int], count n: Int = 1) -> [Bool] {
        let (labels, _) = components(mask, dims: dims)
        return labels.map { $0 > 0 && $0 <= Int32(n) }
    }

    /// Components touching the grid's border removed (e.g. the air around a body). An axis of size 1 (a
    /// single slice) has no border.
    public static func removeBorderComponents(_ mask: [Bool], dims d: [Int]) -> [Bool] {
        let (labels, sizes) = components(mask, dims: d)
        var touches = [Bool](repeating: false, count: sizes.count)
        let nx = d[0], ny = d[1], nz = d[2]
        let bx = nx > 1, by = ny > 1, bz = nz > 1
        for z in 0..<nz {
            for y in 0..<ny {
                for x in 0..<nx where (bx && (x == 0 || x == nx - 1)) || (by && (y == 0 || y == ny - 1)) || (bz && (z == 0 || z == nz - 1)) {
                    touches[Int(labels[x + nx * (y + ny * z)])] = true
                }
            }
        }
        return labels.map { $0 > 0 && !touches[Int($0)] }
    }

    /// Holes filled in 3D: background not connected to the grid's border becomes foreground.
    public static func fillHoles(_ mask: [Bool], dims: [Int]) -> [Bool] {
        let inside = removeBorderComponents(mask.map { !$0 }, dims: dims)
        return zip(mask, inside).map { $0 || $1 }
    }

    /// Holes filled slice by slice along axis `axis` (2D, 4-connected), for masks open at the ends.
    public static func fillHolesPerSlice(_ mask: [Bool], dims d: [Int], axis: Int = 2) -> [Bool] {
        var out = mask
        let n = d[axis]
        let (ua, va) = axis == 0 ? (1, 2) : (axis == 1 ? (0, 2) : (0, 1))
        let stride = [1, d[0], d[0] * d[1]]
        for s in 0..<n {
            var plane = [Bool](repeating: false, count: d[ua] * d[va])
            for v in 0..<d[va] { for u in 0..<d[ua] { plane[u + d[ua] * v] = mask[s * stride[axis] + u * stride[ua] + v * stride[va]] } }
            let filled = fillHoles(plane, dims: [d[ua], d[va], 1])
            for v in 0..<d[va] { for u in 0..<d[ua] where filled[u + d[ua] * v] { out[s * stride[axis] + u * stride[ua] + v * stride[va]] = true } }
        }
        return out
    }

    /// Voxels inside a ball of `radius` mm (spacing-aware) of any foreground voxel (dilation) or whose
    /// ball lies entirely in the foreground (erosion), by exact Euclidean distance transforms.
    public static func dilate(_ mask: [Bool], dims: [Int], spacing: [Double], radius: Double) -> [Bool] {
        let d = DistanceTransform.squaredDistance(to: mask, dims: dims, spacing: spacing)
        let r2 = radius * radius + 1e-9
        return d.map { $0 <= r2 }
    }

    public static func erode(_ mask: [Bool], dims: [Int], spacing: [Double], radius: Double) -> [Bool] {
        let d = DistanceTransform.squaredDistance(to: mask.map { !$0 }, dims: dims, spacing: spacing)
        let r2 = radius * radius + 1e-9
        return d.map { $0 > r2 }
    }

    /// Closing (dilate then erode) and opening (erode then dilate) with a ball of `radius` mm.
    public static func close(_ mask: [Bool], dims: [Int], spacing: [Double], radius: Double) -> [Bool] {
        erode(dilate(mask, dims: dims, spacing: spacing, radius: radius), dims: dims, spacing: spacing, radius: radius)
    }

    public static func open(_ mask: [Bool], dims: [Int], spacing: [Double], radius: Double) -> [Bool] {
        dilate(erode(mask, dims: dims, spacing: spacing, radius: radius), dims: dims, spacing: spacing, radius: radius)
    }
}

import DicomPrepCore
import Foundation

/// The preprocessing of a segmentation model, the same at training and inference and recorded in the
/// bundle (MONAI's Orientation(RAS) + Spacing + ScaleIntensityRange[Percentiles]): intensities scaled on
/// the input's own voxels, then resampled in world space onto an axis-aligned RAS grid of `spacing`
/// covering the input (trilinear; labels by trilinear one-hot, the largest class). Tensors are (x, y, z) of that grid, z
/// fastest: MONAI's channel-first order after LoadImage + Orientation("RAS").
public struct SegmentationPreprocessing: Codable, Sendable, Equatable {
    public var orientation = "RAS"
    /// mm along R, A, S.
    public var spacing: [Double] = [2, 2, 2]
    public var intensity = ScaleIntensity(.percentiles, 0.5, 99.5)
    /// Training only: crop to the bounding box of voxels above `cropThreshold` (after scaling) plus a
    /// margin (MONAI's CropForeground), so patches are drawn from the object, not the air around it.
    public var cropForeground = true
    public var cropThreshold = 0.02
    public var cropMarginMM = 10.0

    public init() {}

    public var steps: [String] {
        [intensity.name, "orientation(\(orientation))", "spacing(\(spacing.map { String(format: "%g", $0) }.joined(separator: ", ")) mm, linear; labels linear on one-hot, largest)"]
            + (cropForeground ? ["crop-foreground(>\(cropThreshold), margin \(cropMarginMM) mm, training only)"] : [])
    }

    /// The model grid of an input.
    public func grid(for v: Volume) -> VoxelGrid { VoxelGrid.canonical(covering: VoxelGrid(of: v), spacing: spacing) }

    /// The model input on `grid` (first time point only).
    public func image(_ v: Volume, grid: VoxelGrid) throws(DicomPrepError) -> Volume {
        var first = v
        if v.dims[3] > 1 {
            first = Volume(dims: Array(v.dims.prefix(3)) + [1], voxels: .float32(Array(v.floatValues.prefix(v.voxelsPerVolume))), affine: v.affine)
        }
        let scaled = try intensity.apply(first)
        return try ResampleToGrid(grid, interpolation: .linear, fill: Float(intensity.outMin)).apply(scaled)
    }

    /// A label map on `grid`, as class indices: each class's indicator resampled trilinearly and the
    /// largest taken (nnU-Net's resampling of segmentations), so a boundary moves by the sub-voxel
    /// amount the grids differ by instead of snapping to the nearest source voxel (up to half a source
    /// voxel off, and staircased). Ties go to the lower class; outside the source is background.
    public func label(_ l: Volume, grid: VoxelGrid, classes: Int, path: String) throws(DicomPrepError) -> [UInt8] {
        Self.largestClass(try labelFractions(l, grid: grid, classes: classes, path: path), classes: classes, count: grid.count)
    }

    /// Each class's indicator resampled trilinearly onto `grid`: `classes` blocks of `grid.count` fractions
    /// (each voxel's summing to 1; outside the source, background 1). The largest is `label`'s class.
    public func labelFractions(_ l: Volume, grid: VoxelGrid, classes: Int, path: String) throws(DicomPrepError) -> [Float] {
        let source = Array(l.floatValues.prefix(l.voxelsPerVolume))
        var index = [UInt8](repeating: 0, count: source.count)
        for (i, f) in source.enumerated() {
            let x = f.rounded()
            guard x >= 0, x < Float(classes) else {
                throw .io(path: path, reason: "label value \(f) is not a class index below \(classes) (set \"labels\" in the datalist)")
            }
            index[i] = UInt8(x)
        }
        guard let inv = l.affine.inverse else { throw .io(path: path, reason: "the label map's affine cannot be inverted") }
        let map = inv * grid.affine, dims = Array(l.dims.prefix(3))
        var out = [Float](repeating: 0, count: classes * grid.count)
        let present = Set(index)
        for c in 0..<classes where c == 0 || present.contains(UInt8(c)) {
            let indicator = index.map { $0 == UInt8(c) ? Float(1) : 0 }
            let r = ResampleToGrid.resample(indicator, dims: dims, map: map, to: grid.dims, interpolation: .linear, fill: c == 0 ? 1 : 0)
            out.replaceSubrange((c * grid.count)..<((c + 1) * grid.count), with: r)
        }
        return out
    }

    /// The class with the largest fraction per voxel (ties to the lower class).
    static func largestClass(_ fractions: [Float], classes: Int, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            var best = fractions[i]
            for c in 1..<max(classes, 1) where fractions[c * count + i] > best {
                best = fractions[c * count + i]
                out[i] = UInt8(c)
            }
        }
        return out
    }
}

/// A preprocessed case in memory: image and labels on the model grid (x fastest).
public struct PreparedCase: Sendable {
    public var id: String
    public var dims: [Int]
    public var spacing: [Double]
    public var image: [Float]
    public var label: [UInt8]
    /// Indices of foreground and background voxels, for positive/negative patch centres.
    public var foreground: [Int32]
    public var background: [Int32]
    /// Tissue fractions on the same grid, tissue-major (`tissueCount` blocks of `image.count`, each voxel's
    /// fractions summing to 255), for a fresh appearance per patch; empty without a tissue map.
    public var tissues: [UInt8] = []
    public var tissueCount = 0
    /// Each tissue's mean value in the stored image (voxels at least 90% that tissue; else weighted by the
    /// fractions): the case's own contrast, which a fresh appearance varies.
    public var tissueMeans: [Float] = []
    /// Class fractions on the same grid for soft (partial-volume) training targets: `fractionClasses`
    /// blocks of `image.count`, each voxel's summing to 255; empty when training on class indices.
    public var fractions: [UInt8] = []
    public var fractionClasses = 0
    /// Distance (mm) from every voxel to the nearest foreground voxel (0 on it), for the augmentation that
    /// stretches the layers around the foreground; empty when it is off.
    public var outsideDistance: [Float] = []

    /// A case already on its model grid (x fastest); `indexVoxels()` fills the patch-centre pools.
    public init(id: String, dims: [Int], spacing: [Double], image: [Float], label: [UInt8], foreground: [Int32] = [], background: [Int32] = []) {
        self.id = id
        self.dims = dims
        self.spacing = spacing
        self.image = image
        self.label = label
        self.foreground = foreground
        self.background = background
    }

    /// Tissue fractions from a tissue map already on this grid: `maps` holds `count` blocks of
    /// `image.count` values (one-hot or fractional; any scale); each voxel's are normalised to sum to 255.
    public mutating func setTissues(_ maps: [Float], count k: Int) {
        let n = image.count
        precondition(maps.count == k * n)
        let t = Self.quantise(maps, blocks: k)
        tissues = t
        tissueCount = k
        var pure = [Double](repeating: 0, count: k), pureCount = [Int](repeating: 0, count: k)
        var weighted = [Double](repeating: 0, count: k), weight = [Double](repeating: 0, count: k)
        for l in 0..<k {
            let base = l * n
            for v in 0..<n where t[base + v] > 0 {
                let f = Double(t[base + v]), x = Double(image[v])
                weighted[l] += f * x
                weight[l] += f
                if t[base + v] >= 230 { pure[l] += x; pureCount[l] += 1 }
            }
        }
        tissueMeans = (0..<k).map { l in
            Float(pureCount[l] > 0 ? pure[l] / Double(pureCount[l]) : (weight[l] > 0 ? weighted[l] / weight[l] : 0))
        }
    }

    /// Per-voxel shares of `blocks` maps of `image.count` values (any non-negative scale) as bytes summing to
    /// 255 (the rounding remainder goes to the largest); a voxel with nothing in any map is all first map.
    static func quantise(_ maps: [Float], blocks k: Int) -> [UInt8] {
        let n = maps.count / max(k, 1)
        var t = [UInt8](repeating: 0, count: k * n)
        for v in 0..<n {
            var sum: Float = 0
            for l in 0..<k { sum += max(0, maps[l * n + v]) }
            guard sum > 0 else { t[v] = 255; continue }
            var total = 0, largest = 0, best: Float = -1
            for l in 0..<k {
                let f = max(0, maps[l * n + v]) / sum
                let q = Int((f * 255).rounded())
                t[l * n + v] = UInt8(q)
                total += q
                if f > best { best = f; largest = l }
            }
            t[largest * n + v] = UInt8(max(0, min(255, Int(t[largest * n + v]) + 255 - total)))
        }
        return t
    }

    /// Soft targets from class fractions on this grid (`classes` blocks, e.g. `labelFractions`).
    public mutating func setClassFractions(_ maps: [Float], classes: Int) {
        precondition(maps.count == classes * image.count)
        fractions = Self.quantise(maps, blocks: classes)
        fractionClasses = classes
    }

    /// Soft targets from the tissue fractions (`setTissues` first): each tissue belongs to the class it
    /// mostly lies in (fraction-weighted votes of the label map on this grid), and a voxel's class
    /// fractions are the sums of its tissues' — partial volume at the tissue map's resolution, where a
    /// label map sampled at voxel centres says only which side of a boundary each centre lies.
    public mutating func setClassFractionsFromTissues(classes: Int) {
        let n = image.count, k = tissueCount
        precondition(k > 0 && tissues.count == k * n && label.count == n)
        var votes = [Double](repeating: 0, count: k * classes)
        tissues.withUnsafeBufferPointer { t in
            for l in 0..<k {
                let base = l * n
                for v in 0..<n where t[base + v] > 0 { votes[l * classes + min(Int(label[v]), classes - 1)] += Double(t[base + v]) }
            }
        }
        let owner = (0..<k).map { l in (0..<classes).max { votes[l * classes + $0] < votes[l * classes + $1] } ?? 0 }
        var f = [UInt8](repeating: 0, count: classes * n)
        for l in 0..<k {
            let src = l * n, dst = owner[l] * n
            for v in 0..<n where tissues[src + v] > 0 { f[dst + v] &+= tissues[src + v] }
        }
        fractions = f
        fractionClasses = classes
    }

    /// Crops to the box of image values above `threshold` plus `margin` voxels.
    public mutating func cropForeground(threshold: Float, margin: [Int]) {
        let nx = dims[0], ny = dims[1], nz = dims[2]
        var lo = [Int.max, Int.max, Int.max], hi = [-1, -1, -1]
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx where image[x + nx * (y + ny * z)] > threshold || label[x + nx * (y + ny * z)] > 0 {
            lo[0] = min(lo[0], x); lo[1] = min(lo[1], y); lo[2] = min(lo[2], z)
            hi[0] = max(hi[0], x); hi[1] = max(hi[1], y); hi[2] = max(hi[2], z)
        } } }
        guard hi[0] >= 0 else { return }
        for a in 0..<3 { lo[a] = max(0, lo[a] - margin[a]); hi[a] = min(dims[a] - 1, hi[a] + margin[a]) }
        let d = (0..<3).map { hi[$0] - lo[$0] + 1 }
        if d == dims { return }
        func crop<T>(_ a: [T], zero: T, blocks: Int) -> [T] {
            let n = nx * ny * nz, m = d[0] * d[1] * d[2]
            var out = [T](repeating: zero, count: m * blocks)
            for b in 0..<blocks { for z in 0..<d[2] { for y in 0..<d[1] {
                let src = b * n + lo[0] + nx * (lo[1] + y + ny * (lo[2] + z)), dst = b * m + d[0] * (y + d[1] * z)
                for x in 0..<d[0] { out[dst + x] = a[src + x] }
            } } }
            return out
        }
        image = crop(image, zero: 0, blocks: 1)
        label = crop(label, zero: 0, blocks: 1)
        if tissueCount > 0 { tissues = crop(tissues, zero: 0, blocks: tissueCount) }
        if fractionClasses > 0 { fractions = crop(fractions, zero: 0, blocks: fractionClasses) }
        dims = d
    }

    /// Fills `outsideDistance` from the labels (exact Euclidean distance, spacing-aware).
    public mutating func computeOutsideDistance() {
        outsideDistance = DistanceTransform.squaredDistance(to: label.map { $0 > 0 }, dims: dims, spacing: spacing)
            .map { $0.isFinite ? Float($0.squareRoot()) : 0 }
    }

    public mutating func indexVoxels() {
        foreground = []
        background = []
        for (i, l) in label.enumerated() { if l > 0 { foreground.append(Int32(i)) } else { background.append(Int32(i)) } }
    }
}

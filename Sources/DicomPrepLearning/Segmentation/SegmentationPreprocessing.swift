import DicomPrepCore
import Foundation

/// The preprocessing of a segmentation model, the same at training and inference and recorded in the
/// bundle (MONAI's Orientation(RAS) + Spacing + ScaleIntensityRange[Percentiles]): intensities scaled on
/// the input's own voxels, then resampled in world space onto an axis-aligned RAS grid of `spacing`
/// covering the input (trilinear; labels nearest neighbour). Tensors are (x, y, z) of that grid, z
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
        [intensity.name, "orientation(\(orientation))", "spacing(\(spacing.map { String(format: "%g", $0) }.joined(separator: ", ")) mm, linear; labels nearest)"]
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

    /// A label map on `grid` (nearest neighbour), as class indices.
    public func label(_ l: Volume, grid: VoxelGrid, classes: Int, path: String) throws(DicomPrepError) -> [UInt8] {
        let r = try ResampleToGrid(grid, interpolation: .nearest, fill: 0).apply(l)
        var out = [UInt8](repeating: 0, count: grid.count)
        let f = r.floatValues
        for i in 0..<grid.count {
            let x = f[i].rounded()
            guard x >= 0, x < Float(classes) else {
                throw .io(path: path, reason: "label value \(f[i]) is not a class index below \(classes) (set \"labels\" in the datalist)")
            }
            out[i] = UInt8(x)
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
        var img = [Float](repeating: 0, count: d[0] * d[1] * d[2]), lab = [UInt8](repeating: 0, count: img.count)
        for z in 0..<d[2] { for y in 0..<d[1] {
            let src = lo[0] + nx * (lo[1] + y + ny * (lo[2] + z)), dst = d[0] * (y + d[1] * z)
            for x in 0..<d[0] { img[dst + x] = image[src + x]; lab[dst + x] = label[src + x] }
        } }
        image = img
        label = lab
        dims = d
    }

    public mutating func indexVoxels() {
        foreground = []
        background = []
        for (i, l) in label.enumerated() { if l > 0 { foreground.append(Int32(i)) } else { background.append(Int32(i)) } }
    }
}

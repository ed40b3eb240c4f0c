import DicomPrepCore
import Foundation

/// Overlap and surface metrics of one label between a prediction and the truth on the same grid:
/// Dice, IoU, the 95th-percentile symmetric Hausdorff distance (mm, surface voxels, as MONAI's
/// compute_hausdorff_distance(percentile=95)) and the volume difference.
public struct SegmentationScore: Codable, Sendable, Equatable {
    public var label: Int
    public var dice: Double
    public var iou: Double
    /// nil when either mask is empty.
    public var hd95: Double?
    public var truthML: Double
    public var predictedML: Double
    /// (predicted - truth) / truth, percent; nil for an empty truth.
    public var volumeDifferencePercent: Double?
}

public enum SegmentationMetrics {
    public static func dice(_ a: [Bool], _ b: [Bool]) -> Double {
        var inter = 0, sa = 0, sb = 0
        for i in a.indices { if a[i] { sa += 1; if b[i] { inter += 1 } }; if b[i] { sb += 1 } }
        return sa + sb == 0 ? 1 : 2 * Double(inter) / Double(sa + sb)
    }

    public static func score(truth: [Bool], predicted: [Bool], dims: [Int], spacing: [Double], label: Int) -> SegmentationScore {
        var inter = 0, st = 0, sp = 0
        for i in truth.indices { if truth[i] { st += 1; if predicted[i] { inter += 1 } }; if predicted[i] { sp += 1 } }
        let union = st + sp - inter
        let voxelML = spacing.reduce(1, *) / 1000
        var hd: Double?
        if st > 0 && sp > 0 {
            let sT = surface(truth, dims: dims), sP = surface(predicted, dims: dims)
            let dT = DistanceTransform.squaredDistance(to: sT, dims: dims, spacing: spacing)
            let dP = DistanceTransform.squaredDistance(to: sP, dims: dims, spacing: spacing)
            var a: [Double] = [], b: [Double] = []
            for i in sP.indices where sP[i] { a.append(dT[i].squareRoot()) }
            for i in sT.indices where sT[i] { b.append(dP[i].squareRoot()) }
            hd = max(percentile95(a), percentile95(b))
        }
        return SegmentationScore(label: label, dice: st + sp == 0 ? 1 : 2 * Double(inter) / Double(st + sp),
                                 iou: union == 0 ? 1 : Double(inter) / Double(union), hd95: hd,
                                 truthML: Double(st) * voxelML, predictedML: Double(sp) * voxelML,
                                 volumeDifferencePercent: st == 0 ? nil : (Double(sp) - Double(st)) / Double(st) * 100)
    }

    /// Foreground voxels with a face neighbour in the background or on the grid border.
    public static func surface(_ m: [Bool], dims d: [Int]) -> [Bool] {
        let nx = d[0], ny = d[1], nz = d[2]
        var s = [Bool](repeating: false, count: m.count)
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx {
            let i = x + nx * (y + ny * z)
            guard m[i] else { continue }
            if x == 0 || y == 0 || z == 0 || x == nx - 1 || y == ny - 1 || z == nz - 1 || !m[i - 1] || !m[i + 1] || !m[i - nx] || !m[i + nx]
                || !m[i - nx * ny] || !m[i + nx * ny] { s[i] = true }
        } } }
        return s
    }

    /// numpy's percentile(v, 95) (linear interpolation).
    static func percentile95(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        let r = 0.95 * Double(s.count - 1)
        let k = Int(r.rounded(.down)), k1 = min(k + 1, s.count - 1)
        return s[k] + (s[k1] - s[k]) * (r - Double(k))
    }
}

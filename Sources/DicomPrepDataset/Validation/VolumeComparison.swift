import DicomPrepCore

/// Compares two NIfTI images voxel by voxel in world space: every voxel centre of `ours` is mapped into
/// `theirs` through the two affines and the values there are compared. Used to check dicomprep against
/// dcm2niix whatever voxel order each chose.
public struct VolumeComparison: Sendable, Equatable {
    /// Voxels whose centre does not land on a voxel centre of the other image (to 1/100 voxel).
    public var misplaced: Int
    /// Voxels whose values differ by more than the tolerance.
    public var differing: Int
    public var compared: Int
    public var identical: Bool { misplaced == 0 && differing == 0 && compared > 0 }

    public static func compare(_ ours: NiftiImage, _ theirs: NiftiImage, tolerance: Double = 1e-3) -> VolumeComparison {
        guard ours.dims.prefix(3).reduce(1, *) == theirs.dims.prefix(3).reduce(1, *), let inv = theirs.sform.inverse else {
            return VolumeComparison(misplaced: ours.values.count, differing: 0, compared: 0)
        }
        let a = ours.scaledValues, b = theirs.scaledValues
        let nx = ours.dims[0], ny = ours.dims.count > 1 ? ours.dims[1] : 1, nz = ours.dims.count > 2 ? ours.dims[2] : 1
        let mx = theirs.dims[0], my = theirs.dims.count > 1 ? theirs.dims[1] : 1, mz = theirs.dims.count > 2 ? theirs.dims[2] : 1
        let m = inv * ours.sform
        var misplaced = 0, differing = 0, compared = 0
        for k in 0..<nz { for j in 0..<ny { for i in 0..<nx {
            let q = m.apply(Vector3(Double(i), Double(j), Double(k)))
            let (ti, tj, tk) = (q.x.rounded(), q.y.rounded(), q.z.rounded())
            guard abs(q.x - ti) <= 0.01, abs(q.y - tj) <= 0.01, abs(q.z - tk) <= 0.01,
                  ti >= 0, tj >= 0, tk >= 0, Int(ti) < mx, Int(tj) < my, Int(tk) < mz else { misplaced += 1; continue }
            compared += 1
            if abs(a[(k * ny + j) * nx + i] - b[(Int(tk) * my + Int(tj)) * mx + Int(ti)]) > tolerance { differing += 1 }
        } } }
        return VolumeComparison(misplaced: misplaced, differing: differing, compared: compared)
    }
}

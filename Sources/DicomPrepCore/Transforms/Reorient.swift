/// Permutes and flips voxel axes so that they point as close as possible to a named orientation
/// (RAS, LAS, LPS, ...), without resampling; the affine changes so every voxel keeps its world position.
public struct Reorient: VolumeTransform {
    public let target: [AxisDirection]
    public let code: String

    public init(_ code: String) throws(DicomPrepError) {
        guard let t = Orientation.parse(code) else {
            throw .usage("orientation '\(code)' is not three distinct axis letters of R/L, A/P, S/I (e.g. RAS, LPS)")
        }
        target = t
        self.code = code.uppercased()
    }

    public var name: String { "reorient(\(code))" }

    public func apply(_ v: Volume) throws(DicomPrepError) -> Volume {
        let current = Orientation.of(v.affine)
        // For output axis a: which input axis feeds it, and whether it runs backwards.
        var source = [0, 0, 0], flip = [false, false, false]
        for a in 0..<3 {
            let s = current.firstIndex { $0.worldAxis == target[a].worldAxis }!
            source[a] = s
            flip[a] = current[s].positive != target[a].positive
        }
        if source == [0, 1, 2] && flip == [false, false, false] { return v }
        let n = [v.dims[0], v.dims[1], v.dims[2]]
        let newDims = [n[source[0]], n[source[1]], n[source[2]], v.dims[3]]
        // old index = M * new index + t
        var m = Matrix4(rows: [Double](repeating: 0, count: 16))
        for a in 0..<3 {
            m[source[a], a] = flip[a] ? -1 : 1
            m[source[a], 3] = flip[a] ? Double(n[source[a]] - 1) : 0
        }
        m[3, 3] = 1
        let affine = v.affine * m
        let oldStride = [1, n[0], n[0] * n[1]]
        let per = v.voxelsPerVolume
        let nx = newDims[0], ny = newDims[1], nz = newDims[2]
        let voxels = v.voxels.permuted(count: v.voxels.count) { idx in
            let t = idx / per
            var r = idx % per
            let i = r % nx; r /= nx
            let j = r % ny
            let k = r / ny
            _ = nz
            let newIdx = [i, j, k]
            var old = 0
            for a in 0..<3 {
                let o = flip[a] ? newDims[a] - 1 - newIdx[a] : newIdx[a]
                old += o * oldStride[source[a]]
            }
            return t * per + old
        }
        var meta = v.metadata
        meta.voi = nil
        return Volume(dims: newDims, voxels: voxels, affine: affine, metadata: meta)
    }
}

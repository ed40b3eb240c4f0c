/// Cuts a volume into consecutive sub-volumes of `size` slices (the MONAI tutorial's "DICOM groups").
public struct SliceGroups: Sendable {
    /// What happens to the last slices when the count is not a multiple of the group size.
    public enum Remainder: String, Sendable, CaseIterable, Codable {
        /// Left out.
        case drop
        /// Zero-padded to a full group.
        case pad
        /// Kept as a shorter last group.
        case keep
    }
    public let size: Int
    public let remainder: Remainder
    public init(size: Int, remainder: Remainder) { self.size = size; self.remainder = remainder }

    /// The groups, in slice order; each keeps the affine of its own first slice.
    public func split(_ v: Volume) throws(DicomPrepError) -> [Volume] {
        guard size > 0 else { throw .usage("--group-size must be positive") }
        let nx = v.dims[0], ny = v.dims[1], nz = v.dims[2], per = nx * ny
        let f = v.floatValues
        var groups: [Volume] = []
        var start = 0
        while start < nz {
            let have = min(size, nz - start)
            if have < size && remainder == .drop { break }
            let depth = (have < size && remainder == .pad) ? size : have
            var out = [Float](repeating: 0, count: per * depth * v.dims[3])
            for t in 0..<v.dims[3] {
                for z in 0..<have {
                    let src = (t * nz + start + z) * per, dst = (t * depth + z) * per
                    for i in 0..<per { out[dst + i] = f[src + i] }
                }
            }
            var shift = Matrix4.identity
            shift[2, 3] = Double(start)
            var meta = v.metadata
            meta.voi = nil
            groups.append(Volume(dims: [nx, ny, depth, v.dims[3]], voxels: .float32(out), affine: v.affine * shift, metadata: meta))
            start += size
        }
        return groups
    }
}

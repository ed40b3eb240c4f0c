extension Volume {
    /// Reads a NIfTI file as a Volume: scaled values (float32, or uint8 for an unscaled uint8 file), the
    /// sform affine (the qform when the sform is unset, pixdim when neither is).
    public static func readNifti(_ path: String) throws(DicomPrepError) -> Volume {
        let img = try NiftiIO.read(path)
        guard img.dims.count >= 3 || img.dims.count >= 1 else { throw .io(path: path, reason: "not an image") }
        let d = img.dims + [Int](repeating: 1, count: max(0, 4 - img.dims.count))
        let dims = [d[0], d[1], d[2], d[3...].reduce(1, *)]
        let affine: Matrix4
        if img.sformCode > 0 { affine = img.sform }
        else if img.qformCode > 0 { affine = img.qform }
        else {
            let p = img.pixdim + [1, 1, 1]
            affine = Matrix4(columns: Vector3(abs(p[0]) > 0 ? abs(p[0]) : 1, 0, 0), Vector3(0, abs(p[1]) > 0 ? abs(p[1]) : 1, 0),
                             Vector3(0, 0, abs(p[2]) > 0 ? abs(p[2]) : 1), origin: .zero)
        }
        guard affine.inverse != nil else { throw .io(path: path, reason: "the NIfTI affine is singular") }
        let unscaled = img.sclSlope == 0 || (img.sclSlope == 1 && img.sclInter == 0)
        let voxels: VoxelData = img.datatypeCode == 2 && unscaled ? .uint8(img.values.map { UInt8(clamping: Int($0)) })
            : .float32(img.scaledValues.map(Float.init))
        return Volume(dims: dims, voxels: voxels, affine: affine)
    }
}

/// Writes a `Volume` as a single-file NIfTI-1 (.nii or .nii.gz) through libnifti's header, atomically.
public struct NiftiWriter: Sendable {
    public var gzip = true
    /// gzip level, 0 (store) to 12 (libdeflate's slowest).
    public var compressionLevel = 1
    public var threads = Parallel.cores
    /// How voxels are stored: as they are, or (for float data) quantised to int16 with scl_slope/scl_inter,
    /// which halves the size like float16 would (NIfTI has no float16 type) and reads back as floats.
    public var storage = Storage.asIs
    public enum Storage: String, Sendable, CaseIterable, Codable { case asIs = "as-is", scaledInt16 = "scaled-int16" }

    public init(gzip: Bool = true, compressionLevel: Int = 1, threads: Int = Parallel.cores, storage: Storage = .asIs) {
        self.storage = storage
        self.gzip = gzip
        self.compressionLevel = compressionLevel
        self.threads = threads
    }

    public var fileExtension: String { gzip ? ".nii.gz" : ".nii" }

    /// Writes the volume to `path`; `description` goes to the header's descrip field (no identifiers).
    public func write(_ volume: Volume, to path: String, description: String = "dicomprep") throws(DicomPrepError) {
        var v = volume
        var slope = 1.0, inter = 0.0
        if storage == .scaledInt16, v.voxels.dataType == .float32 || v.voxels.dataType == .float64 {
            let e = ScaledInt16.encode(v.voxels.doubles)
            (slope, inter) = (e.slope, e.intercept)
            v.voxels = .int16(e.values)
        }
        var spec = NiftiHeaderSpec(dims: v.dims, datatype: v.voxels.dataType, pixdim: v.spacing + [1],
                                   affine: v.affine, description: String(description.prefix(79)))
        spec.sclSlope = slope
        spec.sclInter = inter
        var header: [UInt8]
        do throws(DicomPrepError) { header = try NiftiIO.header(spec) } catch { throw .io(path: path, reason: "cannot build the NIfTI header: \(error.reason)") }
        header += [0, 0, 0, 0] // no extensions; data at vox_offset 352
        if !gzip {
            let failure: DicomPrepError? = header.withUnsafeBytes { h -> DicomPrepError? in
                v.voxels.withBytes { d -> DicomPrepError? in
                    do throws(DicomPrepError) { try AtomicFile.write([h, d], to: path); return nil } catch { return error }
                }
            }
            if let failure { throw failure }
            return
        }
        // The header is one gzip member, the data further members compressed in parallel and written as
        // they are done: neither a copy of the data nor the whole compressed file is held.
        let level = compressionLevel, threads = threads
        let packedHeader = try header.withUnsafeBytes { h in catching { () throws(DicomPrepError) in try Gzip.compress(h, level: level, threads: 1) } }.get()
        let failure: DicomPrepError? = v.voxels.withBytes { d -> DicomPrepError? in
            catching { () throws(DicomPrepError) in
                try AtomicFile.stream(to: path) { (write) throws(DicomPrepError) in
                    try packedHeader.withUnsafeBytes { h in catching { () throws(DicomPrepError) in try write(h) } }.get()
                    try Gzip.compressMembers(d, level: level, threads: threads, emit: write)
                }
            }.failure
        }
        if let failure { throw failure }
    }

}

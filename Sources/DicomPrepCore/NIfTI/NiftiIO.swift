import CNifti

/// NIfTI datatypes dicomprep writes.
public enum NiftiDataType: String, Sendable, Codable, CaseIterable {
    case uint8, int16, uint16, int32, float32, float64

    var code: Int32 {
        switch self {
        case .uint8: return Int32(CN_UINT8)
        case .int16: return Int32(CN_INT16)
        case .uint16: return Int32(CN_UINT16)
        case .int32: return Int32(CN_INT32)
        case .float32: return Int32(CN_FLOAT32)
        case .float64: return Int32(CN_FLOAT64)
        }
    }
}

/// What goes into a NIfTI-1 header.
struct NiftiHeaderSpec {
    var dims: [Int]            // nx, ny, nz, nt
    var datatype: NiftiDataType
    var pixdim: [Double]       // dx, dy, dz, dt
    var affine: Matrix4        // voxel -> RAS mm
    var description: String
    var intentName: String = ""
    var calMin: Double = 0, calMax: Double = 0
    /// scl_slope / scl_inter: real value = stored * slope + inter (slope 1, inter 0: none).
    var sclSlope: Double = 1, sclInter: Double = 0
}

/// libnifti's view of a NIfTI file, read back.
public struct NiftiImage: Sendable {
    public var dims: [Int]          // dim[1...ndim]
    public var datatypeCode: Int
    public var niftiType: Int
    public var pixdim: [Double]     // pixdim[1...]
    public var sform: Matrix4
    public var qform: Matrix4
    public var sformCode: Int, qformCode: Int
    public var xyzUnits: Int
    public var sclSlope: Double, sclInter: Double
    public var descrip: String, intentName: String, auxFile: String
    public var extensionCount: Int
    /// Every voxel as stored (no scaling), x fastest; empty when only the header was read.
    public var values: [Double]

    /// Voxel values with scl_slope/scl_inter applied, as nibabel's get_fdata.
    public var scaledValues: [Double] {
        guard sclSlope != 0, !(sclSlope == 1 && sclInter == 0) else { return values }
        return values.map { $0 * sclSlope + sclInter }
    }
}

/// The only Swift code that calls libnifti.
public enum NiftiIO {
    static func header(_ spec: NiftiHeaderSpec) throws(DicomPrepError) -> [UInt8] {
        var s = cn_header_spec()
        let d = spec.dims + [Int](repeating: 1, count: max(0, 4 - spec.dims.count))
        s.dims = (Int64(d[0]), Int64(d[1]), Int64(d[2]), Int64(d[3]))
        s.datatype = spec.datatype.code
        let p = spec.pixdim + [Double](repeating: 0, count: max(0, 4 - spec.pixdim.count))
        s.pixdim = (p[0], p[1], p[2], p[3])
        withUnsafeMutableBytes(of: &s.affine) { raw in
            let b = raw.bindMemory(to: Double.self)
            for i in 0..<16 { b[i] = spec.affine.m[i] }
        }
        s.scl_slope = spec.sclSlope
        s.scl_inter = spec.sclInter
        s.cal_min = spec.calMin
        s.cal_max = spec.calMax
        copy(spec.description, into: &s.descrip)
        copy(spec.intentName, into: &s.intent_name)
        var out = [UInt8](repeating: 0, count: 348)
        var err = [CChar](repeating: 0, count: 256)
        guard cn_make_nifti1_header(&s, &out, &err, err.count) == CN_OK else {
            throw .io(path: "", reason: text(err))
        }
        return out
    }

    /// Reads a NIfTI file with libnifti; `withValues: false` reads the header only.
    public static func read(_ path: String, withValues: Bool = true) throws(DicomPrepError) -> NiftiImage {
        var info = cn_image_info()
        var err = [CChar](repeating: 0, count: 512)
        // First the header, to size the buffer.
        guard cn_read(path, &info, nil, 0, &err, err.count) == CN_OK else {
            throw .io(path: path, reason: "not a readable NIfTI file (\(text(err)))")
        }
        var values: [Double] = []
        let dims = withUnsafeBytes(of: info.dims) { Array($0.bindMemory(to: Int64.self)).map(Int.init) }
        let n = dims[1...max(1, min(7, dims[0]))].reduce(1, *)
        if withValues {
            values = [Double](repeating: 0, count: n)
            let rc = values.withUnsafeMutableBufferPointer { cn_read(path, &info, $0.baseAddress, n, &err, err.count) }
            guard rc == CN_OK else { throw .io(path: path, reason: text(err)) }
        }
        func mat(_ t: (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double)) -> Matrix4 {
            withUnsafeBytes(of: t) { Matrix4(rows: Array($0.bindMemory(to: Double.self))) }
        }
        let pixdim = withUnsafeBytes(of: info.pixdim) { Array($0.bindMemory(to: Double.self)) }
        return NiftiImage(
            dims: Array(dims[1...max(1, min(7, dims[0]))]), datatypeCode: Int(info.datatype), niftiType: Int(info.nifti_type),
            pixdim: Array(pixdim[1...]), sform: mat(info.sform), qform: mat(info.qform),
            sformCode: Int(info.sform_code), qformCode: Int(info.qform_code), xyzUnits: Int(info.xyz_units),
            sclSlope: info.scl_slope, sclInter: info.scl_inter,
            descrip: tupleText(info.descrip), intentName: tupleText(info.intent_name), auxFile: tupleText(info.aux_file),
            extensionCount: Int(info.num_ext), values: values)
    }

    private static func copy<T>(_ s: String, into tuple: inout T) {
        withUnsafeMutableBytes(of: &tuple) { raw in
            let bytes = Array(s.utf8.prefix(raw.count - 1))
            for i in 0..<raw.count { raw[i] = i < bytes.count ? bytes[i] : 0 }
        }
    }

    private static func tupleText<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func text(_ buf: [CChar]) -> String {
        String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

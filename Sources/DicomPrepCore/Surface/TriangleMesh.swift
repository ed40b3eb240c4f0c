import Foundation

/// A triangle surface: vertices (mm in world space once `transformed`) and counter-clockwise triangles
/// (outward normals by the right-hand rule).
public struct TriangleMesh: Sendable, Equatable {
    public var vertices: [Vector3]
    /// Three vertex indices per triangle.
    public var triangles: [Int32]

    public init(vertices: [Vector3], triangles: [Int32]) {
        self.vertices = vertices
        self.triangles = triangles
    }

    public var triangleCount: Int { triangles.count / 3 }

    @inline(__always) func corner(_ t: Int, _ c: Int) -> Vector3 { vertices[Int(triangles[3 * t + c])] }

    /// Total area (mm² in world space).
    public var area: Double {
        var a = 0.0
        for t in 0..<triangleCount { a += (corner(t, 1) - corner(t, 0)).cross(corner(t, 2) - corner(t, 0)).length / 2 }
        return a
    }

    /// Enclosed volume by the divergence theorem (positive for a closed surface with outward normals).
    public var volume: Double {
        var v = 0.0
        for t in 0..<triangleCount { v += corner(t, 0).dot(corner(t, 1).cross(corner(t, 2))) / 6 }
        return v
    }

    /// Whether every edge is shared by exactly two triangles that run it in opposite directions (a closed,
    /// consistently oriented surface).
    public var isClosedAndOriented: Bool {
        var count: [Int64: Int] = [:]
        count.reserveCapacity(triangles.count)
        for t in 0..<triangleCount {
            for c in 0..<3 {
                let a = Int64(triangles[3 * t + c]), b = Int64(triangles[3 * t + (c + 1) % 3])
                count[a << 32 | b, default: 0] += 1
            }
        }
        for (k, n) in count {
            let a = k >> 32, b = k & 0xffff_ffff
            if n != 1 || count[b << 32 | a] != 1 { return false }
        }
        return true
    }

    /// Vertices mapped by an affine (voxel index -> world mm); the winding is reversed when the affine
    /// mirrors, so normals stay outward.
    public func transformed(by m: Matrix4) -> TriangleMesh {
        var out = TriangleMesh(vertices: vertices.map { m.apply($0) }, triangles: triangles)
        let a = m.column(0), b = m.column(1), c = m.column(2)
        if a.dot(b.cross(c)) < 0 {
            for t in 0..<triangleCount { out.triangles.swapAt(3 * t + 1, 3 * t + 2) }
        }
        return out
    }

    /// Taubin's λ|μ smoothing (λ = 0.5, μ = −0.53): removes the voxel staircase without shrinking the surface.
    public func smoothed(iterations: Int) -> TriangleMesh {
        guard iterations > 0 else { return self }
        var neighbours = [[Int32]](repeating: [], count: vertices.count)
        for t in 0..<triangleCount {
            for c in 0..<3 {
                let a = Int(triangles[3 * t + c]), b = triangles[3 * t + (c + 1) % 3]
                if !neighbours[a].contains(b) { neighbours[a].append(b) }
                if !neighbours[Int(b)].contains(Int32(a)) { neighbours[Int(b)].append(Int32(a)) }
            }
        }
        var p = vertices
        for _ in 0..<iterations {
            for factor in [0.5, -0.53] {
                var q = p
                for v in 0..<p.count where !neighbours[v].isEmpty {
                    var mean = Vector3.zero
                    for n in neighbours[v] { mean = mean + p[Int(n)] }
                    mean = mean * (1 / Double(neighbours[v].count))
                    q[v] = p[v] + (mean - p[v]) * factor
                }
                p = q
            }
        }
        return TriangleMesh(vertices: p, triangles: triangles)
    }

    public enum Format: String, Sendable, CaseIterable { case stl, ply, obj, gifti = "gii" }

    public static func format(of path: String) -> Format? {
        let l = path.lowercased()
        if l.hasSuffix(".stl") { return .stl }
        if l.hasSuffix(".ply") { return .ply }
        if l.hasSuffix(".obj") { return .obj }
        if l.hasSuffix(".gii") { return .gifti }
        return nil
    }

    /// The file bytes in a format: binary STL, binary little-endian PLY, OBJ, or GIfTI (.surf.gii, base64
    /// little-endian arrays, NIFTI_INTENT_POINTSET + NIFTI_INTENT_TRIANGLE, scanner space).
    public func encoded(_ f: Format, name: String = "dicomprep") -> [UInt8] {
        var out: [UInt8] = []
        func f32(_ v: Double) { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { out += $0 } }
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
        switch f {
        case .stl:
            var header = Array("binary STL written by \(name)".utf8.prefix(80))
            header += [UInt8](repeating: 0, count: 80 - header.count)
            out += header
            u32(UInt32(triangleCount))
            for t in 0..<triangleCount {
                let a = corner(t, 0), b = corner(t, 1), c = corner(t, 2)
                let n = (b - a).cross(c - a).normalized
                for v in [n, a, b, c] { f32(v.x); f32(v.y); f32(v.z) }
                out += [0, 0]
            }
        case .ply:
            out += Array("ply\nformat binary_little_endian 1.0\ncomment written by \(name) (RAS mm)\nelement vertex \(vertices.count)\nproperty float x\nproperty float y\nproperty float z\nelement face \(triangleCount)\nproperty list uchar int vertex_indices\nend_header\n".utf8)
            for v in vertices { f32(v.x); f32(v.y); f32(v.z) }
            for t in 0..<triangleCount {
                out.append(3)
                for c in 0..<3 { u32(UInt32(bitPattern: triangles[3 * t + c])) }
            }
        case .obj:
            var s = "# written by \(name) (RAS mm)\n"
            s.reserveCapacity(vertices.count * 40 + triangles.count * 8)
            for v in vertices { s += "v \(Float(v.x)) \(Float(v.y)) \(Float(v.z))\n" }
            for t in 0..<triangleCount { s += "f \(triangles[3 * t] + 1) \(triangles[3 * t + 1] + 1) \(triangles[3 * t + 2] + 1)\n" }
            out = Array(s.utf8)
        case .gifti:
            var p: [UInt8] = [], tr: [UInt8] = []
            for v in vertices { for x in [v.x, v.y, v.z] { withUnsafeBytes(of: Float(x).bitPattern.littleEndian) { p += $0 } } }
            for i in triangles { withUnsafeBytes(of: i.littleEndian) { tr += $0 } }
            func array(_ intent: String, _ type: String, _ rows: Int, _ bytes: [UInt8], transform: Bool) -> String {
                let xform = transform ? """
                  <CoordinateSystemTransformMatrix>
                   <DataSpace><![CDATA[NIFTI_XFORM_SCANNER_ANAT]]></DataSpace>
                   <TransformedSpace><![CDATA[NIFTI_XFORM_SCANNER_ANAT]]></TransformedSpace>
                   <MatrixData>1 0 0 0 0 1 0 0 0 0 1 0 0 0 0 1</MatrixData>
                  </CoordinateSystemTransformMatrix>

                """ : ""
                return """
                 <DataArray Intent="\(intent)" DataType="\(type)" ArrayIndexingOrder="RowMajorOrder" Dimensionality="2" Dim0="\(rows)" Dim1="3" Encoding="Base64Binary" Endian="LittleEndian" ExternalFileName="" ExternalFileOffset="">
                  <MetaData></MetaData>
                \(xform)  <Data>\(Data(bytes).base64EncodedString())</Data>
                 </DataArray>

                """
            }
            let s = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE GIFTI SYSTEM "http://www.nitrc.org/frs/download.php/115/gifti.dtd">
            <GIFTI Version="1.0" NumberOfDataArrays="2">
             <MetaData>
              <MD><Name><![CDATA[Generator]]></Name><Value><![CDATA[\(name)]]></Value></MD>
             </MetaData>
             <LabelTable></LabelTable>
            \(array("NIFTI_INTENT_POINTSET", "NIFTI_TYPE_FLOAT32", vertices.count, p, transform: true))\(array("NIFTI_INTENT_TRIANGLE", "NIFTI_TYPE_INT32", triangleCount, tr, transform: false))</GIFTI>

            """
            out = Array(s.utf8)
        }
        return out
    }
}

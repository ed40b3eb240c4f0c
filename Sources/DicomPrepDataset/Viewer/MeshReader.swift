import DicomPrepCore
import Foundation

/// Reads the surface files dicomprep writes (and other tools' binary STL, binary little-endian or ASCII
/// PLY with triangle faces, OBJ, base64/ASCII GIfTI) back into a TriangleMesh, for the viewer.
public enum MeshReader {
    public static func read(_ path: String) throws(DicomPrepError) -> TriangleMesh {
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path: path, reason: "cannot be read") }
        let b = [UInt8](data)
        guard let format = TriangleMesh.format(of: path) else { throw .unsupported(path: path, reason: "not a .stl, .ply, .obj or .gii surface") }
        do throws(DicomPrepError) {
            switch format {
            case .stl: return try stl(b)
            case .ply: return try ply(b)
            case .obj: return try obj(String(decoding: b, as: UTF8.self))
            case .gifti: return try gifti(String(decoding: b, as: UTF8.self))
            }
        } catch {
            throw .corrupt(path: path, reason: error.reason)
        }
    }

    static func f32(_ b: [UInt8], _ o: Int) -> Double { Double(Float(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)) }
    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24 }

    static func stl(_ b: [UInt8]) throws(DicomPrepError) -> TriangleMesh {
        guard b.count >= 84 else { throw .corrupt(path: "", reason: "STL shorter than its header") }
        let n = Int(u32(b, 80))
        guard b.count >= 84 + 50 * n else { throw .corrupt(path: "", reason: "binary STL declares \(n) triangles but is \(b.count) bytes (ASCII STL is not read)") }
        var index: [String: Int32] = [:]
        var vertices: [Vector3] = [], triangles: [Int32] = []
        for t in 0..<n {
            for c in 0..<3 {
                let o = 84 + 50 * t + 12 + 12 * c
                let v = Vector3(f32(b, o), f32(b, o + 4), f32(b, o + 8))
                let key = "\(v.x),\(v.y),\(v.z)"
                if let i = index[key] { triangles.append(i) } else {
                    index[key] = Int32(vertices.count)
                    triangles.append(Int32(vertices.count))
                    vertices.append(v)
                }
            }
        }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }

    static func ply(_ b: [UInt8]) throws(DicomPrepError) -> TriangleMesh {
        guard let end = String(decoding: b.prefix(4096), as: UTF8.self).range(of: "end_header\n") else { throw .corrupt(path: "", reason: "no PLY header") }
        let header = String(decoding: b.prefix(4096), as: UTF8.self)[..<end.lowerBound]
        let body = Array(b[String(decoding: b.prefix(4096), as: UTF8.self)[..<end.upperBound].utf8.count...])
        var nv = 0, nf = 0, props = 0, binary = false
        var inVertex = false
        for line in header.split(separator: "\n") {
            let w = line.split(separator: " ")
            if w.first == "format" { binary = w.count > 1 && w[1] == "binary_little_endian"; if w.count > 1 && w[1] == "binary_big_endian" { throw .unsupported(path: "", reason: "big-endian PLY") } }
            if w.first == "element" && w.count == 3 { inVertex = w[1] == "vertex"; if w[1] == "vertex" { nv = Int(w[2]) ?? 0 } else if w[1] == "face" { nf = Int(w[2]) ?? 0 } }
            if w.first == "property" && inVertex {
                guard w.count == 3, w[1] == "float" || w[1] == "float32" else { throw .unsupported(path: "", reason: "PLY vertex properties other than float") }
                props += 1
            }
        }
        var vertices: [Vector3] = [], triangles: [Int32] = []
        if binary {
            var o = 0
            for _ in 0..<nv {
                guard o + 4 * props <= body.count else { throw .corrupt(path: "", reason: "PLY truncated in the vertices") }
                vertices.append(Vector3(f32(body, o), f32(body, o + 4), f32(body, o + 8)))
                o += 4 * props
            }
            for _ in 0..<nf {
                guard o < body.count else { throw .corrupt(path: "", reason: "PLY truncated in the faces") }
                let k = Int(body[o]); o += 1
                guard o + 4 * k <= body.count else { throw .corrupt(path: "", reason: "PLY truncated in the faces") }
                let idx = (0..<k).map { Int32(bitPattern: u32(body, o + 4 * $0)) }
                o += 4 * k
                for i in 1..<max(1, k - 1) { triangles += [idx[0], idx[i], idx[i + 1]] }
            }
        } else {
            let lines = String(decoding: body, as: UTF8.self).split(separator: "\n")
            guard lines.count >= nv + nf else { throw .corrupt(path: "", reason: "PLY truncated") }
            for l in lines.prefix(nv) { let v = l.split(separator: " ").compactMap { Double($0) }; vertices.append(Vector3(v[0], v[1], v[2])) }
            for l in lines.dropFirst(nv).prefix(nf) {
                let v = l.split(separator: " ").compactMap { Int32($0) }
                guard let k = v.first, v.count == Int(k) + 1 else { continue }
                for i in 2..<Int(k) { triangles += [v[1], v[i], v[i + 1]] }
            }
        }
        guard triangles.allSatisfy({ $0 >= 0 && Int($0) < vertices.count }) else { throw .corrupt(path: "", reason: "PLY face index out of range") }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }

    static func obj(_ s: String) throws(DicomPrepError) -> TriangleMesh {
        var vertices: [Vector3] = [], triangles: [Int32] = []
        for line in s.split(separator: "\n") {
            let w = line.split(separator: " ")
            if w.first == "v", w.count >= 4, let x = Double(w[1]), let y = Double(w[2]), let z = Double(w[3]) { vertices.append(Vector3(x, y, z)) }
            if w.first == "f", w.count >= 4 {
                let idx = w.dropFirst().compactMap { Int32($0.split(separator: "/").first ?? "") }.map { $0 > 0 ? $0 - 1 : Int32(vertices.count) + $0 }
                for i in 1..<(idx.count - 1) { triangles += [idx[0], idx[i], idx[i + 1]] }
            }
        }
        guard triangles.allSatisfy({ $0 >= 0 && Int($0) < vertices.count }) else { throw .corrupt(path: "", reason: "OBJ face index out of range") }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }

    static func gifti(_ s: String) throws(DicomPrepError) -> TriangleMesh {
        // The two DataArrays' Data elements (base64 little-endian, or ASCII).
        var arrays: [(intent: String, encoding: String, data: String)] = []
        var rest = Substring(s)
        while let open = rest.range(of: "<DataArray") {
            guard let close = rest.range(of: "</DataArray>", range: open.upperBound..<rest.endIndex) else { break }
            let block = rest[open.lowerBound..<close.upperBound]
            func attr(_ n: String) -> String {
                guard let r = block.range(of: n + "=\"") else { return "" }
                return String(block[r.upperBound...].prefix { $0 != "\"" })
            }
            var data = ""
            if let d0 = block.range(of: "<Data>"), let d1 = block.range(of: "</Data>") { data = String(block[d0.upperBound..<d1.lowerBound]) }
            arrays.append((attr("Intent"), attr("Encoding"), data.trimmingCharacters(in: .whitespacesAndNewlines)))
            rest = rest[close.upperBound...]
        }
        guard let p = arrays.first(where: { $0.intent == "NIFTI_INTENT_POINTSET" }), let t = arrays.first(where: { $0.intent == "NIFTI_INTENT_TRIANGLE" }) else {
            throw .corrupt(path: "", reason: "GIfTI without a POINTSET and a TRIANGLE array")
        }
        func numbers(_ a: (intent: String, encoding: String, data: String), float: Bool) throws(DicomPrepError) -> [Double] {
            if a.encoding == "ASCII" { return a.data.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) } }
            guard a.encoding == "Base64Binary", let d = Data(base64Encoded: a.data, options: .ignoreUnknownCharacters) else {
                throw .unsupported(path: "", reason: "GIfTI encoding \(a.encoding) (Base64Binary and ASCII are read)")
            }
            let b = [UInt8](d)
            return (0..<(b.count / 4)).map { float ? f32(b, 4 * $0) : Double(Int32(bitPattern: u32(b, 4 * $0))) }
        }
        let pv = try numbers(p, float: true), tv = try numbers(t, float: false)
        let vertices = (0..<(pv.count / 3)).map { Vector3(pv[3 * $0], pv[3 * $0 + 1], pv[3 * $0 + 2]) }
        let triangles = tv.map { Int32($0) }
        guard triangles.allSatisfy({ $0 >= 0 && Int($0) < vertices.count }) else { throw .corrupt(path: "", reason: "GIfTI triangle index out of range") }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }
}

/// Marching cubes over a 3D grid (x fastest): the iso-surface between voxels above `level` (inside) and
/// the rest, as triangles with outward normals (pointing to lower values), vertices interpolated linearly
/// on cube edges and shared between neighbouring cubes. The 256-case table is derived at start-up from
/// one rule instead of typed in: on every cube face the contour separates the inside corners (the
/// resolution of ambiguous faces depends on the face alone, so neighbouring cubes agree and the surface is
/// closed); segments are oriented with the inside on their left and chained into loops. Outside the grid
/// counts as outside, so every surface is closed.
public enum MarchingCubes {
    static let corners: [(Int, Int, Int)] = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
    static let edges: [(Int, Int)] = [(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)]

    /// Faces as corner cycles, counter-clockwise seen from outside the cube.
    static let faces: [[Int]] = {
        let raw = [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 5, 4], [3, 2, 6, 7], [0, 3, 7, 4], [1, 2, 6, 5]]
        return raw.map { f in
            // Orient by the outward direction (face centre minus cube centre).
            func p(_ c: Int) -> Vector3 { Vector3(Double(corners[c].0), Double(corners[c].1), Double(corners[c].2)) }
            let centre = (p(f[0]) + p(f[1]) + p(f[2]) + p(f[3])) * 0.25
            let n = (p(f[1]) - p(f[0])).cross(p(f[2]) - p(f[1]))
            return n.dot(centre - Vector3(0.5, 0.5, 0.5)) > 0 ? f : f.reversed()
        }
    }()

    static func edge(_ a: Int, _ b: Int) -> Int { edges.firstIndex { ($0.0 == a && $0.1 == b) || ($0.0 == b && $0.1 == a) }! }

    /// Per configuration (bit c = corner c inside): triangles as triples of cube-edge indices.
    static let table: [[Int]] = (0..<256).map { config in
        func inside(_ c: Int) -> Bool { config & (1 << c) != 0 }
        var next: [Int: Int] = [:]
        for f in faces {
            // Crossings in counter-clockwise order: (edge, isExit).
            var crossings: [(Int, Bool)] = []
            for i in 0..<4 {
                let a = f[i], b = f[(i + 1) % 4]
                if inside(a) != inside(b) { crossings.append((edge(a, b), inside(a))) }
            }
            // Each exit joins the entry just before it: the contour cuts off each inside corner run.
            for (i, c) in crossings.enumerated() where c.1 {
                let entry = crossings[(i + crossings.count - 1) % crossings.count]
                next[c.0] = entry.0
            }
        }
        var triangles: [Int] = []
        var used = Set<Int>()
        for start in next.keys.sorted() where !used.contains(start) {
            var loop = [start]
            used.insert(start)
            var e = next[start]!
            while e != start {
                loop.append(e)
                used.insert(e)
                e = next[e]!
            }
            // The loop turns around the inside: reverse it so the normal points outwards.
            loop.reverse()
            for i in 1..<(loop.count - 1) { triangles += [loop[0], loop[i], loop[i + 1]] }
        }
        return triangles
    }

    /// The surface of `values > level` on a grid of `dims`, vertices in voxel index coordinates.
    public static func extract(_ values: [Float], dims d: [Int], level: Float) -> TriangleMesh {
        let nx = d[0], ny = d[1], nz = d[2]
        var vertices: [Vector3] = []
        var triangles: [Int32] = []
        // Vertex per grid edge: key = voxel index * 3 + axis (edges of the virtual grid padded by one voxel).
        var vertexOf: [Int: Int32] = [:]
        let px = nx + 2, py = ny + 2
        @inline(__always) func value(_ i: Int, _ j: Int, _ k: Int) -> Float {
            if i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz { return -Float.infinity }
            return values[i + nx * (j + ny * k)]
        }
        let table = Self.table
        var cube = [Float](repeating: 0, count: 8)
        for k in -1..<nz {
            for j in -1..<ny {
                for i in -1..<nx {
                    var config = 0
                    for c in 0..<8 {
                        let o = corners[c]
                        cube[c] = value(i + o.0, j + o.1, k + o.2)
                        if cube[c] > level { config |= 1 << c }
                    }
                    if config == 0 || config == 255 { continue }
                    for e in table[config] {
                        let (a, b) = edges[e]
                        let oa = corners[a], ob = corners[b]
                        let ia = i + oa.0, ja = j + oa.1, ka = k + oa.2
                        let axis = ob.0 != oa.0 ? 0 : (ob.1 != oa.1 ? 1 : 2)
                        // The lower end of the grid edge names it.
                        let lo = axis == 0 ? min(ia, i + ob.0) : ia, lj = axis == 1 ? min(ja, j + ob.1) : ja, lk = axis == 2 ? min(ka, k + ob.2) : ka
                        let key = ((lo + 1) + px * ((lj + 1) + py * (lk + 1))) * 3 + axis
                        if let v = vertexOf[key] { triangles.append(v); continue }
                        let va = cube[a], vb = cube[b]
                        var t: Float
                        if va == -Float.infinity { t = 1 } else if vb == -Float.infinity { t = 0 } else { t = (level - va) / (vb - va) }
                        // Outside the grid: the vertex sits on the border voxel.
                        if !t.isFinite { t = 0.5 }
                        let pa = Vector3(Double(ia), Double(ja), Double(ka)), pb = Vector3(Double(i + ob.0), Double(j + ob.1), Double(k + ob.2))
                        let p = pa + (pb - pa) * Double(t)
                        let idx = Int32(vertices.count)
                        vertices.append(p)
                        vertexOf[key] = idx
                        triangles.append(idx)
                    }
                }
            }
        }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }
}

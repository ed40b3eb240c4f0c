/// Quadric-error edge collapse (Garland & Heckbert 1997) down to a target triangle count. A collapse is
/// refused when it would flip a neighbouring triangle or break the surface's manifoldness (the link
/// condition), so a closed, consistently oriented surface stays closed and oriented.
public enum MeshDecimator {
    /// A symmetric 4×4 quadric as its 10 distinct entries.
    struct Quadric {
        var q = [Double](repeating: 0, count: 10)
        mutating func add(plane n: Vector3, d: Double, weight: Double) {
            let p = [n.x, n.y, n.z, d]
            var k = 0
            for i in 0..<4 { for j in i..<4 { q[k] += weight * p[i] * p[j]; k += 1 } }
        }
        static func + (a: Quadric, b: Quadric) -> Quadric { var c = a; for i in 0..<10 { c.q[i] += b.q[i] }; return c }
        func error(_ v: Vector3) -> Double {
            let x = [v.x, v.y, v.z, 1.0]
            var e = 0.0, k = 0
            for i in 0..<4 { for j in i..<4 { e += (i == j ? 1 : 2) * q[k] * x[i] * x[j]; k += 1 } }
            return e
        }
    }

    struct Candidate: Comparable {
        var cost: Double
        var a: Int32, b: Int32
        var stamp: Int
        static func < (l: Candidate, r: Candidate) -> Bool { l.cost < r.cost }
    }

    /// A binary min-heap.
    struct Heap {
        var items: [Candidate] = []
        mutating func push(_ c: Candidate) {
            items.append(c)
            var i = items.count - 1
            while i > 0 { let p = (i - 1) / 2; if items[i] < items[p] { items.swapAt(i, p); i = p } else { break } }
        }
        mutating func pop() -> Candidate? {
            guard !items.isEmpty else { return nil }
            let top = items[0]
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var m = i
                    if l < items.count && items[l] < items[m] { m = l }
                    if r < items.count && items[r] < items[m] { m = r }
                    if m == i { break }
                    items.swapAt(i, m)
                    i = m
                }
            }
            return top
        }
    }

    public static func decimate(_ mesh: TriangleMesh, targetTriangles target: Int) -> TriangleMesh {
        var pos = mesh.vertices
        var tris: [[Int32]] = []
        tris.reserveCapacity(mesh.triangleCount)
        for t in 0..<mesh.triangleCount {
            let i = 3 * t
            tris.append([mesh.triangles[i], mesh.triangles[i + 1], mesh.triangles[i + 2]])
        }
        var alive = [Bool](repeating: true, count: tris.count)
        var live = tris.count
        var around = [Set<Int>](repeating: [], count: pos.count)
        for (t, tr) in tris.enumerated() { for v in tr { around[Int(v)].insert(t) } }
        var quadric = [Quadric](repeating: Quadric(), count: pos.count)
        func normal(_ tr: [Int32]) -> Vector3 {
            (pos[Int(tr[1])] - pos[Int(tr[0])]).cross(pos[Int(tr[2])] - pos[Int(tr[0])])
        }
        for tr in tris {
            let n = normal(tr), area = n.length
            guard area > 0 else { continue }
            let u = n * (1 / area)
            for v in tr { quadric[Int(v)].add(plane: u, d: -u.dot(pos[Int(tr[0])]), weight: area) }
        }
        var stamp = [Int](repeating: 0, count: pos.count)
        func neighbours(_ v: Int) -> Set<Int32> {
            var s = Set<Int32>()
            for t in around[v] { for w in tris[t] where Int(w) != v { s.insert(w) } }
            return s
        }
        func best(_ a: Int, _ b: Int) -> (Vector3, Double) {
            let q = quadric[a] + quadric[b]
            let m = (pos[a] + pos[b]) * 0.5
            return [pos[a], pos[b], m].map { ($0, q.error($0)) }.min { $0.1 < $1.1 }!
        }
        var heap = Heap()
        func enqueue(_ a: Int) {
            for b in neighbours(a) {
                let (_, c) = best(a, Int(b))
                heap.push(Candidate(cost: c, a: Int32(a), b: b, stamp: stamp[a] &+ stamp[Int(b)] &* 31))
            }
        }
        for v in 0..<pos.count { enqueue(v) }
        while live > target, let c = heap.pop() {
            let a = Int(c.a), b = Int(c.b)
            guard c.stamp == stamp[a] &+ stamp[b] &* 31, !around[a].isEmpty, !around[b].isEmpty else { continue }
            let shared = around[a].intersection(around[b])
            guard !shared.isEmpty else { continue }
            // Link condition: the common neighbours are exactly the far corners of the shared triangles.
            let common = neighbours(a).intersection(neighbours(b))
            guard common.count == shared.count else { continue }
            let (p, _) = best(a, b)
            // No flipped or degenerate neighbour.
            var ok = true
            for t in around[a].union(around[b]) where !shared.contains(t) {
                let before = normal(tris[t])
                var tr = tris[t]
                for k in 0..<3 where tr[k] == Int32(a) || tr[k] == Int32(b) { tr[k] = -1 }
                let saved = pos.count
                pos.append(p)
                for k in 0..<3 where tr[k] == -1 { tr[k] = Int32(saved) }
                let after = normal(tr)
                pos.removeLast()
                if after.dot(before) <= 0 || after.length < 1e-12 { ok = false; break }
            }
            guard ok else { continue }
            // Collapse b into a.
            pos[a] = p
            quadric[a] = quadric[a] + quadric[b]
            for t in shared { alive[t] = false; live -= 1; for v in tris[t] { around[Int(v)].remove(t) } }
            for t in around[b] {
                for k in 0..<3 where tris[t][k] == Int32(b) { tris[t][k] = Int32(a) }
                around[a].insert(t)
            }
            around[b] = []
            stamp[a] &+= 1
            stamp[b] &+= 1
            for n in neighbours(a) { stamp[Int(n)] &+= 1 }
            enqueue(a)
            for n in neighbours(a) { enqueue(Int(n)) }
        }
        // Compact.
        var newIndex = [Int32](repeating: -1, count: pos.count)
        var vertices: [Vector3] = []
        var triangles: [Int32] = []
        for (t, tr) in tris.enumerated() where alive[t] {
            for v in tr {
                if newIndex[Int(v)] < 0 { newIndex[Int(v)] = Int32(vertices.count); vertices.append(pos[Int(v)]) }
                triangles.append(newIndex[Int(v)])
            }
        }
        return TriangleMesh(vertices: vertices, triangles: triangles)
    }
}

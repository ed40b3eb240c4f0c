/// A 4x4 affine matrix, row-major: voxel (i, j, k, 1) -> world (x, y, z, 1) in millimetres.
public struct Matrix4: Sendable, Equatable, Codable {
    public var m: [Double]

    public init(rows: [Double]) {
        precondition(rows.count == 16)
        m = rows
    }
    public static let identity = Matrix4(rows: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])

    /// An affine whose columns are the world steps of i, j, k and whose last column is the origin.
    public init(columns c0: Vector3, _ c1: Vector3, _ c2: Vector3, origin: Vector3) {
        m = [c0.x, c1.x, c2.x, origin.x, c0.y, c1.y, c2.y, origin.y, c0.z, c1.z, c2.z, origin.z, 0, 0, 0, 1]
    }

    public subscript(r: Int, c: Int) -> Double {
        get { m[r * 4 + c] }
        set { m[r * 4 + c] = newValue }
    }

    public func column(_ c: Int) -> Vector3 { Vector3(m[c], m[4 + c], m[8 + c]) }

    public static func * (a: Matrix4, b: Matrix4) -> Matrix4 {
        var r = [Double](repeating: 0, count: 16)
        for i in 0..<4 { for j in 0..<4 { var s = 0.0; for k in 0..<4 { s += a.m[i * 4 + k] * b.m[k * 4 + j] }; r[i * 4 + j] = s } }
        return Matrix4(rows: r)
    }

    /// The world position of a voxel index.
    public func apply(_ v: Vector3) -> Vector3 {
        Vector3(m[0] * v.x + m[1] * v.y + m[2] * v.z + m[3],
                m[4] * v.x + m[5] * v.y + m[6] * v.z + m[7],
                m[8] * v.x + m[9] * v.y + m[10] * v.z + m[11])
    }

    /// The inverse of an affine (nil when singular).
    public var inverse: Matrix4? {
        let a = m
        let det3 = a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8])
        guard abs(det3) > 1e-12 else { return nil }
        let inv = 1 / det3
        var r = [Double](repeating: 0, count: 16)
        r[0] = (a[5] * a[10] - a[6] * a[9]) * inv
        r[1] = (a[2] * a[9] - a[1] * a[10]) * inv
        r[2] = (a[1] * a[6] - a[2] * a[5]) * inv
        r[4] = (a[6] * a[8] - a[4] * a[10]) * inv
        r[5] = (a[0] * a[10] - a[2] * a[8]) * inv
        r[6] = (a[2] * a[4] - a[0] * a[6]) * inv
        r[8] = (a[4] * a[9] - a[5] * a[8]) * inv
        r[9] = (a[1] * a[8] - a[0] * a[9]) * inv
        r[10] = (a[0] * a[5] - a[1] * a[4]) * inv
        for i in 0..<3 { r[i * 4 + 3] = -(r[i * 4] * a[3] + r[i * 4 + 1] * a[7] + r[i * 4 + 2] * a[11]) }
        r[15] = 1
        return Matrix4(rows: r)
    }

    /// The rows as nested arrays, for JSON.
    public var nested: [[Double]] { (0..<4).map { Array(m[($0 * 4)..<($0 * 4 + 4)]) } }

    /// Axis codes ("R"/"L", "A"/"P", "S"/"I") that each voxel axis points to most, as nibabel's aff2axcodes.
    public var axisCodes: String {
        let orient = Orientation.of(self)
        return String(orient.map { $0.code })
    }
}

/// Where one voxel axis points: world axis 0/1/2 (x=R, y=A, z=S) and its sign.
public struct AxisDirection: Sendable, Equatable {
    public var worldAxis: Int
    public var positive: Bool
    public var code: Character {
        switch (worldAxis, positive) {
        case (0, true): return "R"
        case (0, false): return "L"
        case (1, true): return "A"
        case (1, false): return "P"
        case (2, true): return "S"
        default: return "I"
        }
    }
}

/// The orientation of an affine's voxel axes (RAS world), chosen as nibabel's io_orientation does:
/// voxel axes in order each take the world axis their (normalised) column points to most, among those
/// not yet taken.
public enum Orientation {
    public static func of(_ a: Matrix4) -> [AxisDirection] {
        let cols = (0..<3).map { a.column($0).normalized }
        var usedWorld = Set<Int>()
        var result: [AxisDirection] = []
        for v in 0..<3 {
            var best = -1, mag = -1.0
            for w in 0..<3 where !usedWorld.contains(w) && abs(cols[v][w]) > mag {
                best = w
                mag = abs(cols[v][w])
            }
            result.append(AxisDirection(worldAxis: best, positive: cols[v][best] >= 0))
            usedWorld.insert(best)
        }
        return result
    }

    /// Parses "RAS", "LPS", ... into the direction each output axis must have.
    public static func parse(_ code: String) -> [AxisDirection]? {
        let chars = Array(code.uppercased())
        guard chars.count == 3 else { return nil }
        var dirs: [AxisDirection] = []
        for c in chars {
            switch c {
            case "R": dirs.append(AxisDirection(worldAxis: 0, positive: true))
            case "L": dirs.append(AxisDirection(worldAxis: 0, positive: false))
            case "A": dirs.append(AxisDirection(worldAxis: 1, positive: true))
            case "P": dirs.append(AxisDirection(worldAxis: 1, positive: false))
            case "S": dirs.append(AxisDirection(worldAxis: 2, positive: true))
            case "I": dirs.append(AxisDirection(worldAxis: 2, positive: false))
            default: return nil
            }
        }
        guard Set(dirs.map(\.worldAxis)).count == 3 else { return nil }
        return dirs
    }
}

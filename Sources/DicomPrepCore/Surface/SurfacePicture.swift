/// A shaded picture of a surface for reports (no GPU): orthographic views from the front (anterior), the
/// right and above, rasterised with a z-buffer and Lambert shading.
public enum SurfacePicture {
    public static func render(_ mesh: TriangleMesh, size: Int = 320, color: [Double] = [0.91, 0.79, 0.63]) -> RasterImage {
        // View directions (towards the viewer) and screen axes (right, up), RAS.
        let views: [(Vector3, Vector3, Vector3)] = [
            (Vector3(0, 1, 0), Vector3(-1, 0, 0), Vector3(0, 0, 1)),   // anterior view: patient's right on the left
            (Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)),    // from the right
            (Vector3(0, 0, 1), Vector3(1, 0, 0), Vector3(0, 1, 0)),    // from above
        ]
        var img = RasterImage(width: size * 3 + 8, height: size, channels: 3, fill: 20)
        guard mesh.triangleCount > 0 else { return img }
        var lo = Vector3(.infinity, .infinity, .infinity), hi = Vector3(-.infinity, -.infinity, -.infinity)
        for v in mesh.vertices { lo = Vector3(min(lo.x, v.x), min(lo.y, v.y), min(lo.z, v.z)); hi = Vector3(max(hi.x, v.x), max(hi.y, v.y), max(hi.z, v.z)) }
        let centre = (lo + hi) * 0.5, extent = max(hi.x - lo.x, hi.y - lo.y, hi.z - lo.z, 1e-6)
        let scale = Double(size) * 0.9 / extent
        for (k, (dir, right, up)) in views.enumerated() {
            var depth = [Double](repeating: -.infinity, count: size * size)
            let ox = k * (size + 4)
            for t in 0..<mesh.triangleCount {
                let p = (0..<3).map { mesh.corner(t, $0) }
                let n = (p[1] - p[0]).cross(p[2] - p[0])
                let len = n.length
                guard len > 0 else { continue }
                let facing = n.dot(dir) / len
                guard facing > 0 else { continue }  // back faces of a closed surface are hidden
                let shade = 0.25 + 0.75 * facing
                let s = p.map { q -> (Double, Double, Double) in
                    let d = q - centre
                    return (Double(size) / 2 + d.dot(right) * scale, Double(size) / 2 - d.dot(up) * scale, d.dot(dir))
                }
                let minX = max(0, Int(min(s[0].0, s[1].0, s[2].0))), maxX = min(size - 1, Int(max(s[0].0, s[1].0, s[2].0)) + 1)
                let minY = max(0, Int(min(s[0].1, s[1].1, s[2].1))), maxY = min(size - 1, Int(max(s[0].1, s[1].1, s[2].1)) + 1)
                let area = (s[1].0 - s[0].0) * (s[2].1 - s[0].1) - (s[2].0 - s[0].0) * (s[1].1 - s[0].1)
                guard abs(area) > 1e-12, minX <= maxX, minY <= maxY else { continue }
                for y in minY...maxY {
                    for x in minX...maxX {
                        let px = Double(x) + 0.5, py = Double(y) + 0.5
                        let w0 = ((s[1].0 - px) * (s[2].1 - py) - (s[2].0 - px) * (s[1].1 - py)) / area
                        let w1 = ((s[2].0 - px) * (s[0].1 - py) - (s[0].0 - px) * (s[2].1 - py)) / area
                        let w2 = 1 - w0 - w1
                        guard w0 >= 0, w1 >= 0, w2 >= 0 else { continue }
                        let z = w0 * s[0].2 + w1 * s[1].2 + w2 * s[2].2
                        let i = y * size + x
                        if z > depth[i] {
                            depth[i] = z
                            img[ox + x, y] = color.map { UInt8(min(255, $0 * shade * 255)) }
                        }
                    }
                }
            }
        }
        return img
    }
}

import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepLearning

/// The augmentation that thickens and thins the layers around the foreground (`layerStretch`).
final class LayerStretchTests: XCTestCase {
    /// A ball of radius 12 voxels (1 mm) with a shell 3-6 mm outside it (value 1, "skull") and nothing
    /// between ("CSF", 0); the ball is 0.25.
    static func shellCase() -> PreparedCase {
        let n = 49, centre = 24
        var img = [Float](repeating: 0, count: n * n * n), lab = [UInt8](repeating: 0, count: img.count)
        for k in 0..<n { for j in 0..<n { for i in 0..<n {
            let r = Double((i - centre) * (i - centre) + (j - centre) * (j - centre) + (k - centre) * (k - centre)).squareRoot()
            if r < 12 { lab[i + n * (j + n * k)] = 1; img[i + n * (j + n * k)] = 0.25 }
        } } }
        var c = PreparedCase(id: "shell", dims: [n, n, n], spacing: [1, 1, 1], image: img, label: lab)
        c.computeOutsideDistance()
        for v in img.indices where c.outsideDistance[v] > 3 && c.outsideDistance[v] <= 6 { c.image[v] = 1 }
        c.foreground = [Int32(centre + n * (centre + n * centre))]
        c.background = []
        return c
    }

    func testLayersOutsideTheForegroundThickenAndThinWhileItStaysPut() {
        let c = Self.shellCase()
        XCTAssertEqual(c.outsideDistance[24 + 49 * (24 + 49 * 24)], 0)
        XCTAssertEqual(c.outsideDistance[(24 + 15) + 49 * (24 + 49 * 24)], 4, accuracy: 1e-6, "r 15 is 4 mm from the ball's last voxel at r 11")
        var plain = SegmentationAugmentation.none
        plain.positive = 1
        plain.negative = 0
        var stretched = plain
        stretched.layerStretch = 0.6
        stretched.warpControlMM = 20
        let size = [47, 47, 47], half = 23
        func at(_ p: [Float], _ i: Int, _ j: Int, _ k: Int) -> Float { p[(i * size[1] + j) * size[2] + k] }
        // Where the shell starts along the six axis rays from the ball's centre: the crossing of 0.5, in voxels
        // from the centre, interpolated between the voxels either side.
        func edges(_ p: [Float]) -> [Double] {
            let dirs = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
            return dirs.map { d in
                let v = (0...22).map { at(p, half + d.0 * $0, half + d.1 * $0, half + d.2 * $0) }
                guard let r = (13...22).first(where: { v[$0] >= 0.5 }) else { return -1 }
                return Double(r) - Double(v[r] - 0.5) / Double(max(v[r] - v[r - 1], 1e-6))
            }
        }
        var r0 = SeededRandom(seed: 1)
        let reference = plain.patch(c, size: size, rng: &r0)
        XCTAssertEqual(edges(reference.image), [14.5, 14.5, 14.5, 14.5, 14.5, 14.5], "the shell starts 4 mm out (r 15) without the stretch")
        var seen: [Double] = []
        for s in 0..<10 {
            var r1 = SeededRandom(seed: UInt64(100 + s)), r2 = SeededRandom(seed: UInt64(100 + s))
            let a = plain.patch(c, size: size, rng: &r1), b = stretched.patch(c, size: size, rng: &r2)
            XCTAssertTrue(a.label == b.label, "the labels do not move")
            XCTAssertTrue(a.label.indices.allSatisfy { a.label[$0] == 0 || a.image[$0] == b.image[$0] }, "the ball does not change")
            let e = edges(b.image)
            // s in ±0.6 and d counted from a voxel beyond the ball's last voxel (r 12): f(d) = d (1 + s (1 - d/15))
            // reaches the shell's edge (d 2.5 from there) at d 1.8 ... 3.6, i.e. r 13.8 ... 15.6.
            for x in e { XCTAssertTrue((13.7...15.7).contains(x), "shell edge at r \(x): \(e)") }
            // The layer inside the ball's edge ramp (r 11 to 12) is untouched.
            for r in 0...12 { XCTAssertEqual(at(b.image, half + r, half, half), at(a.image, half + r, half, half)) }
            seen += e
        }
        XCTAssertLessThan(seen.min() ?? 99, 14.2, "the layer between ball and shell gets thinner in places: \(seen)")
        XCTAssertGreaterThan(seen.max() ?? 0, 14.8, "and thicker in others: \(seen)")

        // Off (0 or absent), and no distance map: the same patches as before the option existed.
        var off = plain
        off.layerStretch = 0
        var r3 = SeededRandom(seed: 1)
        XCTAssertTrue(off.patch(c, size: size, rng: &r3).image == reference.image)
        var noMap = c
        noMap.outsideDistance = []
        var r4 = SeededRandom(seed: 1), r5 = SeededRandom(seed: 1)
        XCTAssertTrue(stretched.patch(noMap, size: size, rng: &r4).image == plain.patch(noMap, size: size, rng: &r5).image)
    }

    func testTheShiftFollowsTheDistanceMonotonicallyAndStaysOutside() {
        // A half-space: the foreground is x <= 10 on a 2 mm x 1 mm x 1 mm grid; a point d mm out moves to f(d) mm out.
        let nx = 40, ny = 5, nz = 5, sp = [2.0, 1.0, 1.0]
        var dist = [Float](repeating: 0, count: nx * ny * nz)
        for k in 0..<nz { for j in 0..<ny { for i in 0..<nx { dist[i + nx * (j + ny * k)] = Float(max(0, Double(i - 10) * sp[0])) } } }
        func shift(_ d: UnsafeBufferPointer<Float>, _ x: Double, _ s: Float) -> (Double, Double, Double) {
            let x0 = min(Int(x), nx - 2)
            return SegmentationAugmentation.layerShift(d, nx, ny, nz, sp, x, 2, 2, x0, 2, 2, Float(x - Double(x0)), 0, 0, band: 15) { s }
        }
        dist.withUnsafeBufferPointer { d in
            for s in stride(from: Float(-0.9), through: 0.9, by: 0.3) {
                var last = -Double.infinity
                for x in stride(from: 8.0, through: 19, by: 0.25) {
                    let m = shift(d, x, s)
                    XCTAssertEqual(m.1, 0)
                    XCTAssertEqual(m.2, 0)
                    // d counts from one voxel (2 mm) beyond the last foreground voxel at x 10.
                    let din = (x - 10) * sp[0] - 2, out = (x + m.0 - 10) * sp[0] - 2
                    let f = din > 0 && din < 15 ? din * (1 + Double(s) * (1 - din / 15)) : din
                    XCTAssertEqual(out, f, accuracy: 1e-4, "s \(s), d \(din)")
                    XCTAssertGreaterThan(out, last, "monotonic")
                    if din > 0 { XCTAssertGreaterThan(out, 0, "stays beyond the edge") } else { XCTAssertEqual(m.0, 0, "the edge and the inside stay") }
                    last = out
                }
            }
        }
    }
}

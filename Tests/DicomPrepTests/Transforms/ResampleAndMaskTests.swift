import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// World-space resampling, intensity scaling, label operations, distance transforms, mask recipes and
/// segmentation metrics against hand-made truths.
final class ResampleAndMaskTests: XCTestCase {
    func volume(_ d: [Int], affine: Matrix4, _ f: (Int, Int, Int) -> Float) -> Volume {
        var v = [Float](repeating: 0, count: d.reduce(1, *))
        for k in 0..<d[2] { for j in 0..<d[1] { for i in 0..<d[0] { v[i + d[0] * (j + d[1] * k)] = f(i, j, k) } } }
        return Volume(dims: d + [1], voxels: .float32(v), affine: affine)
    }

    func testResamplingOntoItsOwnGridOrAPermutedOneKeepsEveryValue() throws {
        let a = Matrix4(columns: Vector3(0, -1.2, 0), Vector3(0, 0, -2), Vector3(0.9, 0, 0), origin: Vector3(10, 40, 30))
        let v = volume([7, 6, 5], affine: a) { i, j, k in Float(i * 100 + j * 10 + k) }
        let same = try ResampleToGrid(VoxelGrid(of: v)).apply(v)
        XCTAssertEqual(same.floatValues, v.floatValues)
        // Onto the RAS permutation of the same voxels: the same values as Reorient gives.
        let ras = try Reorient("RAS").apply(v)
        for interp in [ResampleToGrid.Interpolation.linear, .nearest] {
            let r = try ResampleToGrid(VoxelGrid(of: ras), interpolation: interp).apply(v)
            XCTAssertEqual(zip(r.floatValues, ras.floatValues).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-4, "\(interp)")
        }
        // The canonical grid covers the volume and is axis-aligned RAS at the asked spacing.
        let g = VoxelGrid.canonical(covering: VoxelGrid(of: v), spacing: [1, 1, 1])
        XCTAssertEqual(g.affine.axisCodes, "RAS")
        XCTAssertEqual(g.spacing, [1, 1, 1])
        XCTAssertEqual(g.dims, [Int((5 * 0.9).rounded(.up)), Int((7 * 1.2).rounded(.up)), 12])
    }

    func testLinearResamplingOfALinearRampIsExactInside() throws {
        let a = Matrix4(columns: Vector3(2, 0, 0), Vector3(0, 2, 0), Vector3(0, 0, 3), origin: Vector3(0, 0, 0))
        let v = volume([10, 10, 8], affine: a) { i, j, k in Float(2 * i) + Float(3 * j) - Float(k) }
        // A finer, rotated grid inside the volume: value = the ramp at the world point.
        let c = cos(0.3), s = sin(0.3)
        let fine = Matrix4(columns: Vector3(c * 0.7, s * 0.7, 0), Vector3(-s * 0.7, c * 0.7, 0), Vector3(0, 0, 1.1), origin: Vector3(6, 4, 3))
        let r = try ResampleToGrid(VoxelGrid(dims: [8, 8, 8], affine: fine)).apply(v)
        let f = r.floatValues
        for k in 0..<8 { for j in 0..<8 { for i in 0..<8 {
            let w = fine.apply(Vector3(Double(i), Double(j), Double(k)))
            let expected = 2 * w.x / 2 + 3 * w.y / 2 - w.z / 3
            XCTAssertEqual(Double(f[i + 8 * (j + 8 * k)]), expected, accuracy: 1e-3)
        } } }
    }

    func testCubicBSplinePassesThroughTheVoxelsAndBeatsLinearOnSmoothImages() throws {
        let a = Matrix4(columns: Vector3(2, 0, 0), Vector3(0, 2, 0), Vector3(0, 0, 2), origin: Vector3(0, 0, 0))
        func f(_ x: Double, _ y: Double, _ z: Double) -> Double { sin(x / 5) * cos(y / 7) + 0.3 * sin(z / 4) }
        let v = volume([16, 14, 12], affine: a) { i, j, k in Float(f(2 * Double(i), 2 * Double(j), 2 * Double(k))) }
        let same = try ResampleToGrid(VoxelGrid(of: v), interpolation: .bspline).apply(v)
        XCTAssertEqual(zip(same.floatValues, v.floatValues).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-4, "interpolating spline")
        // A finer grid inside: cubic B-spline is closer to the true function than trilinear.
        // (Away from the borders, where the spline's mirror boundary and the true function part.)
        let fine = VoxelGrid(dims: [40, 36, 30], affine: Matrix4(columns: Vector3(0.35, 0, 0), Vector3(0, 0.3, 0), Vector3(0, 0, 0.3), origin: Vector3(8, 8, 6)))
        var err: [ResampleToGrid.Interpolation: Double] = [:]
        for interp in [ResampleToGrid.Interpolation.linear, .bspline] {
            let r = try ResampleToGrid(fine, interpolation: interp).apply(v).floatValues
            var e = 0.0
            for k in 0..<30 { for j in 0..<36 { for i in 0..<40 {
                let w = fine.affine.apply(Vector3(Double(i), Double(j), Double(k)))
                e = max(e, abs(Double(r[i + 40 * (j + 36 * k)]) - f(w.x, w.y, w.z)))
            } } }
            err[interp] = e
        }
        XCTAssertLessThan(err[.bspline]!, err[.linear]! / 3, "\(err)")
        // ResampleToSpacing: isotropic RAS voxels covering the input.
        let iso = try ResampleToSpacing([1, 1, 1], interpolation: .bspline).apply(v)
        XCTAssertEqual(iso.spacing, [1, 1, 1])
        XCTAssertEqual(Array(iso.dims.prefix(3)), [32, 28, 24])
    }

    func testScaleIntensityByRangeAndPercentiles() throws {
        let a = Matrix4.identity
        let v = volume([10, 10, 10], affine: a) { i, j, k in Float(i + 10 * j + 100 * k) }
        let ct = try ScaleIntensity(.fixed, -57, 164).apply(volume([3, 1, 1], affine: a) { i, _, _ in [-1000, 53.5, 400][i] })
        XCTAssertEqual(ct.floatValues, [0, 0.5, 1])
        // numpy.percentile([0..999], [1, 99]) = 9.99, 989.01
        XCTAssertEqual(ScaleIntensity.percentile(v.floatValues, 1), 9.99, accuracy: 1e-6)
        XCTAssertEqual(ScaleIntensity.percentile(v.floatValues, 99), 989.01, accuracy: 1e-6)
        let p = try ScaleIntensity(.percentiles, 1, 99).apply(v).floatValues
        XCTAssertEqual(p.min()!, 0)
        XCTAssertEqual(p.max()!, 1)
        XCTAssertEqual(Double(p[500]), (500 - 9.99) / (989.01 - 9.99), accuracy: 1e-5)
    }

    func testComponentsLargestFillAndBorder() {
        let d = [12, 10, 8]
        var m = [Bool](repeating: false, count: d.reduce(1, *))
        func set(_ i: Int, _ j: Int, _ k: Int) { m[i + d[0] * (j + d[1] * k)] = true }
        // A hollow 5x5x5 cube (27 hole voxels inside), a 2-voxel blob, and a bar touching the border.
        for k in 1...5 { for j in 1...5 { for i in 1...5 where i == 1 || i == 5 || j == 1 || j == 5 || k == 1 || k == 5 { set(i, j, k) } } }
        set(9, 8, 5); set(9, 8, 6)
        for k in 0..<3 { set(11, 0, k) }
        let (labels, sizes) = LabelOperations.components(m, dims: d)
        XCTAssertEqual(sizes, [0, 98, 3, 2])
        XCTAssertEqual(labels[1 + d[0] * (1 + d[1] * 1)], 1)
        let largest = LabelOperations.keepLargest(m, dims: d)
        XCTAssertEqual(largest.filter { $0 }.count, 98)
        XCTAssertEqual(LabelOperations.fillHoles(largest, dims: d).filter { $0 }.count, 125)
        XCTAssertEqual(LabelOperations.removeBorderComponents(m, dims: d).filter { $0 }.count, 100)
        // Per-slice filling fills only the slices where the hole is enclosed in plane (k = 2...4).
        XCTAssertEqual(LabelOperations.fillHolesPerSlice(largest, dims: d).filter { $0 }.count, 98 + 27)
    }

    func testDistanceTransformIsExactOnAnAnisotropicGrid() {
        let d = [9, 7, 5], sp = [0.8, 1.3, 2.1]
        var target = [Bool](repeating: false, count: d.reduce(1, *))
        let points = [(1, 2, 0), (7, 5, 4), (4, 0, 2)]
        for (i, j, k) in points { target[i + d[0] * (j + d[1] * k)] = true }
        let dt = DistanceTransform.squaredDistance(to: target, dims: d, spacing: sp)
        for k in 0..<d[2] { for j in 0..<d[1] { for i in 0..<d[0] {
            let brute = points.map { p -> Double in
                let dx = Double(i - p.0) * sp[0], dy = Double(j - p.1) * sp[1], dz = Double(k - p.2) * sp[2]
                return dx * dx + dy * dy + dz * dz
            }.min()!
            XCTAssertEqual(dt[i + d[0] * (j + d[1] * k)], brute, accuracy: 1e-9)
        } } }
    }

    func testMorphologyWithABallAndOtsu() throws {
        let d = [31, 31, 31], sp = [1.0, 1.0, 1.0]
        var m = [Bool](repeating: false, count: d.reduce(1, *))
        m[15 + 31 * (15 + 31 * 15)] = true
        let ball = LabelOperations.dilate(m, dims: d, spacing: sp, radius: 5)
        // Voxel centres within 5 mm of the centre.
        var expected = 0
        for k in -5...5 {
            for j in -5...5 {
                for i in -5...5 {
                    let r2: Int = i * i + j * j + k * k
                    if r2 <= 25 { expected += 1 }
                }
            }
        }
        XCTAssertEqual(ball.filter { $0 }.count, expected)
        XCTAssertEqual(LabelOperations.erode(ball, dims: d, spacing: sp, radius: 5).filter { $0 }.count, 1)
        XCTAssertEqual(LabelOperations.close(m, dims: d, spacing: sp, radius: 2).filter { $0 }.count, 1)
        // Two populations: Otsu's threshold falls between them.
        var f: [Float] = []
        for i in 0..<1000 { f.append(i < 600 ? Float(i % 50) : Float(200 + i % 40)) }
        let t = MaskRecipe.otsu(f)
        XCTAssertGreaterThan(t, 49)
        XCTAssertLessThan(t, 200)
        XCTAssertThrowsError(try MaskRecipe.parse("largest:2"))
        XCTAssertThrowsError(try MaskRecipe.parse("below:-320,squash"))
        XCTAssertEqual(try MaskRecipe.parse("lungs").description, "below:-320.0,remove-border,largest:2,fill-slices,close:2.0")
    }

    func testDiceIoUAndHD95OfShiftedCubes() {
        let d = [30, 30, 30], sp = [1.0, 1.0, 2.0]
        func cube(_ o: Int) -> [Bool] {
            var m = [Bool](repeating: false, count: d.reduce(1, *))
            for k in 5..<15 { for j in 5..<15 { for i in (5 + o)..<(15 + o) { m[i + 30 * (j + 30 * k)] = true } } }
            return m
        }
        let s = SegmentationMetrics.score(truth: cube(0), predicted: cube(2), dims: d, spacing: sp, label: 1)
        XCTAssertEqual(s.dice, 0.8, accuracy: 1e-9)
        XCTAssertEqual(s.iou, 8.0 / 12.0, accuracy: 1e-9)
        XCTAssertEqual(s.hd95!, 2, accuracy: 1e-9, "the shifted faces are 2 mm apart; every other surface voxel is on the other's surface or within 2 mm")
        XCTAssertEqual(s.truthML, 2, accuracy: 1e-9)
        XCTAssertEqual(s.volumeDifferencePercent!, 0, accuracy: 1e-9)
        let same = SegmentationMetrics.score(truth: cube(0), predicted: cube(0), dims: d, spacing: sp, label: 1)
        XCTAssertEqual(same.dice, 1)
        XCTAssertEqual(same.hd95!, 0)
        XCTAssertNil(SegmentationMetrics.score(truth: cube(0), predicted: [Bool](repeating: false, count: 27000), dims: d, spacing: sp, label: 1).hd95)
    }
}

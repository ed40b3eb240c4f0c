import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Marching cubes, decimation and the surface files: closed and outward, world RAS millimetres, the same
/// area and volume as scikit-image's marching_cubes, readable by nibabel (GIfTI).
final class SurfaceTests: XCTestCase {
    func testTableGivesClosedOutwardSurfacesForEveryCubeConfiguration() {
        // Every one of the 256 single-cube configurations (inside corners = 1 in a 2x2x2 grid, padded by
        // the outside) gives a closed, consistently oriented surface of non-negative volume.
        for config in 1..<256 {
            let v = (0..<8).map { c -> Float in
                let (i, j, k) = MarchingCubes.corners[c]
                _ = (i, j, k)
                return config & (1 << c) != 0 ? 1 : 0
            }
            // Reorder corners into the grid's x-fastest layout.
            var grid = [Float](repeating: 0, count: 8)
            for c in 0..<8 { let (i, j, k) = MarchingCubes.corners[c]; grid[i + 2 * (j + 2 * k)] = v[c] }
            let m = MarchingCubes.extract(grid, dims: [2, 2, 2], level: 0.5)
            XCTAssertTrue(m.isClosedAndOriented, "configuration \(config)")
            XCTAssertGreaterThan(m.volume, 0, "configuration \(config)")
        }
    }

    /// A CT-like volume: a bone-like ellipsoid shell (1000 HU) in soft tissue (40 HU), smooth edges.
    static func phantom(_ d: [Int]) -> [Float] {
        var f = [Float](repeating: 0, count: d.reduce(1, *))
        for k in 0..<d[2] { for j in 0..<d[1] { for i in 0..<d[0] {
            let x = (Double(i) - 20) / 13, y = (Double(j) - 17) / 10, z = (Double(k) - 14) / 9
            let r = (x * x + y * y + z * z).squareRoot()
            let bone = 1 / (1 + exp((r - 1) * 12)) - 0.7 / (1 + exp((r - 0.6) * 12))
            f[i + d[0] * (j + d[1] * k)] = Float(40 + 960 * bone)
        } } }
        return f
    }

    func testAreaAndVolumeMatchScikitImageAndVerticesAreInNiftiWorldSpace() throws {
        let d = [42, 36, 30]
        let f = Self.phantom(d)
        // An oblique, mirrored affine (orthogonal axes, as scikit-image's spacing assumes): vertices follow it, normals stay outward.
        let c = cos(0.4), s = sin(0.4)
        let affine = Matrix4(columns: Vector3(-0.8 * c, 0.8 * s, 0), Vector3(0.9 * s, 0.9 * c, 0), Vector3(0, 0, 1.5), origin: Vector3(30, -40, 12))
        let dir = TestSupport.tempDir()
        let vol = Volume(dims: d + [1], voxels: .float32(f), affine: affine)
        let path = dir.appendingPathComponent("ct.nii.gz").path
        try NiftiWriter().write(vol, to: path)
        let mesh = SurfaceMaker(source: .level(300)).make(vol)
        XCTAssertTrue(mesh.isClosedAndOriented)
        XCTAssertGreaterThan(mesh.volume, 0)
        for fmt in TriangleMesh.Format.allCases {
            try AtomicFile.write(mesh.encoded(fmt), to: dir.appendingPathComponent("s.\(fmt == .gifti ? "surf.gii" : fmt.rawValue)").path)
        }
        let code = """
        import sys, json, struct, numpy as np, nibabel as nib
        try:
            from skimage import measure
        except ImportError:
            print("NO-SKIMAGE"); sys.exit(0)
        img = nib.load(sys.argv[1]); a = img.get_fdata()
        zooms = np.sqrt((img.affine[:3, :3] ** 2).sum(0))
        v, f, _, _ = measure.marching_cubes(a, 300, spacing=tuple(zooms))
        area = measure.mesh_surface_area(v, f)
        tri = v[f]
        vol = abs(np.einsum('ij,ij->i', tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6)
        g = nib.load(sys.argv[2])
        pts = g.agg_data('pointset'); tris = g.agg_data('triangle')
        # World points back to voxel indices through the NIfTI affine: inside the grid, near the 300 HU level.
        ijk = (np.linalg.inv(img.affine) @ np.c_[pts, np.ones(len(pts))].T)[:3].T
        from scipy.ndimage import map_coordinates
        vals = map_coordinates(a, ijk.T, order=1)
        print(json.dumps({"area": area, "volume": vol, "points": len(pts), "triangles": len(tris), "level_err": float(np.abs(vals - 300).max())}))
        """
        let (rc, text) = try TestSupport.run(TestSupport.python, ["-c", code, path, dir.appendingPathComponent("s.surf.gii").path])
        if text.contains("NO-SKIMAGE") { throw XCTSkip("scikit-image is not installed (make monai-env): the cross-check was skipped") }
        XCTAssertEqual(rc, 0, text)
        let r = try JSONSerialization.jsonObject(with: Data(text.split(separator: "\n").last!.utf8)) as! [String: Double]
        // The physical area and volume (scikit-image works in index*spacing; the affine is a rotation of that).
        XCTAssertEqual(mesh.area, r["area"]!, accuracy: r["area"]! * 0.01, "area within 1% of scikit-image")
        XCTAssertEqual(mesh.volume, r["volume"]!, accuracy: r["volume"]! * 0.01, "volume within 1% of scikit-image")
        XCTAssertEqual(Int(r["points"]!), mesh.vertices.count, "nibabel reads the GIfTI")
        XCTAssertEqual(Int(r["triangles"]!), mesh.triangleCount)
        XCTAssertLessThan(r["level_err"]!, 1, "every vertex lies on the 300 HU iso-surface in the NIfTI's world space")
        // STL/PLY/OBJ headers and sizes.
        let stl = try Data(contentsOf: dir.appendingPathComponent("s.stl"))
        XCTAssertEqual(stl.count, 84 + 50 * mesh.triangleCount)
        let ply = try String(decoding: Data(contentsOf: dir.appendingPathComponent("s.ply")).prefix(200), as: UTF8.self)
        XCTAssertTrue(ply.contains("element vertex \(mesh.vertices.count)"))
        let obj = try String(contentsOf: dir.appendingPathComponent("s.obj"), encoding: .utf8)
        XCTAssertEqual(obj.split(separator: "\n").filter { $0.hasPrefix("f ") }.count, mesh.triangleCount)
    }

    func testSmoothingAndDecimationKeepTheSurfaceClosedAndItsVolume() {
        let d = [42, 36, 30]
        let mask = Self.phantom(d).map { $0 > 300 ? Float(1) : 0 }
        let m = MarchingCubes.extract(mask, dims: d, level: 0.5)
        let s = m.smoothed(iterations: 10)
        XCTAssertTrue(s.isClosedAndOriented)
        XCTAssertEqual(s.volume, m.volume, accuracy: m.volume * 0.03)
        XCTAssertLessThan(s.area, m.area, "smoothing removes the staircase")
        let target = m.triangleCount / 5
        let dec = MeshDecimator.decimate(s, targetTriangles: target)
        XCTAssertLessThanOrEqual(dec.triangleCount, target + 2)
        XCTAssertGreaterThan(dec.triangleCount, target / 2)
        XCTAssertTrue(dec.isClosedAndOriented, "decimation keeps the surface closed")
        XCTAssertEqual(dec.volume, s.volume, accuracy: s.volume * 0.02)
    }

    func testSurfacePictureShadesTheVisibleSide() {
        let d = [42, 36, 30]
        let m = MarchingCubes.extract(Self.phantom(d).map { $0 > 300 ? Float(1) : 0 }, dims: d, level: 0.5)
        let img = SurfacePicture.render(m, size: 120)
        XCTAssertEqual(img.width, 3 * 120 + 8)
        var lit = [0, 0, 0]
        for v in 0..<3 { for y in 0..<120 { for x in 0..<120 where img[v * 124 + x, y][0] > 40 { lit[v] += 1 } } }
        for v in 0..<3 { XCTAssertGreaterThan(lit[v], 2000, "view \(v) shows the object") }
        XCTAssertLessThan(lit[0], 120 * 120, "and the background around it")
    }

    func testMeshCommandOnADICOMLabelMap() throws {
        let exe = try TestSupport.executable()
        let dir = TestSupport.tempDir()
        var s = SyntheticSeries()
        s.rows = 30; s.columns = 34; s.slices = 16
        s.value = { i, j, k in (i - 17) * (i - 17) + (j - 15) * (j - 15) + 4 * (k - 8) * (k - 8) < 80 ? 2 : 0 }
        try s.write(to: dir.appendingPathComponent("labels").path)
        let out = dir.appendingPathComponent("l.stl").path
        let (rc, text) = try TestSupport.run(exe, ["mesh", dir.appendingPathComponent("labels").path, "-o", out, "--label", "2", "--smooth", "5", "--triangles", "500"])
        XCTAssertEqual(rc, 0, text)
        XCTAssertTrue(text.contains("closed"), text)
        let pic = dir.appendingPathComponent("l.png").path
        let (prc, ptext) = try TestSupport.run(exe, ["mesh", dir.appendingPathComponent("labels").path, "-o", out, "--label", "2", "--picture", pic])
        XCTAssertEqual(prc, 0, ptext)
        XCTAssertGreaterThan((try? FileManager.default.attributesOfItem(atPath: pic)[.size] as? Int) ?? 0, 1000)
        let (bad, msg) = try TestSupport.run(exe, ["mesh", dir.appendingPathComponent("labels").path, "-o", dir.appendingPathComponent("l.xyz").path, "--label", "2"])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(msg.contains(".stl, .ply, .obj or .gii"), msg)
    }
}

import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Each preprocessing step on its own.
final class ModelInputTransformTests: XCTestCase {
    func volume(_ nx: Int, _ ny: Int, _ nz: Int, _ f: (Int, Int, Int) -> Float, affine: Matrix4 = .identity) -> Volume {
        var v = [Float](repeating: 0, count: nx * ny * nz)
        for z in 0..<nz { for y in 0..<ny { for x in 0..<nx { v[(z * ny + y) * nx + x] = f(x, y, z) } } }
        return Volume(dims: [nx, ny, nz, 1], voxels: .float32(v), affine: affine)
    }

    func testOtsuSeparatesTwoModes() {
        let f: [Float] = Array(repeating: 10, count: 500) + Array(repeating: 200, count: 300)
        let t = Foreground.otsu(f)
        XCTAssertGreaterThan(t, 10)
        XCTAssertLessThanOrEqual(t, 200)
    }

    func testLargestComponentIgnoresSpecks() {
        // A 6x4 block and scattered single bright pixels whose bounding box would be the whole slice.
        var f = [Float](repeating: 0, count: 20 * 20)
        for y in 5..<9 { for x in 3..<9 { f[y * 20 + x] = 100 } }
        for (x, y) in [(0, 0), (19, 19), (0, 19), (19, 0)] { f[y * 20 + x] = 100 }
        XCTAssertEqual(Foreground.largestComponentBoxArea(f, offset: 0, width: 20, height: 20, threshold: 50), 24)
    }

    func testSliceWindowCentresOnTheLargestSliceAndPads() throws {
        // Disc radius peaks at slice 12 of 30.
        let v = volume(32, 32, 30) { x, y, z in
            let r = max(0, 12.0 - abs(Double(z) - 12) * 2)
            return Double((x - 16) * (x - 16) + (y - 16) * (y - 16)) < r * r ? 500 : 3
        }
        let w = try SliceWindow(count: 10).apply(v)
        let info = try XCTUnwrap(w.metadata.sliceWindow)
        XCTAssertEqual(info.center, 12)
        XCTAssertEqual(info.start, 7)
        XCTAssertEqual(info.end, 17)
        XCTAssertEqual(w.dims, [32, 32, 10, 1])
        // Output slice 5 is source slice 12, in values and in world position.
        XCTAssertEqual(w.floatValues[(5 * 32 + 16) * 32 + 16], 500)
        XCTAssertEqual(w.affine.apply(Vector3(0, 0, 5)).z, v.affine.apply(Vector3(0, 0, 12)).z, accuracy: 1e-9)
        // Near an end the window stays inside the series.
        let edge = volume(8, 8, 30) { _, _, z in z == 1 ? 100 : (z % 2 == 0 ? 1 : 0) }
        XCTAssertEqual(try SliceWindow(count: 10).apply(edge).metadata.sliceWindow?.start, 0)
        // A short series is zero-padded symmetrically.
        let short = try SliceWindow(count: 10).apply(volume(8, 8, 5) { _, _, _ in 7 })
        XCTAssertEqual(short.metadata.sliceWindow?.padBefore, 2)
        XCTAssertEqual(short.metadata.sliceWindow?.padAfter, 3)
        XCTAssertEqual(short.floatValues[0], 0)
        XCTAssertEqual(short.floatValues[2 * 64], 7)
        XCTAssertEqual(short.affine.apply(Vector3(0, 0, 2)).z, 0, accuracy: 1e-9, "first real slice keeps its position")
    }

    func testResizeAreaAndBilinearKeepWorldPositions() throws {
        let a = Matrix4(columns: Vector3(0.5, 0, 0), Vector3(0, 0.5, 0), Vector3(0, 0, 2), origin: Vector3(10, 20, 30))
        let v = volume(4, 4, 1, { x, _, _ in Float(x) }, affine: a)
        let down = try Resize(width: 2, height: 2).apply(v)
        XCTAssertEqual(down.floatValues, [0.5, 2.5, 0.5, 2.5], "area averaging of pairs")
        // The centre of new voxel 0 is the midpoint of old voxels 0 and 1.
        let p = down.affine.apply(Vector3(0, 0, 0)), q = a.apply(Vector3(0.5, 0.5, 0))
        XCTAssertEqual(p, q)
        XCTAssertEqual(down.spacing[0], 1.0, accuracy: 1e-12)
        let up = try Resize(width: 8, height: 8).apply(v)
        XCTAssertEqual(up.floatValues[0], 0)
        XCTAssertEqual(up.floatValues[1], 0.25, accuracy: 1e-6, "half-pixel bilinear")
        XCTAssertEqual(up.floatValues[7], 3)
        let odd = try Resize(width: 3, height: 3).apply(volume(7, 7, 1) { _, _, _ in 5 })
        XCTAssertTrue(odd.floatValues.allSatisfy { abs($0 - 5) < 1e-5 }, "area weights sum to one")
    }

    func testNormalize() throws {
        let v = volume(4, 1, 1) { x, _, _ in Float(x * 10 + 5) }
        XCTAssertEqual(try Normalize(.minmax).apply(v).floatValues, [0, 1.0 / 3, 2.0 / 3, 1].map { Float($0) })
        let z = try Normalize(.zscore).apply(v).floatValues
        XCTAssertEqual(z.reduce(0, +), 0, accuracy: 1e-5)
        XCTAssertEqual((z.map { $0 * $0 }.reduce(0, +) / 4).squareRoot(), 1, accuracy: 1e-5)
        XCTAssertEqual(try Normalize(.minmax).apply(volume(3, 1, 1) { _, _, _ in 4 }).floatValues, [0, 0, 0])
    }

    func testSliceGroupsRemainderPolicies() throws {
        let v = volume(2, 2, 10) { _, _, z in Float(z + 1) }
        XCTAssertEqual(try SliceGroups(size: 4, remainder: .drop).split(v).map { $0.dims[2] }, [4, 4])
        XCTAssertEqual(try SliceGroups(size: 4, remainder: .keep).split(v).map { $0.dims[2] }, [4, 4, 2])
        let padded = try SliceGroups(size: 4, remainder: .pad).split(v)
        XCTAssertEqual(padded.map { $0.dims[2] }, [4, 4, 4])
        XCTAssertEqual(padded[2].floatValues[0], 9)
        XCTAssertEqual(padded[2].floatValues[3 * 4], 0)
        XCTAssertEqual(padded[1].affine.apply(Vector3(0, 0, 0)).z, 4)
    }

    func testPolarityAndPlane() throws {
        var v = volume(2, 1, 1) { x, _, _ in Float(x * 10) }
        v.metadata.photometric = "MONOCHROME1"
        XCTAssertEqual(try DisplayPolarity().apply(v).floatValues, [10, 0])
        // A sagittal volume (voxel axes A, I, R in RAS terms) becomes axial: its third axis runs along S.
        let sag = Matrix4(columns: Vector3(0, 1, 0), Vector3(0, 0, -1), Vector3(1, 0, 0), origin: .zero)
        let ax = try ReorientToPlane(.axial).apply(volume(3, 4, 5, { x, y, z in Float(x + 10 * y + 100 * z) }, affine: sag))
        XCTAssertEqual(ax.affine.axisCodes, "RAS")
        XCTAssertEqual(ax.dims, [5, 3, 4, 1])
    }

    func testScaledInt16StorageRoundTrips() throws {
        let v = volume(16, 16, 4) { x, y, z in Float(x * y + z) / 229 }
        let path = TestSupport.tempDir().appendingPathComponent("s.nii.gz").path
        try NiftiWriter(gzip: true, compressionLevel: 1, threads: 1, storage: .scaledInt16).write(v, to: path)
        let img = try NiftiIO.read(path)
        XCTAssertEqual(img.datatypeCode, 4)
        for (a, b) in zip(img.scaledValues, v.floatValues) { XCTAssertEqual(a, Double(b), accuracy: 1.0 / 65534) }
    }
}

/// Transforms that replace what used to be files on disk or a second build.
final class InMemoryEquivalenceTests: XCTestCase {
    /// Predicting from raw DICOM quantises in memory exactly as a scaled-int16 model input file reads back.
    func testScaledInt16RoundTripEqualsTheFile() throws {
        var rng = SeededRandom(seed: 3)
        let values = (0..<(7 * 5 * 3)).map { _ in Float(rng.unit() * 3 - 1) }
        let v = Volume(dims: [7, 5, 3, 1], voxels: .float32(values), affine: .identity)
        let file = TestSupport.tempDir("q").appendingPathComponent("input.nii").path
        try NiftiWriter(gzip: false, storage: .scaledInt16).write(v, to: file)
        let fromFile = try TensorCache.read(file, shape: [3, 5, 7])
        let inMemory = try TensorCache.fit(try ScaledInt16RoundTrip().apply(v), shape: [3, 5, 7])
        XCTAssertEqual(fromFile, inMemory)
        XCTAssertNotEqual(inMemory, values, "quantisation changes the values")
    }

    /// The VOI window is one transform after one build, and it needs the acquired slices.
    func testVOIWindowIsATransformOnTheBuiltVolume() throws {
        var s = SyntheticSeries()
        s.windowCenter = 499.5
        s.windowWidth = 399
        let dir = TestSupport.tempDir("voi")
        try s.write(to: dir.path)
        let plan = try XCTUnwrap(SeriesBuilder().build(try FileScanner.scan([dir.path]).files.map { try InstanceParser.parse(path: $0.path) }).plans.first)
        let built = try VolumeBuilder.build(plan)
        XCTAssertEqual(built.metadata.voi?.count, s.slices)
        let windowed = try VOIWindow().apply(built)
        XCTAssertNil(windowed.metadata.voi)
        XCTAssertNotEqual(windowed.voxels.doubles, built.voxels.doubles)
        XCTAssertTrue(windowed.metadata.valueMapping.contains("VOI LUT (LINEAR)"))
        XCTAssertNil(try Reorient("RAS").apply(built).metadata.voi, "reordering slices drops the per-slice windows")
    }
}

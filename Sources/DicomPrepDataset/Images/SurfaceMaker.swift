import DicomPrepCore
import Foundation

/// `dicomprep mesh`: a triangle surface from an image (iso-level in its real-world units, e.g. HU) or a
/// label map (`label`), by marching cubes, optionally smoothed (Taubin) and decimated, with vertices in
/// world millimetres, RAS — the space of the NIfTI affine, so it overlays the volume in any viewer.
public struct SurfaceMaker: Sendable {
    public enum Source: Sendable, Equatable { case level(Double), label(Int) }
    public var source: Source
    public var smoothing = 0
    public var targetTriangles: Int?
    public var threads = Parallel.cores

    public init(source: Source) { self.source = source }

    public struct Result: Sendable {
        public var mesh: TriangleMesh
        public var warnings: [String]
    }

    public func make(_ v: Volume) -> TriangleMesh {
        let n = v.voxelsPerVolume
        let f = Array(v.floatValues.prefix(n))
        let values: [Float], level: Float
        switch source {
        case let .level(l): values = f; level = Float(l)
        case let .label(l): values = f.map { Int($0.rounded()) == l ? 1 : 0 }; level = 0.5
        }
        var mesh = MarchingCubes.extract(values, dims: Array(v.dims.prefix(3)), level: level).transformed(by: v.affine)
        if smoothing > 0 { mesh = mesh.smoothed(iterations: smoothing) }
        if let t = targetTriangles, t > 0, mesh.triangleCount > t { mesh = MeshDecimator.decimate(mesh, targetTriangles: t) }
        return mesh
    }

    public func run(input: String, output: String) throws(DicomPrepError) -> Result {
        guard let format = TriangleMesh.format(of: output) else {
            throw .usage("\(output): the surface format comes from the name: .stl, .ply, .obj or .gii (.surf.gii)")
        }
        let loaded = try ImageLoader.load(input, threads: threads)
        let mesh = make(loaded.volume)
        guard mesh.triangleCount > 0 else {
            throw .io(path: input, reason: source == .level(0) ? "no surface" : "no voxel on the inside of \(source): the surface is empty")
        }
        try AtomicFile.write(mesh.encoded(format, name: "dicomprep \(DicomPrepVersion.string)"), to: output)
        return Result(mesh: mesh, warnings: loaded.warnings)
    }
}

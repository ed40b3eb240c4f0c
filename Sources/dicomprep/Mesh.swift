import ArgumentParser
import DicomPrepCore
import DicomPrepDataset
import Foundation

struct Mesh: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh",
        abstract: "Extract a triangle surface (marching cubes) from a NIfTI file or a DICOM folder: .stl, .ply, .obj or .gii (GIfTI).",
        discussion: """
        --level V takes the iso-surface at V in the image's real-world units (HU for CT: 300 for bone); --label L the \\
        surface of label L of a label map (e.g. a mask from `mask` or `predict`). Vertices are in world millimetres, RAS, \\
        the space of the NIfTI affine, so the surface overlays the volume in any viewer; normals point outwards; the \\
        surface is closed (the grid's outside counts as outside). --smooth N runs N Taubin iterations; --triangles N \\
        decimates by quadric edge collapse to about N triangles, keeping the surface closed.
        """
    )

    @Argument(help: "A NIfTI file or a DICOM folder.")
    var input: String

    @Option(name: .shortAndLong, help: "Output surface: .stl, .ply, .obj or .gii (.surf.gii).")
    var output: String

    @Option(help: "Iso-level in the image's units.")
    var level: Double?

    @Option(help: "Label value of a label map.")
    var label: Int?

    @Option(help: "Taubin smoothing iterations.")
    var smooth = 0

    @Option(help: "Decimate to about this many triangles.")
    var triangles: Int?

    @Option(help: "Also write a shaded picture of the surface (PNG: from the front, the right and above), for reports.")
    var picture: String?

    func validate() throws {
        guard (level == nil) != (label == nil) else { throw ValidationError("give --level V or --label L") }
        guard smooth >= 0 else { throw ValidationError("--smooth cannot be negative") }
        if let t = triangles, t < 4 { throw ValidationError("--triangles must be at least 4") }
    }

    func run() throws {
        var m = SurfaceMaker(source: level.map { .level($0) } ?? .label(label!))
        m.smoothing = smooth
        m.targetTriangles = triangles
        let r: SurfaceMaker.Result = try orExit { () throws(DicomPrepError) in try m.run(input: input, output: output) }
        for w in r.warnings { Terminal.error("warning: \(w)") }
        if let picture { try orExit { () throws(DicomPrepError) in try SurfacePicture.render(r.mesh).write(to: picture) } }
        Terminal.out("\(output): \(r.mesh.vertices.count) vertices, \(r.mesh.triangleCount) triangles, area \(String(format: "%.1f", r.mesh.area / 100)) cm², enclosed volume \(String(format: "%.2f", r.mesh.volume / 1000)) mL\(r.mesh.isClosedAndOriented ? ", closed" : "")")
    }
}

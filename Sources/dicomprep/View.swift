import ArgumentParser
import DicomPrepCore
import DicomPrepDataset
import Foundation

struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Write an HTML viewer of volumes, masks and surfaces: three linked planes and a 3D view (works offline, from file://).",
        discussion: """
        INPUTS are folders (e.g. a `convert` output with masks from `mask`/`predict` and surfaces from `mesh`; searched \\
        recursively), NIfTI files, surface files (.stl, .ply, .obj, .gii), or a DICOM folder (converted in memory). \\
        Volumes with few integral values are shown as coloured mask overlays on the volume of the same grid (else \\
        resampled onto the first one). The page shows axial, coronal and sagittal planes with a linked crosshair \\
        (click), slice scrolling (wheel), window/level and mask opacity, and a 3D view (three.js from Debian's \\
        libjs-three, copied beside the page) with the surfaces as meshes and the three current planes, all in world \\
        RAS millimetres. --serve serves the folder on http://127.0.0.1:PORT/ until stopped.
        """
    )

    @Argument(help: "Folders, NIfTI files, surfaces or a DICOM folder.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Page folder (index.html, three.min.js, data/).")
    var output: String = "view"

    @Flag(help: "Serve the page on localhost after writing it.")
    var serve = false

    @Option(help: "Port for --serve.")
    var port: UInt16 = 8765

    func run() throws {
        let r: ViewerPage.Report = try orExit { () throws(DicomPrepError) in try ViewerPage(inputs: inputs, outputDir: output).run() }
        for s in r.skipped { Terminal.error("skipped \(s)") }
        Terminal.out("\(r.page): \(r.volumes.count) volume(s), \(r.overlays.count) mask(s), \(r.meshes.count) surface(s)")
        if serve {
            try orExit { () throws(DicomPrepError) in
                try StaticServer(root: output, port: port).serve { Terminal.out("serving \($0) (Ctrl-C to stop)") }
            }
        }
    }
}

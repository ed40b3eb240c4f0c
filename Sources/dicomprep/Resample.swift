import ArgumentParser
import DicomPrepCore
import DicomPrepDataset
import Foundation

struct Resample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resample",
        abstract: "Resample a NIfTI file or a DICOM folder onto an axis-aligned RAS grid of a given spacing (e.g. isotropic voxels for CT analysis).",
        discussion: """
        The grid covers the input; values keep their world positions (the affine follows). --interpolation linear \\
        (trilinear), bspline (cubic B-spline with exact prefiltering, as ITK's order-3 interpolator: the spline passes \\
        through every voxel value) for images, nearest for label maps. Real-world values (HU for CT) are kept.
        """
    )

    @Argument(help: "A NIfTI file or a DICOM folder.")
    var input: String

    @Option(name: .shortAndLong, help: "Output NIfTI (.nii.gz or .nii).")
    var output: String

    @Option(help: "Voxel spacing in mm: one value (isotropic) or R,A,S.")
    var spacing = "1"

    @Option(help: "linear, bspline or nearest.")
    var interpolation: ResampleToGrid.Interpolation = .linear

    func run() throws {
        let sp = try Train.numbers(spacing, "--spacing")
        guard sp.count == 1 || sp.count == 3 else { throw ValidationError("--spacing needs one or three values") }
        let s = sp.count == 1 ? [sp[0], sp[0], sp[0]] : sp
        let v: Volume = try orExit { () throws(DicomPrepError) in
            let loaded = try ImageLoader.load(input)
            for w in loaded.warnings { Terminal.error("warning: \(w)") }
            var r = try ResampleToSpacing(s, interpolation: interpolation).apply(loaded.volume)
            if interpolation == .nearest, loaded.volume.voxels.dataType != .float32 { r = try CastTo(loaded.volume.voxels.dataType).apply(r) }
            try NiftiWriter(gzip: output.lowercased().hasSuffix(".gz")).write(r, to: output, description: "dicomprep resample \(interpolation.rawValue)")
            return r
        }
        Terminal.out("\(output): \(v.dims.prefix(3).map(String.init).joined(separator: "x")) at \(s.map { String(format: "%g", $0) }.joined(separator: "x")) mm (\(interpolation.rawValue))")
    }
}

extension ResampleToGrid.Interpolation: ExpressibleByArgument {}

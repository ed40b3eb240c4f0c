import ArgumentParser
import DicomPrepCore
import DicomPrepDataset
import Foundation

struct Mask: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mask",
        abstract: "Make a binary mask from a NIfTI file or a DICOM folder by thresholds, connected components, hole filling and morphology.",
        discussion: """
        --recipe is a preset (lungs, bone, body, brain) or a chain of steps separated by commas, applied in order: \\
        above:V, below:V, between:A..B, otsu (a threshold starts the chain; values are real-world, e.g. HU for CT), \\
        largest:N (keep the N largest 6-connected components), remove-border (drop components touching the grid's border), \\
        fill (3D hole filling), fill-slices (per axial slice), dilate:MM, erode:MM, close:MM, open:MM (a ball of MM \\
        millimetres, spacing-aware, by exact distance transforms). lungs = below:-320,remove-border,largest:2,fill-slices,close:2. \\
        The mask is uint8 (0/1) on the input's own grid and affine; --spacing MM computes it on an isotropic grid first.
        """
    )

    @Argument(help: "A NIfTI file or a DICOM folder.")
    var input: String

    @Option(name: .shortAndLong, help: "Output mask (.nii.gz or .nii).")
    var output: String

    @Option(help: "Preset (lungs, bone, body, brain) or comma-separated steps.")
    var recipe = "lungs"

    @Option(help: "Compute on an isotropic grid of this spacing (mm), then map back to the input grid.")
    var spacing: Double?

    func run() throws {
        let r: MaskMaker.Result = try orExit { () throws(DicomPrepError) in
            try MaskMaker(recipe: try MaskRecipe.parse(recipe), spacing: spacing).run(input: input, output: output)
        }
        for w in r.warnings { Terminal.error("warning: \(w)") }
        Terminal.out("\(output): \(r.voxels) voxels, \(String(format: "%.1f", r.ml)) mL (\(MaskRecipe.presets[recipe] ?? recipe))")
    }
}

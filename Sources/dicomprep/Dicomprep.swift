import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth

@main
struct Dicomprep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicomprep",
        abstract: "DICOM MRI/CT exports to correctly oriented NIfTI volumes and model-ready datasets.",
        version: DicomPrepVersion.string,
        subcommands: [Convert.self, Inspect.self, Dataset.self, Manifest.self, Train.self, Predict.self, Evaluate.self, Resample.self, Mask.self, Mesh.self, View.self, Validate.self, Synth.self]
    )

    /// The DICOM reader's one-time set-up (its data dictionary) runs on a second thread while the command
    /// line is parsed: both are fixed costs of every run, and a short run is mostly fixed costs.
    static func main() {
        DicomRuntime.prepareInBackground()
        main(nil)
    }
}

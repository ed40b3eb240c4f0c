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
}

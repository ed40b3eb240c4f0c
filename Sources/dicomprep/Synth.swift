import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write synthetic DICOM data with known geometry (for demos, tests and benchmarks).",
        subcommands: [SynthRSNACommand.self, SynthHeadsCommand.self, SynthCTCommand.self, SynthSeriesCommand.self, SynthBenchCommand.self, SynthExportCommand.self]
    )
}

struct SynthSeriesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "series",
        abstract: "Write one synthetic series (one file per slice, or one Enhanced MR multi-frame file)."
    )

    @Argument(help: "Output folder.")
    var output: String

    @Option(help: "Rows x columns x slices, e.g. 256x256x40.")
    var size = SizeArgument(argument: "64x64x20")!

    @Option(help: "Acquisition plane: axial, sagittal, coronal or oblique.")
    var plane = "axial"

    @Option(help: "Slice spacing (mm).")
    var spacing = 2.0

    @Option(help: "Series description.")
    var description = "T1w"

    @Option(help: "Series number.")
    var seriesNumber = 1

    @Option(help: "Transfer syntax.")
    var syntax: DicomWriter.Syntax = .explicitLittle

    @Flag(help: "One Enhanced MR multi-frame file.")
    var multiframe = false

    @Option(help: "Random seed (UIDs).")
    var seed: UInt64 = 1

    func run() throws {
        let dims = size.values
        var s = SyntheticSeries()
        s.rows = dims[0]; s.columns = dims[1]; s.slices = dims[2]
        s.sliceSpacing = spacing
        s.seriesDescription = description
        s.seriesNumber = seriesNumber
        s.syntax = syntax
        s.multiframe = multiframe
        s.seed = seed
        switch plane {
        case "axial": break
        case "sagittal": s.rowDirection = Vector3(0, 1, 0); s.columnDirection = Vector3(0, 0, -1)
        case "coronal": s.rowDirection = Vector3(1, 0, 0); s.columnDirection = Vector3(0, 0, -1)
        case "oblique": s.rowDirection = Vector3(0.8660254, 0.5, 0); s.columnDirection = Vector3(-0.3535534, 0.6123724, -0.7071068)
        default: throw ValidationError("--plane must be axial, sagittal, coronal or oblique")
        }
        let rows = s.rows, cols = s.columns
        s.value = { i, j, k in
            // A bright ellipsoid on a darker background, so the picture is recognisable.
            let x = Double(i) / Double(cols) - 0.5, y = Double(j) / Double(rows) - 0.5
            let inside = x * x / 0.16 + y * y / 0.2 < 1
            return (inside ? 800 : 100) + (i * 3 + j * 5 + k * 7) % 50
        }
        let paths = try s.write(to: output)
        print("wrote \(paths.count) files to \(output)")
    }
}

struct SynthBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Write the benchmark corpus: 256x256 int16 series in mixed planes (case-K/series-J/Image-N.dcm)."
    )

    @Argument(help: "Output folder.")
    var output: String

    @Option(help: "Number of series.")
    var series = 40

    @Option(help: "Rows and columns.")
    var size = 256

    @Option(help: "Fewest slices per series.")
    var minSlices = 60

    @Option(help: "Most slices per series.")
    var maxSlices = 180

    @Option(help: "Random seed.")
    var seed: UInt64 = 2021

    func validate() throws {
        guard series > 0, size > 0, minSlices > 0, maxSlices >= minSlices else { throw ValidationError("sizes must be positive and --max-slices >= --min-slices") }
    }

    func run() throws {
        var c = BenchCorpus()
        c.series = series
        c.size = size
        c.minSlices = minSlices
        c.maxSlices = maxSlices
        c.seed = seed
        let n = try c.write(to: output)
        print("wrote \(n) files in \(series) series to \(output)")
    }
}

struct SynthRSNACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rsna",
        abstract: "Write an RSNA-MICCAI-shaped dataset: train/<id>/{FLAIR,T1w,T1wCE,T2w}/Image-<n>.dcm, train_labels.csv, test/, sample_submission.csv.",
        discussion: "Head phantoms (skull, brain, ventricles) in mixed planes and slice counts; positive cases carry a lesion (bright on FLAIR/T2w, ring-enhancing on T1wCE). test_labels_synthetic.csv holds the test truth for `evaluate`."
    )

    @Argument(help: "Output folder (the dataset root).")
    var output: String

    @Option(help: "Training cases.")
    var cases = 20

    @Option(help: "Test cases (without labels).")
    var testCases = 4

    @Option(help: "Rows and columns of every slice.")
    var matrix = 96

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    func validate() throws {
        guard cases > 0, testCases >= 0, matrix >= 16 else { throw ValidationError("--cases must be positive and --matrix at least 16") }
    }

    func run() throws {
        var s = RSNASynth()
        s.trainCases = cases
        s.testCases = testCases
        s.matrix = matrix
        s.seed = seed
        let r = try s.write(to: output)
        print("wrote \(r.trainCases) training cases (\(r.positives) positive) and \(r.testCases) test cases, \(r.files) files, to \(output)")
    }
}

struct SynthHeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Write a skull-stripping dataset: training heads as NIfTI image + brain mask (Decathlon dataset.json), test heads as raw DICOM in axial, sagittal, coronal and oblique planes with their true masks.",
        discussion: """
        Procedural heads with exact labels: folded cortex (grey over white matter, CSF in sulci), ventricles of random size, \
        cerebellum, brainstem, CSF layer, skull with marrow, fat, skin, eyes, face, neck and spinal cord; each head has its \
        own sizes, thicknesses, smooth warp and pose. Training images vary resolution, slice thickness, field of view, bias \
        field, noise and contrast (T1-like, T2-like, or a random intensity per tissue); test heads are T1-like DICOM series. \
        The brain mask is the brain's outer surface and all it encloses (parenchyma, ventricles, sulcal CSF), as BET's is.
        """
    )

    @Argument(help: "Output folder (holds dataset.json, imagesTr/, labelsTr/, test/, testLabels/).")
    var output: String

    @Option(help: "Training heads (NIfTI).")
    var train = 24

    @Option(help: "Test heads (DICOM), cycling through axial, sagittal, coronal, oblique.")
    var test = 8

    @Option(help: "Random seed.")
    var seed: UInt64 = 7

    func validate() throws {
        guard train > 0, test >= 0 else { throw ValidationError("--train must be positive and --test not negative") }
    }

    func run() throws {
        var s = HeadSynth()
        s.trainHeads = train
        s.testHeads = test
        s.seed = seed
        let r = try s.write(to: output)
        print("wrote \(r.trainHeads) training heads and \(r.testHeads) DICOM test heads; datalist \(r.datalist)")
    }
}

struct SynthCTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ct",
        abstract: "Write a chest CT phantom (axial DICOM in HU) with its true lung mask (lungs_truth.nii.gz), for `mask`, `mesh` and `view`.",
        discussion: "Body with fat, two lungs (-850 HU) with vessels and bronchi, trachea leaving through the top, heart, spine, ribs, sternum, the scanner table under the body, noise and partial volume."
    )

    @Argument(help: "Output folder (dicom/ and lungs_truth.nii.gz).")
    var output: String

    @Option(help: "Rows and columns.") var matrix = 192
    @Option(help: "Pixel spacing (mm).") var pixelSpacing = 2.0
    @Option(help: "Slices.") var slices = 60
    @Option(help: "Slice spacing (mm).") var sliceSpacing = 3.0
    @Option(help: "Random seed.") var seed: UInt64 = 5

    func validate() throws {
        guard matrix >= 32, slices >= 4, pixelSpacing > 0, sliceSpacing > 0 else { throw ValidationError("--matrix >= 32, --slices >= 4, positive spacings") }
    }

    func run() throws {
        var s = ChestCTSynth()
        s.matrix = matrix; s.pixelSpacing = pixelSpacing; s.slices = slices; s.sliceSpacing = sliceSpacing; s.seed = seed
        let r = try s.write(to: output)
        print("wrote \(r.series) and \(r.lungs) (lungs \(String(format: "%.0f", r.lungML)) mL)")
    }
}

struct SynthExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a scanner-shaped fMRI or diffusion export: many small files, Siemens mosaics, one enhanced file of many frames, or a two-echo field map.",
        discussion: "fmri-classic: one file per slice and volume; fmri-mosaic: one Siemens mosaic (CSA header) per volume; dwi-enhanced: one Enhanced MR file, diffusion per frame; fieldmap: magnitude of two echoes and the phase difference. Used by `make bench`."
    )

    @Argument(help: "Kind of export.")
    var kind: ScannerExport.Kind

    @Argument(help: "Output folder.")
    var output: String

    @Option(help: "Rows and columns of every slice.")
    var matrix = 64

    @Option(help: "Slices per volume.")
    var slices = 36

    @Option(help: "Volumes (time points or diffusion directions).")
    var volumes = 300

    @Option(help: "Random seed (UIDs).")
    var seed: UInt64 = 7

    func validate() throws {
        guard matrix >= 8, slices >= 1, volumes >= 1 else { throw ValidationError("--matrix must be at least 8, --slices and --volumes at least 1") }
    }

    func run() throws {
        var e = ScannerExport(kind: kind)
        (e.matrix, e.slices, e.volumes, e.seed) = (matrix, slices, volumes, seed)
        let n = try e.write(to: output)
        print("wrote \(n) files (\(kind.rawValue), \(matrix)x\(matrix)x\(slices), \(kind == .fieldmap ? 1 : volumes) volume(s)) to \(output)")
    }
}

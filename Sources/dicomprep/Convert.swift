import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert every image series found in DICOM files or folders to NIfTI + JSON sidecar.",
        discussion: """
        Exit status: 0 when every series was written and nothing was skipped; 1 when some files or series \
        were skipped (each named with its reason on stderr and in the report); 2 for a usage error or when \
        nothing could be converted.
        """
    )

    @Argument(help: "DICOM files (also .dcm.gz), folders (searched recursively) or archives (.zip, .tar, .tar.gz/.tgz).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String

    @Flag(help: "Apply the VOI LUT / window (as pydicom's apply_voi_lut) after the modality LUT.")
    var voi = false

    @Option(help: "Permute/flip voxel axes to the nearest canonical orientation, e.g. RAS, LAS, LPS (no resampling).")
    var reorient: OrientationArgument?

    @Flag(name: .customLong("no-gzip"), help: "Write .nii instead of .nii.gz.")
    var noGzip = false

    @Option(help: "gzip level 0-12 (libdeflate; 1 matches pigz -6 in size at several times its speed).")
    var compressionLevel = 1

    @Option(help: "Output voxel type (auto: int16 when every value is an integer in range, else float32).")
    var dtype: DataTypeArgument = .auto

    @Option(help: "File name template; fields: {SeriesNumber} {SeriesDescription} {ProtocolName} {Modality} {SequenceName} {EchoNumber} {AcquisitionPlane} {AcquisitionNumber} {Part}.")
    var name = "{SeriesNumber}_{SeriesDescription}"

    @Flag(help: "Write every output directly into the output folder instead of mirroring the input's folders.")
    var flat = false

    @Option(help: "Series converted in parallel (default: all cores).")
    var jobs: Int?

    @Option(help: "Where to write the JSON report (default: OUTDIR/dicomprep-report.json).")
    var report: String?

    @Flag(help: "Refuse series with missing slices or non-uniform spacing instead of writing them with warnings.")
    var strict = false

    @Flag(help: "Keep identifying attributes (names, IDs, dates, UIDs) in sidecars and allow them in names.")
    var keepPhi = false

    @Option(help: "Allowed deviation of a slice step from the median before spacing counts as non-uniform (mm).")
    var spacingTolerance = 0.1

    @Flag(help: "Leave outputs whose sidecar records the same sources and options; convert the rest.")
    var resume = false

    @Flag(help: "Philips: write display values (RescaleSlope/Intercept only) instead of the precise values that also undo the private scale slope (2005,100E).")
    var philipsDisplay = false

    @Flag(help: "Write the echoes of a multi-echo series as one 4D output instead of one output per echo (_e1, _e2, ...).")
    var mergeEchoes = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors and the summary.")
    var quiet = false

    func run() throws {
        ProcessMemory.keepFreedBuffers()
        var o = ConvertOptions(inputs: inputs, outputDir: output)
        o.values = ValueOptions(dataType: dtype.type, philipsDisplayValues: philipsDisplay)
        o.applyVOI = voi
        o.mergeEchoes = mergeEchoes
        o.reorient = reorient?.transform.code
        o.gzip = !noGzip
        o.compressionLevel = compressionLevel
        o.nameTemplate = name
        o.mirrorFolders = !flat
        o.jobs = jobs ?? Parallel.cores
        o.reportPath = report
        o.strict = strict
        o.keepPHI = keepPhi
        o.spacingTolerance = spacingTolerance
        o.resume = resume
        let quiet = quiet
        let converter = Converter(options: o) { event in
            switch event {
            case let .skipped(s): Terminal.error("skipped \(s.path): \(s.reason)")
            case let .duplicate(d): if !quiet { Terminal.error("duplicate \(d.path)\(d.frame.map { " frame \($0)" } ?? ""): \(d.reason) as \(d.duplicateOf)") }
            case let .wrote(path, series, warnings):
                if !quiet {
                    Terminal.out("wrote \(path) (\(series))")
                    for w in warnings { Terminal.out("  warning: \(w.message)") }
                }
            case let .resumed(path): if !quiet { Terminal.out("kept \(path) (already complete)") }
            case let .scanned(n): if !quiet { Terminal.out("scanned \(n) files") }
            case let .parsed(n): if !quiet { Terminal.out("found \(n) volumes to write") }
            }
        }
        let r = try orExit { () throws(DicomPrepError) in try converter.run() }
        Terminal.out("\(r.counts.volumes) volumes written; files: \(r.counts.scanned) scanned, \(r.counts.used) used, \(r.counts.duplicate) duplicate, \(r.counts.skipped) skipped; \(r.failedSeries.count) series not written; report: \(report ?? output + "/dicomprep-report.json")")
        if r.exitStatus != 0 { throw ExitCode(Int32(r.exitStatus)) }
    }
}

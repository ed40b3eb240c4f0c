import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Dataset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Turn a Kaggle-style DICOM dataset into NIfTI volumes, model inputs and dataset.json.",
        subcommands: [DatasetConvert.self, DatasetMerge_.self]
    )
}

struct DatasetConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert every case × sequence (full-resolution NIfTI + sidecar, then the model input) and write OUTDIR/dataset.json.",
        discussion: """
        ROOT holds the splits (train/, test/) and the label file as Kaggle ships them. The model input of each \
        series: VOI LUT when the file has one, MONOCHROME1 inverted, optional reorientation to one plane, in-plane \
        resize to SIZE×SIZE (area when shrinking, bilinear when enlarging), the SLICES slices centred on the slice \
        with the largest foreground (Otsu threshold, largest connected component; zero-padded when shorter), and \
        min–max (or z-score) scaling. Exit status 1 when any case or sequence failed (listed in dataset.json).
        """
    )

    @Argument(help: "Dataset root (holds train/, test/ and the label CSV), or the download itself as a zip/tar/tar.gz, read without extracting.")
    var root: String

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String

    @Option(help: "Layout name (manifests/layouts/NAME.json) or file.")
    var layout = "rsna-miccai-2021"

    @Option(help: "Comma-separated sequences (default: all of the layout's).")
    var sequences: String?

    @Option(help: "Slices in each model input.")
    var slices = 64

    @Option(help: "In-plane size of each model input (SIZE×SIZE).")
    var size = 256

    @Option(help: "Reorient every series to this plane first.")
    var plane: ReorientToPlane.Plane?

    @Option(help: "Intensity scaling: minmax ([0,1]) or zscore.")
    var normalize: Normalize.Mode = .minmax

    @Option(help: "Model-input storage: as-is (float32) or scaled-int16 (half the size; NIfTI has no float16).")
    var storage: NiftiWriter.Storage = .asIs

    @Flag(help: "Do not apply the file's VOI LUT / window to model inputs.")
    var noVoi = false

    @Option(help: "Also write consecutive sub-volumes of K slices per series.")
    var groupSize: Int?

    @Option(help: "What to do with the last slices when --group-size does not divide the count.")
    var remainder: SliceGroups.Remainder = .pad

    @Flag(help: "Keep the cases the layout excludes as broken.")
    var keepExcluded = false

    @Option(help: "Cases converted in parallel (default: all cores).")
    var jobs: Int?

    @Flag(help: "Skip cases whose outputs exist with matching checksums and options.")
    var resume = false

    @Flag(help: "Write PNG contact sheets and OUTDIR/index.html.")
    var qc = false

    @Option(help: "Convert only shard K/N (0 <= K < N), by a stable hash of the case id; join with `dataset merge`.")
    var shard: ShardArgument?

    @Option(help: "gzip level 0-12.")
    var compressionLevel = 1

    func run() throws {
        ProcessMemory.keepFreedBuffers()
        let layoutValue: DatasetLayout = try orExit { () throws(DicomPrepError) in try DatasetLayout.named(layout) }
        var o = DatasetOptions(root: root, outputDir: output, layout: layoutValue)
        o.sequences = sequences?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        o.slices = slices
        o.size = size
        o.plane = plane
        o.normalize = normalize
        o.storage = storage
        o.voi = !noVoi
        o.groupSize = groupSize
        o.remainder = remainder
        o.keepExcluded = keepExcluded
        o.jobs = jobs ?? Parallel.cores
        o.resume = resume
        o.qc = qc
        o.compressionLevel = compressionLevel
        if let sh = shard { o.shard = (sh.index, sh.count) }
        let bar = UnsafeBox<ProgressBar?>(nil)
        let converter = DatasetConverter(options: o) { p in
            if bar.value == nil { bar.value = ProgressBar(total: p.total, label: "cases") }
            bar.value?.update(done: p.done, note: p.caseID + (p.resumed ? " (kept)" : ""))
            for f in p.failures { Terminal.error("\(p.caseID): \(f)") }
        }
        let m: DatasetManifest = try orExit { () throws(DicomPrepError) in try converter.run() }
        for f in m.failed { Terminal.error("not converted: \(f.split.map { $0 + "/" } ?? "")\(f.id): \(f.reason)") }
        Terminal.out("\(m.counts.cases) cases (\(m.counts.labeled) labelled, \(m.counts.positive) positive), \(m.counts.sequences) series; \(m.counts.failed) failed, \(m.counts.excluded) excluded, \(m.counts.resumed) kept from an earlier run; \(output)/dataset.json")
        if qc { Terminal.out("quality control: \(output)/index.html") }
        let partial = m.cases.contains { !$0.failures.isEmpty }
        if m.counts.cases == 0 { throw ExitCode(2) }
        if !m.failed.isEmpty || partial { throw ExitCode(1) }
    }
}

struct DatasetMerge_: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the dataset.json files of shards (dataset convert --shard K/N) into one; refuses missing or overlapping shards."
    )

    @Argument(help: "Shard output folders.")
    var shards: [String]

    @Option(name: .shortAndLong, help: "Output folder for the merged dataset.json.")
    var output: String

    func run() throws {
        let m = try orExit { () throws(DicomPrepError) in try DatasetMerge.merge(shards, into: output) }
        Terminal.out("merged \(shards.count) shards: \(m.counts.cases) cases into \(output)/dataset.json")
    }
}

/// A mutable reference for closures that the caller serialises.
final class UnsafeBox<T>: @unchecked Sendable {
    var value: T
    init(_ v: T) { value = v }
}

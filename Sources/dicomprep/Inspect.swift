import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the series dicomprep finds in DICOM input: sort key, spacing, affine, warnings."
    )

    @Argument(help: "DICOM files (also .dcm.gz), folders or archives (.zip, .tar, .tar.gz/.tgz).")
    var inputs: [String]

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: "Slice spacing tolerance (mm).")
    var spacingTolerance = 0.1

    func run() throws {
        ProcessMemory.keepFreedBuffers()
        let r = Inspector.inspect(inputs, spacingTolerance: spacingTolerance)
        if json {
            Terminal.out(try JSONOutput.encode(r).trimmingCharacters(in: .newlines))
        } else {
            Terminal.out("\(r.filesScanned) files, \(r.series.count) volumes")
            for s in r.series {
                Terminal.out("")
                Terminal.out("series \(s.series)\(s.part.map { " part \($0)" } ?? "") [\(s.modality)] in \(s.folder.isEmpty ? "." : s.folder)")
                Terminal.out("  files \(s.files), \(s.transferSyntax)")
                Terminal.out("  dimensions \(s.dimensions.map(String.init).joined(separator: "x")), pixel spacing \(s.pixelSpacing.map { fmt($0) }.joined(separator: " x ")) mm, slice spacing \(fmt(s.sliceSpacing)) mm")
                Terminal.out("  plane \(s.acquisitionPlane), axes \(s.axisCodes), sorted by \(s.sortKey)")
                Terminal.out("  affine (voxel -> RAS mm):")
                for row in s.affine.prefix(3) { Terminal.out("    " + row.map { fmt($0) }.joined(separator: "  ")) }
                var facts = ["image \(s.imageComponent)\(s.nameSuffix.map { " (name suffix \($0))" } ?? "")"]
                if let m = s.mosaicSlices { facts.append("Siemens mosaic of \(m) slices") }
                if s.dimensions[3] > 1 { facts.append("4D: \(s.dimensions[3]) volumes") }
                if let e = s.echoNumber { facts.append("echo \(e)" + (s.echoTimeMs.map { " (TE \(fmt($0)) ms)" } ?? "")) }
                Terminal.out("  " + facts.joined(separator: ", "))
                if let b = s.bValues { Terminal.out("  diffusion: b = \(b.map { fmt($0) }.joined(separator: ", ")) s/mm² from \(s.diffusionSource ?? "?")") }
                if let t = s.sliceTimingSource { Terminal.out("  slice timing from \(t)\(s.multibandAccelerationFactor.map { ", multiband \($0)" } ?? "")") }
                if let pe = s.phaseEncoding { Terminal.out("  phase encoding \(pe)") }
                if let ss = s.philipsScaleSlope { Terminal.out("  Philips scale slope \(fmt(ss)): precise values written by default") }
                for w in s.warnings { Terminal.out("  warning: \(w.message)") }
            }
            for d in r.duplicates { Terminal.out("duplicate \(d.path): \(d.reason) as \(d.duplicateOf)") }
            for s in r.skipped { Terminal.error("skipped \(s.path): \(s.reason)") }
        }
        if r.series.isEmpty { throw ExitCode(2) }
        if r.skipped.contains(where: { $0.notDicom != true }) { throw ExitCode(1) }
    }

    func fmt(_ v: Double) -> String { String(format: "%.4g", v == 0 ? 0 : v) }
}
import Foundation

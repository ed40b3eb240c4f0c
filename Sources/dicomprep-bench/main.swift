// dicomprep-bench: helpers for scripts/bench.sh.
//   dicomprep-bench gzip LEVEL THREADS FILE...   compress files in memory as dicomprep does; print seconds and bytes
//   dicomprep-bench compare REPORT DCM2NIIX_DIR   match outputs by SeriesNumber and compare voxel by voxel in world space
import DicomPrep
import Foundation

func fail(_ s: String) -> Never {
    FileHandle.standardError.write(Data((s + "\n").utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 2 else { fail("usage: dicomprep-bench gzip LEVEL THREADS FILE... | compare REPORT DIR") }

switch args[1] {
case "gzip":
    guard args.count >= 5, let level = Int(args[2]), let threads = Int(args[3]) else { fail("usage: gzip LEVEL THREADS FILE...") }
    let files = args[4...].map { FileManager.default.contents(atPath: $0) ?? Data() }
    let input = files.reduce(0) { $0 + $1.count }
    let start = Date()
    var output = 0
    for d in files {
        let bytes = [UInt8](d)
        output += try bytes.withUnsafeBytes { try Gzip.compress($0, level: level, threads: threads).count }
    }
    print(String(format: "%.3f %d %d", Date().timeIntervalSince(start), input, output))
case "compare":
    guard args.count == 4 else { fail("usage: compare REPORT DCM2NIIX_DIR") }
    let report = try JSONDecoder().decode(ConversionReport.self, from: Data(contentsOf: URL(fileURLWithPath: args[2])))
    let theirs = try FileManager.default.contentsOfDirectory(atPath: args[3]).filter { $0.hasSuffix(".nii.gz") || $0.hasSuffix(".nii") }
    var identical = 0, missing = 0, different: [String] = []
    for o in report.outputs {
        let side = try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: o.sidecar)))
        guard let n = side.SeriesNumber, let match = theirs.first(where: { $0.hasPrefix("\(n)_") }) else { missing += 1; continue }
        let c = VolumeComparison.compare(try NiftiIO.read(o.nifti), try NiftiIO.read(args[3] + "/" + match))
        if c.identical { identical += 1 } else { different.append("\(o.nifti): \(c.misplaced) misplaced, \(c.differing) differing") }
    }
    print("\(identical) identical \(different.count) different \(missing) unmatched of \(report.outputs.count)")
    for d in different { print("  " + d) }
    exit(different.isEmpty && missing == 0 ? 0 : 1)
default:
    fail("unknown command \(args[1])")
}

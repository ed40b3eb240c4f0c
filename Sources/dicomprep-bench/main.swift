// dicomprep-bench: helpers for scripts/bench.sh.
//   dicomprep-bench gzip LEVEL THREADS FILE...   compress files in memory as dicomprep does; print seconds and bytes
//   dicomprep-bench compare REPORT DCM2NIIX_DIR   match outputs by SeriesNumber and compare voxel by voxel in world space
//   dicomprep-bench torch ARCH D H W BATCH STEPS THREADS   training samples/s and inference ms/case (libtorch engine)
//   dicomprep-bench unet X Y Z BATCH STEPS THREADS [PREC]   UNet training s/step (Dice + CE; PREC float32 or bfloat16) and inference ms/window
//   dicomprep-bench patch X Y Z COUNT                       ms per augmented training patch (one thread), from a 160x192x160 case
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
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
case "torch":
    guard args.count == 9, let d = Int(args[3]), let h = Int(args[4]), let w = Int(args[5]), let batch = Int(args[6]),
          let steps = Int(args[7]), let threads = Int(args[8]) else { fail("usage: torch ARCH D H W BATCH STEPS THREADS") }
    let engine = try TorchEngine.load()
    engine.setThreads(threads)
    engine.manualSeed(0)
    let model = try engine.makeModel(architecture: args[2])
    try model.configureAdam(learningRate: 1e-4)
    let shape = [1, d, h, w], n = shape.reduce(1, *)
    var rng = SeededRandom(seed: 1)
    let x = (0..<(batch * n)).map { _ in Float(rng.unit()) }
    let y = (0..<batch).map { Float($0 % 2) }
    _ = try model.trainStep(x, targets: y, batch: batch, shape: shape) // warm-up
    var start = Date()
    for _ in 0..<steps { _ = try model.trainStep(x, targets: y, batch: batch, shape: shape) }
    let train = Double(batch * steps) / Date().timeIntervalSince(start)
    let one = Array(x.prefix(n))
    _ = try model.predict(one, batch: 1, shape: shape)
    start = Date()
    for _ in 0..<steps { _ = try model.predict(one, batch: 1, shape: shape) }
    let infer = Date().timeIntervalSince(start) / Double(steps) * 1000
    print(String(format: "%.3f %.1f", train, infer))
case "unet":
    // MONAI's UNet (16..256, strides 2, 2 residual units, instance norm, 2 classes): Dice + CE steps and sliding-window-size inference.
    guard args.count == 8 || args.count == 9, let x = Int(args[2]), let y = Int(args[3]), let z = Int(args[4]), let batch = Int(args[5]),
          let steps = Int(args[6]), let threads = Int(args[7]) else { fail("usage: unet X Y Z BATCH STEPS THREADS [float32|bfloat16]") }
    let engine = try TorchEngine.load()
    engine.setThreads(threads)
    engine.manualSeed(0)
    let model = try engine.makeUNet(outChannels: 2, channels: [16, 32, 64, 128, 256], strides: [2, 2, 2, 2])
    try model.configureAdam(learningRate: 1e-3)
    try model.setPrecision(args.count == 9 ? args[8] : "float32")
    let shape = [1, x, y, z], n = shape.reduce(1, *)
    var rng = SeededRandom(seed: 1)
    let img = (0..<(batch * n)).map { _ in Float(rng.unit()) }
    let lab = img.map { $0 > 0.5 ? UInt8(1) : 0 }
    _ = try model.trainStepSegment(img, labels: lab, batch: batch, shape: shape) // warm-up
    var start = Date()
    for _ in 0..<steps { _ = try model.trainStepSegment(img, labels: lab, batch: batch, shape: shape) }
    let perStep = Date().timeIntervalSince(start) / Double(steps)
    let one = Array(img.prefix(n))
    _ = try model.predictSegment(one, batch: 1, shape: shape)
    start = Date()
    for _ in 0..<steps { _ = try model.predictSegment(one, batch: 1, shape: shape) }
    let infer = Date().timeIntervalSince(start) / Double(steps) * 1000
    print(String(format: "%.3f %.1f", perStep, infer))
case "patch":
    guard args.count == 6, let x = Int(args[2]), let y = Int(args[3]), let z = Int(args[4]), let count = Int(args[5]) else { fail("usage: patch X Y Z COUNT") }
    let dims = [160, 192, 160], n = dims.reduce(1, *)
    var rng = SeededRandom(seed: 1)
    var image = [Float](repeating: 0, count: n), label = [UInt8](repeating: 0, count: n)
    for i in 0..<n {
        let px = Double(i % 160) / 80 - 1, py = Double((i / 160) % 192) / 96 - 1, pz = Double(i / (160 * 192)) / 80 - 1
        let r = (px * px + py * py + pz * pz).squareRoot()
        image[i] = Float(r < 0.9 ? 0.4 + 0.5 * rng.unit() : 0.05 * rng.unit())
        label[i] = r < 0.7 ? 1 : 0
    }
    var c = PreparedCase(id: "bench", dims: dims, spacing: [1, 1, 1], image: image, label: label)
    c.indexVoxels()
    let aug = SegmentationAugmentation()
    var sum: Float = 0
    _ = aug.patch(c, size: [x, y, z], rng: &rng)
    let start = Date()
    for _ in 0..<count { sum += aug.patch(c, size: [x, y, z], rng: &rng).image[0] }
    print(String(format: "%.1f", Date().timeIntervalSince(start) / Double(count) * 1000), sum.isFinite ? "" : "nan")
default:
    fail("unknown command \(args[1])")
}

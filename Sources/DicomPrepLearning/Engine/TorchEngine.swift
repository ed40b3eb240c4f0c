import DicomPrepCore
import CTorch
import Foundation

/// The only Swift code that calls libtorch (through the engine plugin, opened on first use so that the
/// conversion commands never load libtorch). Errors become `DicomPrepError`s; no C pointer leaves this file.
public final class TorchEngine: @unchecked Sendable {
    private let api: UnsafePointer<ctorch_api>
    /// Where the engine was loaded from.
    public let path: String

    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared: TorchEngine?

    private init(api: UnsafePointer<ctorch_api>, path: String) {
        self.api = api
        self.path = path
    }

    /// Candidate locations of libdicomprep_torch.so: $DICOMPREP_TORCH_ENGINE, then beside or above the
    /// executable (the Makefile puts it in .build/), then ../lib/dicomprep.
    static func candidates() -> [String] {
        var c: [String] = []
        if let e = ProcessInfo.processInfo.environment["DICOMPREP_TORCH_ENGINE"] { c.append(e) }
        for dir in Resources.executableAncestors() {
            c.append(dir.appendingPathComponent("libdicomprep_torch.so").path)
            c.append(dir.appendingPathComponent(".build/libdicomprep_torch.so").path)
            c.append(dir.appendingPathComponent("lib/dicomprep/libdicomprep_torch.so").path)
        }
        c.append(FileManager.default.currentDirectoryPath + "/.build/libdicomprep_torch.so")
        return c
    }

    /// The engine, loaded once.
    public static func load() throws(DicomPrepError) -> TorchEngine {
        lock.lock()
        defer { lock.unlock() }
        if let s = shared { return s }
        guard let path = candidates().first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw .usage("the torch engine libdicomprep_torch.so was not found (build it with `make torch`, or set DICOMPREP_TORCH_ENGINE)")
        }
        var err = [CChar](repeating: 0, count: 1024)
        guard let api = ctorch_load(path, &err, err.count) else { throw .io(path: path, reason: text(err)) }
        let e = TorchEngine(api: api, path: path)
        shared = e
        return e
    }

    static func text(_ b: [CChar]) -> String { String(decoding: b.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

    public var torchVersion: String { String(cString: api.pointee.torch_version!()!) }
    public var cudaAvailable: Bool { api.pointee.cuda_available!() == 1 }
    public var threads: Int { Int(api.pointee.get_threads!()) }
    public func setThreads(_ n: Int) { _ = api.pointee.set_num_threads_compat(n) }
    public func manualSeed(_ s: UInt64) { _ = api.pointee.manual_seed!(s) }

    /// A new network with MONAI's initialisation.
    public func makeModel(architecture: String, inChannels: Int = 1, classes: Int = 1, stemStride: [Int] = [1, 2, 2], device: String = "cpu") throws(DicomPrepError) -> TorchModel {
        var err = [CChar](repeating: 0, count: 1024)
        let stride = stemStride.map(Int64.init)
        guard stride.count == 3, let m = api.pointee.create!(architecture, Int32(inChannels), Int32(classes), stride, device, &err, err.count) else {
            throw .usage("cannot create \(architecture): \(Self.text(err))")
        }
        return TorchModel(engine: self, handle: m, classes: classes)
    }

    /// MONAI's UNet (spatial_dims=3) with its parameter names: `channels` per level, `strides` between levels.
    public func makeUNet(inChannels: Int = 1, outChannels: Int, channels: [Int], strides: [Int], residualUnits: Int = 2,
                         norm: String = "instance", device: String = "cpu") throws(DicomPrepError) -> TorchModel {
        guard channels.count >= 2, strides.count == channels.count - 1 else {
            throw .usage("a UNet needs at least two channel levels and one stride fewer than channels")
        }
        var err = [CChar](repeating: 0, count: 1024)
        let ch = channels.map(Int64.init), st = strides.map(Int64.init)
        guard let m = api.pointee.create_unet!(Int32(inChannels), Int32(outChannels), ch, st, Int32(channels.count), Int32(residualUnits),
                                               norm, device, &err, err.count) else {
            throw .usage("cannot create the UNet: \(Self.text(err))")
        }
        return TorchModel(engine: self, handle: m, classes: outChannels)
    }

    fileprivate var raw: ctorch_api { api.pointee }
}

extension ctorch_api {
    fileprivate func set_num_threads_compat(_ n: Int) -> Int32 { set_threads!(Int32(n)) }
}

/// A network (and its optimiser) living in the torch engine.
public final class TorchModel: @unchecked Sendable {
    private let engine: TorchEngine
    private let handle: OpaquePointer
    public let classes: Int

    fileprivate init(engine: TorchEngine, handle: OpaquePointer, classes: Int) {
        self.engine = engine
        self.handle = handle
        self.classes = classes
    }

    deinit { engine.raw.destroy!(handle) }

    private func check(_ rc: Int32, _ err: [CChar], _ what: String, path: String = "") throws(DicomPrepError) {
        guard rc == 0 else { throw path.isEmpty ? .io(path: "torch", reason: "\(what): \(TorchEngine.text(err))") : .io(path: path, reason: "\(what): \(TorchEngine.text(err))") }
    }

    public var parameterCount: Int { Int(engine.raw.parameter_count!(handle)) }

    /// Names of the parameters and buffers, as the state dict has them.
    public var stateKeys: [String] {
        var needed = 0
        _ = engine.raw.state_keys!(handle, nil, 0, &needed)
        var buf = [CChar](repeating: 0, count: needed + 1)
        _ = engine.raw.state_keys!(handle, &buf, buf.count, &needed)
        return TorchEngine.text(buf).split(separator: "\n").map(String.init)
    }

    public func configureAdam(learningRate: Double, weightDecay: Double = 0) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 512)
        try check(engine.raw.configure_adam!(handle, learningRate, weightDecay, &err, err.count), err, "configuring Adam")
    }

    /// Compute precision of the segmentation training steps: "float32" or "bfloat16" (mixed precision on the
    /// CPU: the forward pass in bfloat16 where libtorch's autocast allows, the weights, gradients, Adam and
    /// the loss in float32). Prediction is float32 either way.
    public func setPrecision(_ precision: String) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 512)
        try check(engine.raw.set_precision!(handle, precision, &err, err.count), err, "setting the precision")
    }

    /// Keeps an exponential moving average of the parameters, updated after every optimiser step (decay
    /// min(`decay`, (1 + t) / (10 + t)) at update t), starting from the current parameters; 0 stops it.
    public func setWeightAveraging(decay: Double) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 512)
        try check(engine.raw.set_ema!(handle, decay, &err, err.count), err, "setting weight averaging")
    }

    /// Exchanges the parameters with their average: the network then predicts (and saves) with the average
    /// until the next swap.
    public func swapAveragedWeights() throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 512)
        try check(engine.raw.swap_ema!(handle, &err, err.count), err, "swapping in the averaged weights")
    }

    /// Runs `body` with the averaged parameters in place of the live ones, and swaps back even when it throws.
    public func withAveragedWeights<T>(_ body: () throws(DicomPrepError) -> T) throws(DicomPrepError) -> T {
        try swapAveragedWeights()
        let r: Result<T, DicomPrepError>
        do throws(DicomPrepError) { r = .success(try body()) } catch { r = .failure(error) }
        try swapAveragedWeights()
        return try r.get()
    }

    public func saveAveragedWeights(to path: String) throws(DicomPrepError) {
        try writeAtomically(path, "saving the averaged weights", engine.raw.save_ema!)
    }

    public func loadAveragedWeights(from path: String) throws(DicomPrepError) {
        try read(path, "loading the averaged weights", engine.raw.load_ema!)
    }

    public func setLearningRate(_ lr: Double) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 512)
        try check(engine.raw.set_learning_rate!(handle, lr, &err, err.count), err, "setting the learning rate")
    }

    /// One optimisation step on a batch; returns the mean loss and the logits.
    public func trainStep(_ x: [Float], targets: [Float], batch: Int, shape: [Int]) throws(DicomPrepError) -> (loss: Float, logits: [Float]) {
        precondition(shape.count == 4 && x.count == batch * shape.reduce(1, *) && targets.count == batch * classes)
        var err = [CChar](repeating: 0, count: 1024)
        var loss: Float = 0
        var logits = [Float](repeating: 0, count: batch * classes)
        let rc = x.withUnsafeBufferPointer { xp in
            targets.withUnsafeBufferPointer { yp in
                logits.withUnsafeMutableBufferPointer { lp in
                    engine.raw.train_step!(handle, xp.baseAddress, yp.baseAddress, Int64(batch), Int64(shape[0]), Int64(shape[1]), Int64(shape[2]), Int64(shape[3]),
                                          &loss, lp.baseAddress, &err, err.count)
                }
            }
        }
        try check(rc, err, "training step")
        return (loss, logits)
    }

    /// Logits for a batch (eval mode).
    public func predict(_ x: [Float], batch: Int, shape: [Int]) throws(DicomPrepError) -> [Float] {
        precondition(shape.count == 4 && x.count == batch * shape.reduce(1, *))
        var err = [CChar](repeating: 0, count: 1024)
        var logits = [Float](repeating: 0, count: batch * classes)
        let rc = x.withUnsafeBufferPointer { xp in
            logits.withUnsafeMutableBufferPointer { lp in
                engine.raw.predict!(handle, xp.baseAddress, Int64(batch), Int64(shape[0]), Int64(shape[1]), Int64(shape[2]), Int64(shape[3]), lp.baseAddress, &err, err.count)
            }
        }
        try check(rc, err, "inference")
        return logits
    }

    /// One segmentation step (Dice + cross-entropy) on images `x` (batch x shape) and class indices
    /// `labels` (batch x spatial shape); returns the loss and the soft Dice per class.
    public func trainStepSegment(_ x: [Float], labels: [UInt8], batch: Int, shape: [Int]) throws(DicomPrepError) -> (loss: Float, dice: [Float]) {
        precondition(shape.count == 4 && x.count == batch * shape.reduce(1, *) && labels.count == batch * shape[1...].reduce(1, *))
        return try segmentStep(x, targets: labels, batch: batch, shape: shape, engine.raw.train_step_segment!)
    }

    /// One segmentation step against class fractions (partial volume) instead of indices: `targets` is
    /// batch x classes x spatial shape, each voxel's fractions in 0...1 summing to 1. Soft Dice and
    /// cross-entropy against the fractions; one-hot fractions give `trainStepSegment`'s loss.
    public func trainStepSegment(_ x: [Float], fractions targets: [Float], batch: Int, shape: [Int]) throws(DicomPrepError) -> (loss: Float, dice: [Float]) {
        precondition(shape.count == 4 && x.count == batch * shape.reduce(1, *) && targets.count == batch * classes * shape[1...].reduce(1, *))
        return try segmentStep(x, targets: targets, batch: batch, shape: shape, engine.raw.train_step_segment_soft!)
    }

    /// Runs one of the engine's segmentation steps (indices or fractions as targets).
    private func segmentStep<T>(_ x: [Float], targets: [T], batch: Int, shape: [Int],
                                _ step: (OpaquePointer?, UnsafePointer<Float>?, UnsafePointer<T>?, Int64, Int64, Int64, Int64, Int64,
                                         UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<CChar>?, Int) -> Int32)
        throws(DicomPrepError) -> (loss: Float, dice: [Float]) {
        var err = [CChar](repeating: 0, count: 1024)
        var loss: Float = 0
        var dice = [Float](repeating: 0, count: classes)
        let rc = x.withUnsafeBufferPointer { xp in
            targets.withUnsafeBufferPointer { yp in
                dice.withUnsafeMutableBufferPointer { dp in
                    step(handle, xp.baseAddress, yp.baseAddress, Int64(batch), Int64(shape[0]), Int64(shape[1]), Int64(shape[2]), Int64(shape[3]),
                         &loss, dp.baseAddress, &err, err.count)
                }
            }
        }
        try check(rc, err, "segmentation training step")
        return (loss, dice)
    }

    /// Softmax probabilities, batch x classes x spatial shape (eval mode).
    public func predictSegment(_ x: [Float], batch: Int, shape: [Int]) throws(DicomPrepError) -> [Float] {
        precondition(shape.count == 4 && x.count == batch * shape.reduce(1, *))
        var err = [CChar](repeating: 0, count: 1024)
        var probs = [Float](repeating: 0, count: batch * classes * shape[1...].reduce(1, *))
        let rc = x.withUnsafeBufferPointer { xp in
            probs.withUnsafeMutableBufferPointer { pp in
                engine.raw.predict_segment!(handle, xp.baseAddress, Int64(batch), Int64(shape[0]), Int64(shape[1]), Int64(shape[2]), Int64(shape[3]),
                                            pp.baseAddress, &err, err.count)
            }
        }
        try check(rc, err, "segmentation inference")
        return probs
    }

    /// Saves parameters and buffers atomically (Python: torch.jit.load(path).state_dict()).
    public func saveWeights(to path: String) throws(DicomPrepError) {
        try writeAtomically(path, "saving weights", engine.raw.save_weights!)
    }

    public func loadWeights(from path: String) throws(DicomPrepError) {
        try read(path, "loading weights", engine.raw.load_weights!)
    }

    public func saveOptimizer(to path: String) throws(DicomPrepError) {
        try writeAtomically(path, "saving the optimiser", engine.raw.save_optimizer!)
    }

    public func loadOptimizer(from path: String) throws(DicomPrepError) {
        try read(path, "loading the optimiser", engine.raw.load_optimizer!)
    }

    /// An engine call that writes or reads the file at a path.
    typealias FileCall = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int32

    /// `call` writes a temporary beside `path`, which then replaces it (fsync + rename).
    private func writeAtomically(_ path: String, _ what: String, _ call: FileCall) throws(DicomPrepError) {
        let tmp = path + ".tmp-\(getpid())"
        var err = [CChar](repeating: 0, count: 1024)
        try check(call(handle, tmp, &err, err.count), err, what, path: path)
        try Self.commit(tmp, path)
    }

    private func read(_ path: String, _ what: String, _ call: FileCall) throws(DicomPrepError) {
        var err = [CChar](repeating: 0, count: 1024)
        try check(call(handle, path, &err, err.count), err, what, path: path)
    }

    /// fsync + rename of a file libtorch wrote.
    static func commit(_ tmp: String, _ path: String) throws(DicomPrepError) {
        let fd = open(tmp, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw .io(path: path, reason: "cannot move the written file into place")
        }
    }
}

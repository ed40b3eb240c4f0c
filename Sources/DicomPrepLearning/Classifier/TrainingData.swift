import DicomPrepCore
import DicomPrepDataset
import Foundation

/// One model input with its label.
public struct Sample: Sendable, Equatable {
    public var caseID: String
    public var path: String
    public var label: Int?
}

/// Reads datalists (`manifest split` output, MONAI Decathlon format) into samples.
public enum DatalistReader {
    public static func load(_ file: String) throws(DicomPrepError) -> Datalist {
        guard let data = FileManager.default.contents(atPath: file) else { throw .io(path: file, reason: "cannot be read") }
        do { return try JSONDecoder().decode(Datalist.self, from: data) } catch { throw .io(path: file, reason: "not a datalist: \(error)") }
    }

    /// The samples under `key` (training, validation, test; nil: every key), for `sequence`'s input.
    public static func samples(_ file: String, key: String?, sequence: String?) throws(DicomPrepError) -> (samples: [Sample], list: Datalist) {
        let d = try load(file)
        let dir = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let seq = sequence ?? d.sequence
        var items: [DatalistItem] = []
        switch key {
        case "training": items = d.training ?? []
        case "validation": items = d.validation ?? []
        case "test": items = d.test ?? []
        default: items = (d.training ?? []) + (d.validation ?? []) + (d.test ?? [])
        }
        var out: [Sample] = []
        for it in items {
            guard let rel = it.sequences[seq] ?? (d.sequence == seq ? it.image : nil) else {
                throw .io(path: file, reason: "case \(it.case_) has no \(seq) input")
            }
            out.append(Sample(caseID: it.case_, path: rel.hasPrefix("/") ? rel : dir + "/" + rel, label: it.label))
        }
        return (out, d)
    }
}

/// Model inputs as float tensors of a fixed (slices, rows, columns) shape, read from NIfTI once and
/// kept in memory (or as raw float32 files on disk) for the following epochs.
public final class TensorCache: @unchecked Sendable {
    public enum Mode: String, Sendable, CaseIterable { case memory, disk, none }
    public let mode: Mode
    public let shape: [Int]
    let directory: String?
    private var memory: [String: [Float]] = [:]
    private let lock = NSLock()

    public init(mode: Mode, shape: [Int], directory: String?) {
        self.mode = mode
        self.shape = shape
        self.directory = directory
    }

    /// The tensor of a model-input file, fitted to the shape.
    public func tensor(_ path: String) throws(DicomPrepError) -> [Float] {
        if mode == .memory, let t = lock.withLock({ memory[path] }) { return t }
        let diskFile = directory.map { $0 + "/" + SHA256.hex(Array(path.utf8)).prefix(24) + ".f32" }
        if mode == .disk, let f = diskFile, let data = FileManager.default.contents(atPath: f), data.count == shape.reduce(1, *) * 4 {
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let t = try Self.read(path, shape: shape)
        switch mode {
        case .memory: lock.withLock { memory[path] = t }
        case .disk:
            if let f = diskFile { try t.withUnsafeBytes { b in catching { () throws(DicomPrepError) in try AtomicFile.write([b], to: f) } }.get() }
        case .none: break
        }
        return t
    }

    /// Reads a NIfTI model input (scaling applied) and fits it to (slices, rows, columns): in-plane
    /// resize when the size differs, centre crop or symmetric zero padding along slices.
    public static func read(_ path: String, shape: [Int]) throws(DicomPrepError) -> [Float] {
        let img = try NiftiIO.read(path)
        guard img.dims.count >= 3 else { throw .io(path: path, reason: "not a 3D volume") }
        let (nx, ny, nz) = (img.dims[0], img.dims[1], img.dims[2])
        return try fit(Volume(dims: [nx, ny, nz, 1], voxels: .float32(img.scaledValues.prefix(nx * ny * nz).map(Float.init)), affine: img.sform), shape: shape)
    }

    /// Fits a model input volume (its first time point) to (slices, rows, columns), as `read` does for files.
    public static func fit(_ input: Volume, shape: [Int]) throws(DicomPrepError) -> [Float] {
        let (nx, ny, nz) = (input.dims[0], input.dims[1], input.dims[2])
        var v = input.voxels.dataType == .float32 && input.voxels.count == nx * ny * nz ? input
            : Volume(dims: [nx, ny, nz, 1], voxels: .float32(Array(input.floatValues.prefix(nx * ny * nz))), affine: input.affine)
        let (d, h, w) = (shape[0], shape[1], shape[2])
        if nx != w || ny != h { v = try Resize(width: w, height: h).apply(v) }
        let f = v.floatValues
        if nz == d { return f }
        var out = [Float](repeating: 0, count: d * h * w)
        let per = h * w
        if nz > d {
            let start = (nz - d) / 2
            out.replaceSubrange(0..<(d * per), with: f[(start * per)..<((start + d) * per)])
        } else {
            let pad = (d - nz) / 2
            out.replaceSubrange((pad * per)..<((pad + nz) * per), with: f)
        }
        return out
    }
}

/// Builds batches on a background thread while the current one trains.
final class Prefetcher<Batch: Sendable>: @unchecked Sendable {
    private let make: @Sendable (Int) -> Result<Batch, DicomPrepError>
    private let count: Int
    private let queue = DispatchQueue(label: "dicomprep.prefetch")
    private var pending: (index: Int, group: DispatchGroup, box: UnsafeSendableBox<Result<Batch, DicomPrepError>?>)?

    init(count: Int, make: @escaping @Sendable (Int) -> Result<Batch, DicomPrepError>) {
        self.count = count
        self.make = make
    }

    private func schedule(_ k: Int) {
        guard k < count else { pending = nil; return }
        let g = DispatchGroup(), box = UnsafeSendableBox<Result<Batch, DicomPrepError>?>(nil)
        let make = self.make
        queue.async(group: g) { box.withLock { $0 = make(k) } }
        pending = (k, g, box)
    }

    /// Batch k (waiting for the background thread when it is still building it); starts k + 1.
    func batch(_ k: Int) throws(DicomPrepError) -> Batch {
        var result: Result<Batch, DicomPrepError>
        if let p = pending, p.index == k {
            p.group.wait()
            result = p.box.take()!
        } else {
            result = make(k)
        }
        schedule(k + 1)
        return try result.get()
    }
}

import DicomPrepCore
import DicomPrepDataset
import Foundation

/// How inference covers an image on the model grid.
public enum InferenceWindow: Sendable, Equatable {
    /// Sliding windows of the training patch size, overlapping (MONAI's sliding_window_inference with
    /// roi_size = the patch).
    case patch
    /// One window over the whole image, padded to a multiple of the network's total stride (at least the
    /// patch), when that has at most `maxVoxels` voxels; sliding patches otherwise. The network is fully
    /// convolutional, so this computes each voxel once instead of up to eight times.
    case whole(maxVoxels: Int)

    public static let wholeDefault = InferenceWindow.whole(maxVoxels: 160 * 160 * 160)
}

/// A segmentation bundle loaded for inference: its metadata and network.
public struct SegmentationModel: Sendable {
    public let bundle: String
    public let metadata: SegmentationMetadata
    let model: TorchModel

    /// Loads `bundle/metadata.json` and `weights` (default `bundle/model.pt`).
    public static func load(bundle: String, weights: String? = nil, threads: Int = Parallel.cores, device: String = "auto") throws(DicomPrepError) -> SegmentationModel {
        let meta = try SegmentationMetadata.load(bundle: bundle)
        let engine = try TorchEngine.load()
        engine.setThreads(threads)
        let dev = device == "auto" ? (engine.cudaAvailable ? "cuda" : "cpu") : device
        let n = meta.network
        let model = try engine.makeUNet(inChannels: n.inChannels, outChannels: n.outChannels, channels: n.channels, strides: n.strides,
                                        residualUnits: n.residualUnits, norm: n.norm, device: dev)
        try model.loadWeights(from: weights ?? bundle + "/model.pt")
        return SegmentationModel(bundle: bundle, metadata: meta, model: model)
    }

    public var classes: Int { metadata.network.outChannels }

    /// Class probabilities on the model grid of `volume`, x fastest, class-major.
    /// `mirror`: also predict the left-right mirrored image (the model grid's first axis is R) and average
    /// the two (test-time augmentation; twice the inference time).
    public func probabilitiesOnModelGrid(_ volume: Volume, window: InferenceWindow = .patch, mirror: Bool = false) throws(DicomPrepError) -> (grid: VoxelGrid, probs: [Float]) {
        let pre = metadata.preprocessing
        let grid = pre.grid(for: volume)
        let x = try pre.image(volume, grid: grid).floatValues
        let size = windowSize(window, dims: grid.dims)
        var w = SlidingWindow(window: size, overlap: metadata.overlap, batch: 1)
        w.fill = Float(pre.intensity.outMin)
        let m = model
        let run = { (image: [Float]) throws(DicomPrepError) -> [Float] in
            try w.run(image, dims: grid.dims, classes: self.classes) { (t: [Float], n: Int) throws(DicomPrepError) -> [Float] in
                try m.predictSegment(t, batch: n, shape: [1] + size)
            }
        }
        var probs = try run(x)
        if mirror {
            // Reversing x in every row (of the image, and of each class's probabilities).
            let nx = grid.dims[0]
            let flip = { (v: [Float]) -> [Float] in VoxelData.float32(v).mirroredInPlane(nx: nx, ny: v.count / nx, acrossRows: false).floats }
            let back = flip(try run(flip(x)))
            for v in probs.indices { probs[v] = (probs[v] + back[v]) / 2 }
        }
        return (grid, probs)
    }

    /// The window for an image of `dims` on the model grid.
    public func windowSize(_ window: InferenceWindow, dims: [Int]) -> [Int] {
        let patch = metadata.patch
        guard case let .whole(maxVoxels) = window else { return patch }
        let stride = metadata.network.strides.reduce(1, *)
        let whole = (0..<3).map { max(patch[$0], (dims[$0] + stride - 1) / stride * stride) }
        return whole.reduce(1, *) <= maxVoxels ? whole : patch
    }
}

/// Whole-image inference: model-grid probabilities (averaged over models) resampled back onto the
/// input's own grid, argmax, post-processing.
public enum SegmentationInference {
    public struct Result: Sendable {
        /// uint8 label map on the input grid and affine.
        public var labels: Volume
        /// Foreground class probabilities on the input grid (4D, one volume per class 1...).
        public var probabilities: Volume
    }

    public static func predict(_ volume: Volume, models: [SegmentationModel], postprocessing: SegmentationPostprocessing? = nil,
                               window: InferenceWindow = .patch, mirror: Bool = false) throws(DicomPrepError) -> Result {
        guard let first = models.first else { throw .usage("no model to predict with") }
        let classes = first.classes
        let inGrid = VoxelGrid(of: volume)
        let count = inGrid.count
        var onInput = [Float](repeating: 0, count: classes * count)
        for m in models {
            guard m.classes == classes else { throw .usage("the models do not have the same classes (\(m.bundle))") }
            let (grid, probs) = try m.probabilitiesOnModelGrid(volume, window: window, mirror: mirror)
            guard let inv = grid.affine.inverse else { throw .usage("singular model grid") }
            let map = inv * volume.affine
            for c in 0..<classes {
                let part = Array(probs[(c * grid.count)..<((c + 1) * grid.count)])
                let r = ResampleToGrid.resample(part, dims: grid.dims, map: map, to: inGrid.dims, interpolation: .linear, fill: c == 0 ? 1 : 0)
                for v in 0..<count { onInput[c * count + v] += r[v] / Float(models.count) }
            }
        }
        var labels = argmax(onInput, classes: classes, count: count)
        postprocess(&labels, classes: classes, dims: inGrid.dims, options: postprocessing ?? first.metadata.postprocessing)
        let lv = Volume(dims: inGrid.dims + [1], voxels: .uint8(labels), affine: volume.affine)
        let pv = Volume(dims: inGrid.dims + [classes - 1], voxels: .float32(Array(onInput[count...])), affine: volume.affine)
        return Result(labels: lv, probabilities: pv)
    }

    /// The most probable class per voxel.
    public static func argmax(_ probs: [Float], classes: Int, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        for v in 0..<count {
            var best = probs[v], arg = 0
            for c in 1..<classes where probs[c * count + v] > best { best = probs[c * count + v]; arg = c }
            out[v] = UInt8(arg)
        }
        return out
    }

    /// Largest component and hole filling per foreground label.
    public static func postprocess(_ labels: inout [UInt8], classes: Int, dims: [Int], options: SegmentationPostprocessing) {
        guard options.largestComponent || options.fillHoles else { return }
        for c in 1..<classes {
            var mask = labels.map { $0 == UInt8(c) }
            guard mask.contains(true) else { continue }
            if options.largestComponent { mask = LabelOperations.keepLargest(mask, dims: dims) }
            if options.fillHoles { mask = LabelOperations.fillHoles(mask, dims: dims) }
            for v in labels.indices {
                if mask[v] { labels[v] = UInt8(c) } else if labels[v] == UInt8(c) { labels[v] = 0 }
            }
        }
    }
}

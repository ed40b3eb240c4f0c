import DicomPrepCore
import Foundation

/// Sliding-window inference over a whole prepared image (MONAI's sliding_window_inference): windows of
/// the training patch size overlapping by `overlap`, each prediction weighted by a Gaussian importance
/// map (sigma = `sigmaScale` × window) so window borders do not show; images smaller than a window are
/// padded with the background value. Returns per-class probabilities on the image grid, x fastest.
public struct SlidingWindow: Sendable {
    public var window: [Int]
    public var overlap = 0.25
    public var sigmaScale = 0.125
    public var batch = 1
    public var fill: Float = 0

    public init(window: [Int], overlap: Double = 0.25, batch: Int = 1) {
        self.window = window
        self.overlap = overlap
        self.batch = batch
    }

    /// Window starts along one axis of length n.
    static func starts(_ n: Int, window w: Int, overlap: Double) -> [Int] {
        if n <= w { return [0] }
        let step = max(1, Int((Double(w) * (1 - overlap)).rounded(.down)))
        var s = Array(stride(from: 0, to: n - w, by: step))
        if s.last != n - w { s.append(n - w) }
        return s
    }

    /// Gaussian importance of each window voxel, tensor order (z fastest), max 1.
    func importance() -> [Float] {
        let g = (0..<3).map { a -> [Double] in
            let w = window[a], sigma = max(Double(w) * sigmaScale, 1e-3), c = Double(w - 1) / 2
            return (0..<w).map { exp(-0.5 * pow((Double($0) - c) / sigma, 2)) }
        }
        var out = [Float](repeating: 0, count: window.reduce(1, *))
        for i in 0..<window[0] { for j in 0..<window[1] { for k in 0..<window[2] {
            out[(i * window[1] + j) * window[2] + k] = Float(max(g[0][i] * g[1][j] * g[2][k], 1e-3))
        } } }
        return out
    }

    public func run(_ image: [Float], dims d: [Int], classes: Int,
                    predict: ([Float], Int) throws(DicomPrepError) -> [Float]) throws(DicomPrepError) -> [Float] {
        let (wx, wy, wz) = (window[0], window[1], window[2])
        let per = wx * wy * wz
        let count = d[0] * d[1] * d[2]
        var acc = [Float](repeating: 0, count: classes * count)
        var weight = [Float](repeating: 0, count: count)
        let imp = importance()
        var origins: [[Int]] = []
        for z in Self.starts(d[2], window: wz, overlap: overlap) {
            for y in Self.starts(d[1], window: wy, overlap: overlap) {
                for x in Self.starts(d[0], window: wx, overlap: overlap) { origins.append([x, y, z]) }
            }
        }
        var b = 0
        while b < origins.count {
            let part = Array(origins[b..<min(b + max(1, batch), origins.count)])
            var x = [Float](repeating: fill, count: part.count * per)
            for (n, o) in part.enumerated() {
                for i in 0..<wx where o[0] + i < d[0] {
                    for j in 0..<wy where o[1] + j < d[1] {
                        let dst = n * per + (i * wy + j) * wz
                        let src0 = o[0] + i + d[0] * (o[1] + j)
                        for k in 0..<wz where o[2] + k < d[2] { x[dst + k] = image[src0 + d[0] * d[1] * (o[2] + k)] }
                    }
                }
            }
            let probs = try predict(x, part.count)
            for (n, o) in part.enumerated() {
                for i in 0..<wx where o[0] + i < d[0] {
                    for j in 0..<wy where o[1] + j < d[1] {
                        let t0 = (i * wy + j) * wz
                        let v0 = o[0] + i + d[0] * (o[1] + j)
                        for k in 0..<wz where o[2] + k < d[2] {
                            let v = v0 + d[0] * d[1] * (o[2] + k), w = imp[t0 + k]
                            weight[v] += w
                            for c in 0..<classes { acc[c * count + v] += w * probs[(n * classes + c) * per + t0 + k] }
                        }
                    }
                }
            }
            b += part.count
        }
        for v in 0..<count where weight[v] > 0 {
            let inv = 1 / weight[v]
            for c in 0..<classes { acc[c * count + v] *= inv }
        }
        return acc
    }
}

import DicomPrepCore
import Foundation

/// Renders phantoms onto voxel grids: partial volume (subsamples per voxel), thick slices, a smooth bias
/// field and noise; the label map is exact at voxel centres.
public struct HeadRenderer: Sendable {
    public var phantom: HeadPhantom
    public var intensities: [Double]
    public var bias = 0.2
    public var noise = 0.02
    public var scale = 1000.0
    public var seed: UInt64 = 1

    public init(phantom: HeadPhantom, intensities: [Double]) {
        self.phantom = phantom
        self.intensities = intensities
    }

    /// Image values (already scaled) and the brain mask on a grid given by its voxel -> RAS affine.
    /// `thickness` (mm, along the third axis) averages subsamples across thick slices.
    /// `fractions`: also the share of each tissue in every voxel (from the same subsamples), tissue-major,
    /// 0...255 summing to 255 per voxel: the label map a random appearance is drawn from at training.
    public func render(dims: [Int], affine: Matrix4, thickness: Double? = nil, fractions: Bool = false,
                       threads: Int = Parallel.cores) -> (image: [Float], brain: [UInt8], tissues: [UInt8]?) {
        let n = dims[0] * dims[1] * dims[2]
        let img = UnsafeMutableBufferPointer<Float>.allocate(capacity: n), lab = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: n)
        let tissueCount = HeadPhantom.Tissue.allCases.count
        let frac = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: fractions ? n * tissueCount : 0)
        frac.initialize(repeating: 0)
        let ib = SendableBuffer(img), lb = SendableBuffer(lab), fb = SendableBuffer(frac)
        let sliceStep = affine.column(2).length
        let across = max(1, Int(((thickness ?? sliceStep) / sliceStep).rounded()))
        // Subsample offsets in voxel units: 4 in-plane (a rotated grid) times `across` through the slice.
        var offsets: [Vector3] = []
        let plane = [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)]
        let t = (thickness ?? sliceStep) / sliceStep
        for a in 0..<across {
            let z = across == 1 ? 0 : (Double(a) + 0.5) / Double(across) * t - t / 2
            for (k, (x, y)) in plane.enumerated() { offsets.append(Vector3(x, y, z + (across == 1 ? (k % 2 == 0 ? -0.25 : 0.25) : 0))) }
        }
        var rng = SeededRandom(seed: seed)
        let bc = (0..<6).map { _ in (rng.unit() * 2 - 1) * bias }
        let centre = affine.apply(Vector3(Double(dims[0] - 1) / 2, Double(dims[1] - 1) / 2, Double(dims[2] - 1) / 2))
        let phantom = self.phantom, values = intensities, scale = self.scale, noise = self.noise, seed = self.seed
        let subsamples = offsets
        Parallel.forEach(count: dims[2], threads: threads) { k in
            var r = SeededRandom(seed: seed &+ UInt64(k) &* 0x9E37)
            var counts = [Int](repeating: 0, count: tissueCount)
            for j in 0..<dims[1] {
                for i in 0..<dims[0] {
                    let idx = i + dims[0] * (j + dims[1] * k)
                    let c = Vector3(Double(i), Double(j), Double(k))
                    lb.buffer[idx] = phantom.tissue(affine.apply(c)).isBrain ? 1 : 0
                    var acc = 0.0
                    if fractions {
                        for t in 0..<tissueCount { counts[t] = 0 }
                        for o in subsamples {
                            let t = Int(phantom.tissue(affine.apply(c + o)).rawValue)
                            acc += values[t]
                            counts[t] += 1
                        }
                        // Shares in 1/255, rounded, the remainder to the most frequent tissue.
                        var total = 0, most = 0
                        for t in 0..<tissueCount where counts[t] > 0 {
                            let q = (counts[t] * 255 + subsamples.count / 2) / subsamples.count
                            fb.buffer[t * n + idx] = UInt8(q)
                            total += q
                            if counts[t] > counts[most] { most = t }
                        }
                        fb.buffer[most * n + idx] = UInt8(Int(fb.buffer[most * n + idx]) + 255 - total)
                    } else {
                        for o in subsamples { acc += values[Int(phantom.tissue(affine.apply(c + o)).rawValue)] }
                    }
                    var v = acc / Double(subsamples.count)
                    let w = affine.apply(c) - centre
                    let b = bc[0] * w.x / 100 + bc[1] * w.y / 100 + bc[2] * w.z / 100 + bc[3] * w.x * w.y / 1e4 + bc[4] * w.y * w.z / 1e4 + bc[5] * (w.z * w.z / 1e4 - 0.3)
                    v *= exp(b)
                    // Rician-like noise: magnitude of a complex value with Gaussian noise.
                    let u1 = max(r.unit(), 1e-12), u2 = r.unit(), g = (-2 * log(u1)).squareRoot()
                    let re = v + noise * g * cos(2 * .pi * u2), im = noise * g * sin(2 * .pi * u2)
                    ib.buffer[idx] = Float((re * re + im * im).squareRoot() * scale)
                }
            }
        }
        let out = (Array(img), Array(lab), fractions ? Array(frac) : nil)
        img.deallocate()
        lab.deallocate()
        frac.deallocate()
        return out
    }
}

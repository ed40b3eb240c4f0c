import DicomPrepCore
import Foundation

/// Random training patches with on-the-fly augmentation, drawn straight from a prepared case by one
/// resampling per patch: a centre from the foreground or the background (MONAI's
/// RandCropByPosNegLabel), a random rotation, scaling and flips about it (image trilinear, labels
/// trilinear on one-hot), a smooth random non-linear warp (new anatomy every patch, as SynthStrip's deformations),
/// then intensity changes (gamma, a smooth multiplicative bias field, contrast, noise, blur by
/// lower resolution). Everything is a function of the generator passed in, so an epoch is reproducible.
public struct SegmentationAugmentation: Codable, Sendable, Equatable {
    /// Positive : negative centres.
    public var positive = 1.0
    public var negative = 1.0
    /// Maximum rotation about each axis (degrees).
    public var rotateDegrees = 15.0
    public var scaleRange = 0.1
    /// Flip probability per axis (x = left/right, y, z).
    public var flip = [0.5, 0.0, 0.0]
    public var gamma = 0.3
    public var biasField = 0.3
    public var contrast = 0.15
    public var noise = 0.03
    public var lowResolution = 0.2
    /// Probability per patch of a fresh appearance drawn from the case's tissue map (SynthStrip's
    /// synthesis): every tissue gets a random intensity, mixed by the tissue fractions of each voxel
    /// (partial volume), then scaled as the bundle's preprocessing scales images. Only for cases with a
    /// `"tissues"` map; the others (and the remaining patches) use the stored image. nil (bundles made
    /// before it existed) means 0.
    public var resynthesize: Double?
    /// Maximum displacement (mm) of a smooth random non-linear warp per patch: random displacements on a
    /// coarse control grid (one point every `warpControlMM` or closer, at least 3 per axis), interpolated
    /// trilinearly, so shapes bend, swell and shrink without tearing or folding (the amplitude is also kept
    /// to a quarter of the control points' distance, so displacement gradients stay below 0.5).
    /// Each patch draws its amplitude uniformly in 0...warp. nil (bundles made before it existed) means 0.
    /// Default 6 mm: on the bench's synthetic heads it kept the lower cerebellum and most of the neck out
    /// of the errors on a real head (Colin27 0.939 against 0.907 without, at about the same synthetic Dice).
    public var warp: Double? = 6
    /// Control point spacing of the warp (mm); nil (bundles made before it existed) means 48.
    public var warpControlMM: Double? = 48
    /// Largest share by which what lies outside the foreground, within `layerBandMM` of it, is stretched or
    /// squeezed along the distance to the foreground, per patch (a smooth random share in ±this over the
    /// patch, on the warp's control grid): a voxel d mm out (counted from one voxel beyond the foreground, so
    /// its edge stays) shows what lies f(d) = d (1 + s (1 - d/band)) mm out, so the layers around the object
    /// (for a brain: the CSF, skull and scalp) thicken and thin while the object and its labels stay as they
    /// are, and its distance to them stops being a cue. f rises with d and is positive for d > 0, so the
    /// layers keep their order and nothing outside shows the object. nil (bundles made before it existed) or
    /// 0: off.
    public var layerStretch: Double?
    /// Width (mm) of the band outside the foreground that `layerStretch` changes; nil means 15.
    public var layerBandMM: Double?

    public init() {}

    /// No spatial or intensity changes: centre sampling only.
    public static var none: SegmentationAugmentation {
        var a = SegmentationAugmentation()
        a.rotateDegrees = 0; a.scaleRange = 0; a.flip = [0, 0, 0]; a.gamma = 0; a.biasField = 0; a.contrast = 0; a.noise = 0; a.lowResolution = 0
        a.resynthesize = 0
        a.warp = 0
        a.layerStretch = 0
        return a
    }

    public var names: [String] {
        var n = ["pos/neg \(positive):\(negative)"]
        if rotateDegrees > 0 { n.append("rotate ±\(rotateDegrees)°") }
        if scaleRange > 0 { n.append("scale ±\(Int(scaleRange * 100))%") }
        if flip.contains(where: { $0 > 0 }) { n.append("flip \(flip)") }
        if gamma > 0 { n.append("gamma ±\(gamma)") }
        if biasField > 0 { n.append("bias field \(biasField)") }
        if contrast > 0 { n.append("contrast ±\(contrast)") }
        if noise > 0 { n.append("noise σ≤\(noise)") }
        if lowResolution > 0 { n.append("low resolution p=\(lowResolution)") }
        if let p = resynthesize, p > 0 { n.append("random appearance from tissue maps p=\(p)") }
        if let w = warp, w > 0 { n.append("non-linear warp ≤\(w) mm (control points every \(warpControlMM ?? 48) mm)") }
        if let l = layerStretch, l > 0 { n.append("layers outside the foreground stretched ±\(Int(l * 100))% within \(layerBandMM ?? 15) mm") }
        return n
    }

    /// One patch of `size` (x, y, z) in tensor order (z fastest): image floats and class indices.
    /// `intensity`: the bundle's intensity scaling, applied to a freshly synthesised appearance.
    /// `fractions` (for a case with class fractions): also each class's share of every patch voxel,
    /// trilinear in the case's fractions, class-major (classes x patch voxels, 0...1; outside the case,
    /// background); `label` is then left empty.
    public func patch(_ c: PreparedCase, size: [Int], intensity scaling: ScaleIntensity = SegmentationPreprocessing().intensity,
                      fractions wantFractions: Bool = false, rng: inout SeededRandom) -> (image: [Float], label: [UInt8], fractions: [Float]) {
        let source = c.tissueCount > 0 && (resynthesize ?? 0) > 0 && rng.unit() < (resynthesize ?? 0)
            ? TissueAppearance.render(c, scaling: scaling, rng: &rng) : c.image
        let total = positive + negative
        let wantPositive = !c.foreground.isEmpty && (c.background.isEmpty || rng.unit() * total < positive)
        let pool = wantPositive ? c.foreground : c.background
        let centreIndex = pool.isEmpty ? (c.dims[0] * c.dims[1] * c.dims[2]) / 2 : Int(pool[Int(rng.next() % UInt64(pool.count))])
        let nx = c.dims[0], ny = c.dims[1], nz = c.dims[2]
        let centre = [Double(centreIndex % nx), Double((centreIndex / nx) % ny), Double(centreIndex / (nx * ny))]
        // Patch index -> source index: centre + D^-1 R S F D (p - pc), D = spacing.
        func u() -> Double { rng.unit() * 2 - 1 }
        let ax = u() * rotateDegrees * .pi / 180, ay = u() * rotateDegrees * .pi / 180, az = u() * rotateDegrees * .pi / 180
        let s = 1 + u() * scaleRange
        let flips = flip.map { rng.unit() < $0 ? -1.0 : 1.0 }
        let rx = [[1, 0, 0], [0, cos(ax), -sin(ax)], [0, sin(ax), cos(ax)]]
        let ry = [[cos(ay), 0, sin(ay)], [0, 1, 0], [-sin(ay), 0, cos(ay)]]
        let rz = [[cos(az), -sin(az), 0], [sin(az), cos(az), 0], [0, 0, 1]]
        func mul(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
            (0..<3).map { i in (0..<3).map { j in (0..<3).reduce(0) { $0 + a[i][$1] * b[$1][j] } } }
        }
        var m = mul(rz, mul(ry, rx))
        let sp = c.spacing
        for i in 0..<3 { for j in 0..<3 { m[i][j] = m[i][j] * s * flips[j] * sp[j] / sp[i] } }
        let px = size[0], py = size[1], pz = size[2]
        let per = px * py * pz
        var image = [Float](repeating: 0, count: per)
        let soft = wantFractions && c.fractionClasses > 0
        var label = [UInt8](repeating: 0, count: soft ? 0 : per)
        let classCount = soft ? c.fractionClasses : 0
        var fractions = [Float](repeating: 0, count: classCount * per)
        if soft { for v in 0..<per { fractions[v] = 1 } }
        let n = nx * ny * nz
        let half = [Double(px - 1) / 2, Double(py - 1) / 2, Double(pz - 1) / 2]
        let field = RandomWarpField(size: size, spacing: sp, scale: s, maxMM: warp ?? 0, controlMM: warpControlMM ?? 48, rng: &rng)
        let band = Float(layerBandMM ?? 15)
        let stretch = c.outsideDistance.count == nx * ny * nz
            ? RandomScalarField(size: size, spacing: sp, scale: s, amplitude: layerStretch ?? 0, controlMM: warpControlMM ?? 48, rng: &rng) : nil
        source.withUnsafeBufferPointer { img in
            c.label.withUnsafeBufferPointer { lab in
              c.fractions.withUnsafeBufferPointer { fr in
               c.outsideDistance.withUnsafeBufferPointer { dist in
                for i in 0..<px {
                    let di = Double(i) - half[0]
                    for j in 0..<py {
                        let dj = Double(j) - half[1]
                        let bx = centre[0] + m[0][0] * di + m[0][1] * dj, by = centre[1] + m[1][0] * di + m[1][1] * dj
                        let bz = centre[2] + m[2][0] * di + m[2][1] * dj
                        let row = (i * py + j) * pz
                        for k in 0..<pz {
                            let dk = Double(k) - half[2]
                            var x = bx + m[0][2] * dk, y = by + m[1][2] * dk, z = bz + m[2][2] * dk
                            if let field {
                                let d = field.displacement(i, j, k)
                                x += d.0; y += d.1; z += d.2
                            }
                            guard x > -0.5, y > -0.5, z > -0.5, x < Double(nx) - 0.5, y < Double(ny) - 0.5, z < Double(nz) - 0.5 else { continue }
                            let cx = min(max(x, 0), Double(nx - 1)), cy = min(max(y, 0), Double(ny - 1)), cz = min(max(z, 0), Double(nz - 1))
                            let x0 = min(Int(cx), nx - 2), y0 = min(Int(cy), ny - 2), z0 = min(Int(cz), nz - 2)
                            let fx = Float(cx - Double(x0)), fy = Float(cy - Double(y0)), fz = Float(cz - Double(z0))
                            let b = x0 + nx * (y0 + ny * z0), sy = nx, sz = nx * ny
                            // The image is read where the layer stretch moves the point (labels stay where they are).
                            var ib = b, gx = fx, gy = fy, gz = fz
                            if let stretch {
                                let m = Self.layerShift(dist, nx, ny, nz, sp, cx, cy, cz, x0, y0, z0, fx, fy, fz, band: band) { stretch.value(i, j, k) }
                                if m != (0, 0, 0) {
                                    let mx = min(max(cx + m.0, 0), Double(nx - 1)), my = min(max(cy + m.1, 0), Double(ny - 1)), mz = min(max(cz + m.2, 0), Double(nz - 1))
                                    let a0 = min(Int(mx), nx - 2), a1 = min(Int(my), ny - 2), a2 = min(Int(mz), nz - 2)
                                    ib = a0 + nx * (a1 + ny * a2)
                                    gx = Float(mx - Double(a0)); gy = Float(my - Double(a1)); gz = Float(mz - Double(a2))
                                }
                            }
                            let c00 = img[ib] + (img[ib + 1] - img[ib]) * gx
                            let c10 = img[ib + sy] + (img[ib + sy + 1] - img[ib + sy]) * gx
                            let c01 = img[ib + sz] + (img[ib + sz + 1] - img[ib + sz]) * gx
                            let c11 = img[ib + sz + sy] + (img[ib + sz + sy + 1] - img[ib + sz + sy]) * gx
                            let c0 = c00 + (c10 - c00) * gy, c1 = c01 + (c11 - c01) * gy
                            image[row + k] = c0 + (c1 - c0) * gz
                            if soft {
                                for cl in 0..<classCount {
                                    fractions[cl * per + row + k] = Self.trilinear(fr, cl * n + b, sy, sz, fx, fy, fz) / 255
                                }
                            } else {
                                label[row + k] = Self.trilinearLabel(lab, b, sy, sz, fx, fy, fz)
                            }
                        }
                    }
                }
               }
              }
            }
        }
        intensity(&image, size: size, rng: &rng)
        return (image, label, fractions)
    }

    /// The move (source voxels along x, y, z) of a source point by `layerStretch`. The point is (cx, cy, cz),
    /// in the cell at (x0, y0, z0) with fractions (fx, fy, fz). Its distance outside the foreground, d, is
    /// the distance map interpolated there less one voxel along the normal (the map measures to the nearest
    /// foreground voxel's centre, and the image's edge ramps over the voxel beyond it), so the foreground and
    /// its own edge do not move. A point d mm out moves to f(d) = d (1 + share (1 - d/band)) mm out
    /// along the distance's gradient (central differences at the nearest voxel); none inside or beyond the
    /// band. `share` is asked only there.
    @inline(__always)
    static func layerShift(_ dist: UnsafeBufferPointer<Float>, _ nx: Int, _ ny: Int, _ nz: Int, _ sp: [Double],
                           _ cx: Double, _ cy: Double, _ cz: Double, _ x0: Int, _ y0: Int, _ z0: Int, _ fx: Float, _ fy: Float, _ fz: Float,
                           band: Float, share: () -> Float) -> (Double, Double, Double) {
        let sy = nx, sz = nx * ny
        let b = x0 + nx * (y0 + ny * z0)
        // Cheap rejection: the cell's corners all inside the foreground or all beyond the band (and a voxel).
        let lo = min(min(min(dist[b], dist[b + 1]), min(dist[b + sy], dist[b + sy + 1])), min(min(dist[b + sz], dist[b + sz + 1]), min(dist[b + sz + sy], dist[b + sz + sy + 1])))
        let hi = max(max(max(dist[b], dist[b + 1]), max(dist[b + sy], dist[b + sy + 1])), max(max(dist[b + sz], dist[b + sz + 1]), max(dist[b + sz + sy], dist[b + sz + sy + 1])))
        guard hi > 0, Double(lo) < Double(band) + max(sp[0], sp[1], sp[2]) else { return (0, 0, 0) }
        let i = Int(cx.rounded()), j = Int(cy.rounded()), k = Int(cz.rounded())
        guard i > 0, j > 0, k > 0, i < nx - 1, j < ny - 1, k < nz - 1 else { return (0, 0, 0) }
        let v = i + nx * (j + ny * k)
        let gx = Double(dist[v + 1] - dist[v - 1]) / (2 * sp[0]), gy = Double(dist[v + sy] - dist[v - sy]) / (2 * sp[1])
        let gz = Double(dist[v + sz] - dist[v - sz]) / (2 * sp[2])
        let norm = (gx * gx + gy * gy + gz * gz).squareRoot()
        guard norm > 1e-6 else { return (0, 0, 0) }
        let ux = gx / norm, uy = gy / norm, uz = gz / norm
        let voxel = abs(ux) * sp[0] + abs(uy) * sp[1] + abs(uz) * sp[2]
        let c00 = dist[b] + (dist[b + 1] - dist[b]) * fx, c10 = dist[b + sy] + (dist[b + sy + 1] - dist[b + sy]) * fx
        let c01 = dist[b + sz] + (dist[b + sz + 1] - dist[b + sz]) * fx, c11 = dist[b + sz + sy] + (dist[b + sz + sy + 1] - dist[b + sz + sy]) * fx
        let c0 = c00 + (c10 - c00) * fy, c1 = c01 + (c11 - c01) * fy
        let d = Double(c0 + (c1 - c0) * fz) - voxel
        guard d > 0, d < Double(band) else { return (0, 0, 0) }
        let move = Double(share()) * d * (1 - d / Double(band))
        return (move * ux / sp[0], move * uy / sp[1], move * uz / sp[2])
    }

    /// Trilinear interpolation of bytes at base index `b` (strides 1, `sy`, `sz`).
    @inline(__always)
    static func trilinear(_ a: UnsafeBufferPointer<UInt8>, _ b: Int, _ sy: Int, _ sz: Int, _ fx: Float, _ fy: Float, _ fz: Float) -> Float {
        let c00 = Float(a[b]) + (Float(a[b + 1]) - Float(a[b])) * fx
        let c10 = Float(a[b + sy]) + (Float(a[b + sy + 1]) - Float(a[b + sy])) * fx
        let c01 = Float(a[b + sz]) + (Float(a[b + sz + 1]) - Float(a[b + sz])) * fx
        let c11 = Float(a[b + sz + sy]) + (Float(a[b + sz + sy + 1]) - Float(a[b + sz + sy])) * fx
        let c0 = c00 + (c10 - c00) * fy, c1 = c01 + (c11 - c01) * fy
        return c0 + (c1 - c0) * fz
    }

    /// The class with the largest trilinear weight among the 8 labels around a point (the one-hot maps
    /// interpolated, nnU-Net's way of resampling segmentations), so rotated and scaled label boundaries
    /// stay where the image's are instead of jumping by up to half a voxel. Ties go to the first corner.
    @inline(__always)
    static func trilinearLabel(_ lab: UnsafeBufferPointer<UInt8>, _ b: Int, _ sy: Int, _ sz: Int, _ fx: Float, _ fy: Float, _ fz: Float) -> UInt8 {
        let l = (lab[b], lab[b + 1], lab[b + sy], lab[b + sy + 1], lab[b + sz], lab[b + sz + 1], lab[b + sz + sy], lab[b + sz + sy + 1])
        if l.0 == l.1 && l.0 == l.2 && l.0 == l.3 && l.0 == l.4 && l.0 == l.5 && l.0 == l.6 && l.0 == l.7 { return l.0 }
        let gx = 1 - fx, gy = 1 - fy, gz = 1 - fz
        // Stack tuples, not arrays: this runs for every boundary voxel of every training patch.
        let w = (gx * gy * gz, fx * gy * gz, gx * fy * gz, fx * fy * gz, gx * gy * fz, fx * gy * fz, gx * fy * fz, fx * fy * fz)
        return withUnsafeBytes(of: l) { labels in
            withUnsafeBytes(of: w) { raw in
                let weights = raw.bindMemory(to: Float.self)
                var best = labels[0], bestWeight: Float = -1
                for a in 0..<8 {
                    var sum: Float = 0
                    for c in 0..<8 where labels[c] == labels[a] { sum += weights[c] }
                    if sum > bestWeight { bestWeight = sum; best = labels[a] }
                }
                return best
            }
        }
    }

    /// Intensity changes on a patch scaled to about [0, 1].
    func intensity(_ f: inout [Float], size: [Int], rng: inout SeededRandom) {
        func u() -> Double { rng.unit() * 2 - 1 }
        if lowResolution > 0, rng.unit() < lowResolution {
            // Thick slices along one random axis: a box average of 2-4 voxels.
            let axis = Int(rng.next() % 3), w = 2 + Int(rng.next() % 3)
            let stride = [size[1] * size[2], size[2], 1][axis], n = size[axis]
            let copy = f
            for idx in 0..<f.count {
                let pos = (idx / stride) % n
                let start = (pos / w) * w
                var acc: Float = 0, cnt: Float = 0
                for q in start..<min(n, start + w) { acc += copy[idx + (q - pos) * stride]; cnt += 1 }
                f[idx] = acc / cnt
            }
        }
        if biasField > 0, rng.unit() < 0.5 {
            // exp of a random linear + quadratic field, amplitude up to biasField.
            let c = (0..<9).map { _ in u() * biasField }
            let (px, py, pz) = (size[0], size[1], size[2])
            for i in 0..<px { for j in 0..<py { for k in 0..<pz {
                let x = Double(i) / Double(max(px - 1, 1)) * 2 - 1, y = Double(j) / Double(max(py - 1, 1)) * 2 - 1, z = Double(k) / Double(max(pz - 1, 1)) * 2 - 1
                let b = c[0] * x + c[1] * y + c[2] * z + c[3] * x * y + c[4] * y * z + c[5] * x * z + c[6] * (x * x - 0.33) + c[7] * (y * y - 0.33) + c[8] * (z * z - 0.33)
                f[(i * py + j) * pz + k] *= Float(exp(b * 0.5))
            } } }
        }
        if gamma > 0, rng.unit() < 0.5 {
            let g = Float(exp(u() * gamma))
            for i in f.indices { f[i] = f[i] > 0 ? pow(f[i], g) : f[i] }
        }
        if contrast > 0 {
            let a = Float(1 + u() * contrast), b = Float(u() * contrast * 0.3)
            for i in f.indices { f[i] = f[i] * a + b }
        }
        if noise > 0, rng.unit() < 0.5 {
            let sigma = Float(rng.unit() * noise)
            var i = 0
            while i < f.count {
                // Box-Muller, two values at a time.
                let u1 = max(rng.unit(), 1e-12), u2 = rng.unit()
                let r = Float((-2 * log(u1)).squareRoot())
                f[i] += sigma * r * Float(cos(2 * .pi * u2))
                if i + 1 < f.count { f[i + 1] += sigma * r * Float(sin(2 * .pi * u2)) }
                i += 2
            }
        }
    }
}

/// Random appearance from a tissue map (SynthStrip's generative model, Hoopes et al. 2022): each tissue
/// label gets its own mean intensity — in 70% of draws the case's own tissue means each varied at random,
/// in 30% any value (so no contrast is ever the only cue, only the shapes are).
/// A voxel's value mixes its tissues' intensities by their fractions (partial volume at the source's
/// resolution), then the image is scaled as the bundle's preprocessing scales (percentiles); the
/// patch's bias field, gamma, noise and low resolution follow as for stored images.
public enum TissueAppearance {
    /// The case's image with fresh intensities, on the case grid (x fastest).
    public static func render(_ c: PreparedCase, scaling: ScaleIntensity, rng: inout SeededRandom) -> [Float] {
        let k = c.tissueCount, n = c.image.count
        var means: [Float]
        if c.tissueMeans.count == k, rng.unit() < 0.7 {
            // The case's own contrast, every tissue varied on its own (log-normal, σ 0.3, plus an offset),
            // so neighbouring tissues trade places now and then but the scan still looks like its kind.
            means = c.tissueMeans.map { m in max(0, m * Float(exp(0.3 * rng.normal())) + Float((rng.unit() * 2 - 1) * 0.05)) }
        } else {
            // Any contrast (SynthStrip): a uniform intensity per tissue; background mostly dark, as air is in MR.
            means = (0..<k).map { _ in Float(rng.unit()) }
            if rng.unit() < 0.8 { means[0] = Float(rng.unit() * 0.08) }
        }
        var out = [Float](repeating: 0, count: n)
        c.tissues.withUnsafeBufferPointer { t in
            out.withUnsafeMutableBufferPointer { o in
                for l in 0..<k {
                    let m = means[l] / 255
                    guard m != 0 else { continue }
                    let base = l * n
                    for v in 0..<n { o[v] += Float(t[base + v]) * m }
                }
            }
        }
        if scaling.mode == .percentiles {
            scaling.scale(&out)
        } else {
            let s = Float(scaling.outMax - scaling.outMin), o = Float(scaling.outMin)
            for v in 0..<n { out[v] = out[v] * s + o }
        }
        return out
    }
}

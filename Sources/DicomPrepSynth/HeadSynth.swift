import DicomPrepCore
import Foundation

/// A procedural head (RAS mm, centre near the origin) with exact tissue labels: a folded cortex (grey
/// matter over white matter, CSF in sulci and the interhemispheric fissure), ventricles, cerebellum and
/// brainstem, the CSF layer, a skull with marrow, subcutaneous fat and skin, eyes in orbital fat, jaw
/// and neck muscle and the spinal cord. Every head draws its own sizes, ventricle size (atrophy), skull
/// and scalp thickness, a smooth random warp and a pose, so no two heads share a shape.
public struct HeadPhantom: Sendable {
    public enum Tissue: UInt8, CaseIterable, Sendable {
        case air = 0, skin, fat, skull, marrow, csf, grey, white, ventricle, eye, muscle, cord
        /// CSF inside the brain's outer surface: sulci, the interhemispheric fissure, cerebellar folia.
        case sulcus
        /// Inside the brain mask: the brain's outer surface and everything it encloses (parenchyma,
        /// ventricles, sulcal CSF), as BET-style masks are; the CSF layer outside it is not.
        public var isBrain: Bool { self == .grey || self == .white || self == .ventricle || self == .sulcus }
    }

    var cerebrum: Vector3, cerebrumCentre: Vector3
    var cerebellum: Vector3, cerebellumCentre: Vector3
    var ventricleScale: Double
    /// Temporal lobes: offset of the right one from the cerebrum's centre (mirrored for the left) and semi-axes.
    var temporalOffset: Vector3, temporal: Vector3
    /// Brainstem semi-axes (x, y) and the pons (semi-axes).
    var stem: (Double, Double), pons: Vector3
    var csf: Double, skull: Double, fat: Double, skin: Double
    var cortex: Double
    var gyralFrequency: Double, gyralPhase: [Double]
    var warp: [(k: Vector3, amplitude: Vector3, phase: Double)]
    var rotation: [[Double]]
    var translation: Vector3
    var neck: Bool

    public init(seed: UInt64) {
        var r = SeededRandom(seed: seed)
        func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * r.unit() }
        cerebrum = Vector3(u(62, 72), u(78, 90), u(56, 66))
        cerebrumCentre = Vector3(0, u(-4, 4), u(12, 20))
        cerebellum = Vector3(u(44, 52), u(24, 30), u(20, 25))
        cerebellumCentre = Vector3(0, cerebrumCentre.y - cerebrum.y * u(0.5, 0.6), cerebrumCentre.z - cerebrum.z * u(0.72, 0.82))
        ventricleScale = u(0.6, 1.6)
        temporalOffset = Vector3(cerebrum.x - u(18, 24), cerebrum.y * u(0.15, 0.35), -cerebrum.z * u(0.5, 0.62))
        temporal = Vector3(u(18, 23), u(34, 42), u(17, 22))
        stem = (u(12, 16), u(11, 15))
        pons = Vector3(u(15, 19), u(12, 15), u(11, 14))
        csf = u(1.5, 4.5)
        skull = u(4.5, 9)
        fat = u(2, 6)
        skin = u(1.5, 3)
        cortex = u(3, 4.5)
        gyralFrequency = u(0.14, 0.2)
        gyralPhase = (0..<6).map { _ in u(0, 2 * .pi) }
        warp = (0..<4).map { _ in
            let dir = Vector3(u(-1, 1), u(-1, 1), u(-1, 1)).normalized
            return (dir * (2 * .pi / u(90, 180)), Vector3(u(-4, 4), u(-4, 4), u(-4, 4)), u(0, 2 * .pi))
        }
        let ax = u(-0.17, 0.17), ay = u(-0.12, 0.12), az = u(-0.17, 0.17)
        let rx = [[1, 0, 0], [0, cos(ax), -sin(ax)], [0, sin(ax), cos(ax)]]
        let ry = [[cos(ay), 0, sin(ay)], [0, 1, 0], [-sin(ay), 0, cos(ay)]]
        let rz = [[cos(az), -sin(az), 0], [sin(az), cos(az), 0], [0, 0, 1]]
        func mul(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] { (0..<3).map { i in (0..<3).map { j in (0..<3).reduce(0) { $0 + a[i][$1] * b[$1][j] } } } }
        rotation = mul(rz, mul(ry, rx))
        translation = Vector3(u(-6, 6), u(-6, 6), u(-8, 8))
        neck = true
    }

    /// (|q / a|)² for a point relative to an ellipsoid's centre.
    @inline(__always) static func e2(_ q: Vector3, _ a: Vector3) -> Double {
        (q.x / a.x) * (q.x / a.x) + (q.y / a.y) * (q.y / a.y) + (q.z / a.z) * (q.z / a.z)
    }

    /// The tissue at a world point (RAS mm).
    public func tissue(_ world: Vector3) -> Tissue {
        // Undo the pose, then the warp: head coordinates.
        let w = world - translation
        var p = Vector3(rotation[0][0] * w.x + rotation[1][0] * w.y + rotation[2][0] * w.z,
                        rotation[0][1] * w.x + rotation[1][1] * w.y + rotation[2][1] * w.z,
                        rotation[0][2] * w.x + rotation[1][2] * w.y + rotation[2][2] * w.z)
        for t in warp {
            let s = sin(t.k.dot(p) + t.phase)
            p = p + t.amplitude * s
        }
        let qc = p - cerebrumCentre
        let qb = p - cerebellumCentre
        func grow(_ a: Vector3, _ d: Double) -> Vector3 { Vector3(a.x + d, a.y + d, a.z + d) }
        // The cerebrum with its temporal lobes: whichever ellipsoid the point is deepest in.
        let qtR = qc - temporalOffset, qtL = qc - Vector3(-temporalOffset.x, temporalOffset.y, temporalOffset.z)
        var cerebralAxes = cerebrum
        var ecMin = Self.e2(qc, cerebrum)
        for qt in [qtR, qtL] {
            let et = Self.e2(qt, temporal)
            if et < ecMin { ecMin = et; cerebralAxes = temporal }
        }
        func inCerebral(_ d: Double) -> Bool {
            Self.e2(qc, grow(cerebrum, d)) < 1 || Self.e2(qtR, grow(temporal, d)) < 1 || Self.e2(qtL, grow(temporal, d)) < 1
        }
        // Brainstem: a tilted cylinder from the cerebrum's base down the neck; spinal cord below the skull base.
        let stemTop = cerebrumCentre.z - 10, base = cerebellumCentre.z - cerebellum.z * 0.9
        let stemY = cerebellumCentre.y + 22 + (p.z - base) * 0.25
        let stemR2 = (p.x * p.x) / (stem.0 * stem.0) + ((p.y - stemY) * (p.y - stemY)) / (stem.1 * stem.1)
        let ponsQ = Vector3(p.x, p.y - stemY - 4, p.z - (stemTop - 20))
        let inStem = p.z < stemTop && (stemR2 < 1 || Self.e2(ponsQ, pons) < 1)
        let ec = ecMin, eb = Self.e2(qb, cerebellum)
        if eb < 1 {
            let depth = (1 - eb.squareRoot()) * min(cerebellum.x, cerebellum.y, cerebellum.z)
            let foliation = sin(0.5 * qb.z + gyralPhase[4]) > 0.6 && depth < 5
            if foliation { return .sulcus }
            return depth < 6 ? .grey : .white
        }
        if ec < 1 {
            // The tentorium: a thin CSF gap between the occipital lobes and the cerebellum, inside the brain's envelope.
            if Self.e2(qb, grow(cerebellum, 3)) < 1 { return .sulcus }
            // Interhemispheric fissure in the upper brain.
            if abs(qc.x) < 1.2 + 1.5 * max(0, qc.z / cerebrum.z) && qc.z > -cerebrum.z * 0.15 { return .sulcus }
            // Ventricles.
            let v1 = Vector3(qc.x - 10, qc.y - 2, qc.z - 6), v2 = Vector3(qc.x + 10, qc.y - 2, qc.z - 6)
            let va = Vector3(5 * ventricleScale, 22, 9 * ventricleScale)
            if Self.e2(v1, va) < 1 || Self.e2(v2, va) < 1 { return .ventricle }
            // Cortex: depth below the surface (approximate, in mm).
            let depth = (1 - ec.squareRoot()) * min(cerebralAxes.x, cerebralAxes.y, cerebralAxes.z)
            let g = gyralFrequency
            let fold = sin(g * p.x + gyralPhase[0]) * sin(g * p.y + gyralPhase[1]) + sin(g * 1.3 * p.z + gyralPhase[2]) * sin(g * 0.8 * p.y + gyralPhase[3])
            let sulcusDepth = 8.0
            if fold > 0.4 && depth < sulcusDepth * (fold - 0.4) * 1.4 { return .sulcus }
            return depth < cortex + 2 * max(0, fold) ? .grey : .white
        }
        // The brainstem down to the cerebellum's lower edge is brain, where BET-style masks end (a
        // level plane at the cerebellar base); the medulla and cord below are not.
        if inStem { return p.z > base ? .white : .cord }
        // Outer layers: CSF, skull (with marrow), fat, skin.
        let layers: [(Double, Tissue)] = [(csf, .csf), (csf + skull, .skull), (csf + skull + fat, .fat), (csf + skull + fat + skin, .skin)]
        for (k, (d, t)) in layers.enumerated() {
            let inside = inCerebral(d) || Self.e2(qb, grow(cerebellum, d)) < 1
            if inside {
                if t == .skull {
                    let inner = inCerebral(csf + skull * 0.35) || Self.e2(qb, grow(cerebellum, csf + skull * 0.35)) < 1
                    let outer = inCerebral(csf + skull * 0.7) || Self.e2(qb, grow(cerebellum, csf + skull * 0.7)) < 1
                    if !inner && outer { return .marrow }
                }
                return k == 0 && inStem ? .csf : t
            }
        }
        // Eyes in orbital fat, face and jaw, neck.
        for sx in [-1.0, 1.0] {
            let eye = p - Vector3(sx * 31, cerebrumCentre.y + cerebrum.y * 0.78, cerebrumCentre.z - cerebrum.z * 0.55)
            let r2 = eye.dot(eye)
            if r2 < 11.5 * 11.5 { return .eye }
            if r2 < 17 * 17 { return .fat }
        }
        let face = p - Vector3(0, cerebrumCentre.y + cerebrum.y * 0.45, cerebrumCentre.z - cerebrum.z - 22)
        let faceA = Vector3(cerebrum.x * 0.8, cerebrum.y * 0.65, 38)
        let ef = Self.e2(face, faceA)
        if ef < 1 { return ef > 0.82 ? (ef > 0.93 ? .skin : .fat) : (ef > 0.7 ? .skull : .muscle) }
        if neck && p.z < cerebellumCentre.z {
            let nr2 = (p.x * p.x) / (58 * 58) + ((p.y - cerebellumCentre.y - 22) * (p.y - cerebellumCentre.y - 22)) / (52 * 52)
            if nr2 < 1 { return nr2 > 0.9 ? (nr2 > 0.96 ? .skin : .fat) : .muscle }
        }
        return .air
    }

    /// Mean intensities per tissue for a contrast: "t1", "t2" or random (SynthStrip-style: any tissue any value).
    public static func intensities(_ contrast: String, rng: inout SeededRandom) -> [Double] {
        func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.unit() }
        var base: [Double]
        switch contrast {
        case "t1": base = [0, 0.55, 0.95, 0.08, 0.65, 0.15, 0.45, 0.72, 0.14, 0.12, 0.35, 0.6]
        case "t2": base = [0, 0.45, 0.6, 0.05, 0.45, 0.95, 0.55, 0.4, 0.97, 0.9, 0.3, 0.45]
        case "flair": base = [0, 0.4, 0.55, 0.05, 0.4, 0.1, 0.6, 0.45, 0.08, 0.1, 0.3, 0.45]
        default:
            base = (0..<12).map { _ in u(0, 1) }
            base[0] = u(0, 0.05)
            return base + [base[5]]
        }
        let v = base.enumerated().map { $0.offset == 0 ? 0 : max(0, $0.element * u(0.85, 1.15) + u(-0.03, 0.03)) }
        return v + [v[5]]
    }
}

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

/// `dicomprep synth heads`: a skull-stripping dataset. Training heads as NIfTI image + brain mask in a
/// Decathlon dataset.json (random resolution, field of view, pose, and contrast: T1-like, T2-like or
/// random per tissue), test heads as raw DICOM series in axial, sagittal, coronal and oblique planes
/// (T1-like) with their true masks on the converted grid, for `predict` and `evaluate`.
public struct HeadSynth: Sendable {
    public var trainHeads = 24
    public var testHeads = 8
    public var seed: UInt64 = 7
    /// Share of training heads with T1-like, T2-like and random contrast.
    public var contrasts = ["t1", "t1", "t2", "random"]

    public init() {}

    public struct Summary: Sendable {
        public var trainHeads: Int
        public var testHeads: Int
        public var datalist: String
    }

    public static let planes = ["axial", "sagittal", "coronal", "oblique"]

    /// LPS row and column directions of a plane.
    static func directions(_ plane: String, tilt: Double) -> (Vector3, Vector3) {
        switch plane {
        case "sagittal": return (Vector3(0, 1, 0), Vector3(0, 0, -1))
        case "coronal": return (Vector3(1, 0, 0), Vector3(0, 0, -1))
        case "oblique":
            // Axial tilted by `tilt` about left-right and rotated in plane.
            let c = cos(tilt), s = sin(tilt)
            let row = Vector3(cos(0.3), sin(0.3), 0)
            let col0 = Vector3(-sin(0.3), cos(0.3), 0)
            let col = (col0 * c + Vector3(0, 0, -1) * s).normalized
            return (row, (col - row * col.dot(row)).normalized)
        default: return (Vector3(1, 0, 0), Vector3(0, 1, 0))
        }
    }

    public func write(to root: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> Summary {
        let fm = FileManager.default
        for d in ["imagesTr", "labelsTr", "tissuesTr", "test", "testLabels"] {
            do { try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true) } catch { throw .io(path: root + "/" + d, reason: "cannot create folder") }
        }
        var rng = SeededRandom(seed: seed)
        let writer = NiftiWriter(gzip: true, compressionLevel: 1, threads: threads)
        var training: [String] = []
        for h in 0..<trainHeads {
            let id = String(format: "head%03d", h)
            let phantom = HeadPhantom(seed: rng.next())
            let contrast = contrasts[h % contrasts.count]
            var r = SeededRandom(seed: rng.next())
            func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * r.unit() }
            var ren = HeadRenderer(phantom: phantom, intensities: HeadPhantom.intensities(contrast, rng: &r))
            ren.bias = u(0, 0.35)
            ren.noise = u(0.005, 0.04)
            ren.scale = u(300, 3000)
            ren.seed = r.next()
            // Random resolution and field of view: neck and shoulders in or out, top of the head sometimes cut.
            let sp = [u(1.6, 2.4), u(1.6, 2.4), u(1.6, 3.2)]
            // The bottom runs from just below the cerebellum (as in many brain scans and Colin27's crop) to the shoulders.
            let fovLo = [-u(85, 110), -u(110, 130), -u(45, 130)], fovHi = [u(85, 110), u(95, 120), u(85, 110)]
            let dims = (0..<3).map { Int(((fovHi[$0] - fovLo[$0]) / sp[$0]).rounded()) }
            let affine = Matrix4(columns: Vector3(sp[0], 0, 0), Vector3(0, sp[1], 0), Vector3(0, 0, sp[2]), origin: Vector3(fovLo[0], fovLo[1], fovLo[2]))
            let (image, brain, tissues) = ren.render(dims: dims, affine: affine, thickness: sp[2] * u(1, 1.5), fractions: true, threads: threads)
            try writer.write(Volume(dims: dims + [1], voxels: .float32(image), affine: affine), to: "\(root)/imagesTr/\(id).nii.gz")
            try writer.write(Volume(dims: dims + [1], voxels: .uint8(brain), affine: affine), to: "\(root)/labelsTr/\(id).nii.gz")
            try writer.write(Volume(dims: dims + [HeadPhantom.Tissue.allCases.count], voxels: .uint8(tissues!), affine: affine),
                             to: "\(root)/tissuesTr/\(id).nii.gz", description: "tissue fractions x255, one volume per tissue")
            training.append("    {\"image\": \"./imagesTr/\(id).nii.gz\", \"label\": \"./labelsTr/\(id).nii.gz\", \"tissues\": \"./tissuesTr/\(id).nii.gz\"}")
        }
        var test: [String] = []
        for h in 0..<testHeads {
            let plane = Self.planes[h % Self.planes.count]
            let id = String(format: "test%02d_%@", h, plane)
            let phantom = HeadPhantom(seed: rng.next())
            var r = SeededRandom(seed: rng.next())
            func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * r.unit() }
            var ren = HeadRenderer(phantom: phantom, intensities: HeadPhantom.intensities("t1", rng: &r))
            ren.bias = u(0, 0.25)
            ren.noise = u(0.01, 0.03)
            ren.scale = 1200
            ren.seed = r.next()
            var s = SyntheticSeries()
            let (row, col) = Self.directions(plane, tilt: u(0.25, 0.45))
            s.rowDirection = row
            s.columnDirection = col
            s.rows = 120
            s.columns = 120
            s.pixelSpacing = [1.8, 1.8]
            s.sliceSpacing = plane == "axial" || plane == "oblique" ? 2.5 : 2.2
            s.slices = Int((200 / s.sliceSpacing).rounded())
            s.seriesDescription = "T1w \(plane)"
            s.seriesNumber = 2 + h
            s.seed = r.next()
            s.bitsStored = 12
            // Centre the stack on the head (LPS), slightly off-centre.
            let normal = row.cross(col).normalized
            let centre = Vector3(u(-5, 5), u(-5, 5), u(-10, 5) + 5)
            s.origin = centre - row * (Double(s.columns - 1) / 2 * s.pixelSpacing[1]) - col * (Double(s.rows - 1) / 2 * s.pixelSpacing[0])
                - normal * (Double(s.slices - 1) / 2 * s.sliceSpacing)
            let affine = s.expectedAffine
            let dims = [s.columns, s.rows, s.slices]
            let (image, brain, _) = ren.render(dims: dims, affine: affine, thickness: s.sliceSpacing, threads: threads)
            let stored = image.map { Int(min(4095, max(0, $0.rounded()))) }
            let cols = s.columns, rows = s.rows
            s.value = { i, j, k in stored[i + cols * (j + rows * k)] }
            try s.write(to: "\(root)/test/\(id)")
            try writer.write(Volume(dims: dims + [1], voxels: .uint8(brain), affine: affine), to: "\(root)/testLabels/\(id).nii.gz")
            test.append("    {\"image\": \"./test/\(id)\", \"label\": \"./testLabels/\(id).nii.gz\"}")
        }
        let json = """
        {
          "name": "dicomprep synthetic heads (skull stripping)",
          "description": "Procedural heads by dicomprep synth heads (seed \(seed)); labels are exact brain masks (the brain surface and all it encloses: parenchyma, ventricles, sulcal CSF).",
          "labels": {"0": "background", "1": "brain"},
          "tissues": {\(HeadPhantom.Tissue.allCases.map { "\"\($0.rawValue)\": \"\($0)\"" }.joined(separator: ", "))},
          "tensorImageSize": "3D",
          "numTraining": \(trainHeads),
          "numTest": \(testHeads),
          "training": [
        \(training.joined(separator: ",\n"))
          ],
          "test": [
        \(test.joined(separator: ",\n"))
          ]
        }

        """
        try AtomicFile.write(text: json, to: root + "/dataset.json")
        return Summary(trainHeads: trainHeads, testHeads: testHeads, datalist: root + "/dataset.json")
    }
}

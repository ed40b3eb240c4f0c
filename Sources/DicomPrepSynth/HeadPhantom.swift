import DicomPrepCore
import Foundation

/// A procedural head (RAS mm, centre near the origin) with exact tissue labels: a folded cortex (a grey
/// ribbon over white matter, thin CSF-filled sulci, the interhemispheric fissure), ventricles, cerebellum
/// with folia and brainstem, the CSF layer, a skull with marrow, subcutaneous fat and skin, eyes in orbital
/// fat, jaw and neck muscle and the spinal cord. Every head draws its own sizes, ventricle size (atrophy),
/// sulcal pattern, width and depth, CSF, skull and scalp thickness and how the CSF and skull vary over
/// the head, a smooth random warp and a pose, so no two heads share a shape.
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
    /// Mean thickness (mm) of the CSF layer, skull, fat and skin.
    var csf: Double, skull: Double, fat: Double, skin: Double
    /// How much the CSF layer and the skull thicken and thin over the head (a share of their means, along
    /// smooth random waves): the subarachnoid space is wider in some places than in others, so the
    /// distance from the skull never says where the brain ends; only the brain's own edge does.
    var csfVariation: Double, skullVariation: Double
    var csfWaves: [(k: Vector3, phase: Double)], skullWaves: [(k: Vector3, phase: Double)]
    /// Cortical thickness (mm): the grey ribbon under the brain's surface and along every sulcus.
    var cortex: Double
    /// Gyri and sulci: the sulci are thin CSF clefts along the zero set of a sum of random plane waves
    /// taken on the brain's surface (so they run inwards from it), `sulcusHalfWidth` mm either side of it
    /// (wider in atrophied heads), down to `sulcalDepth` mm, varied over the surface by `depthWave`.
    var folds: [(k: Vector3, phase: Double)]
    var sulcusHalfWidth: Double, sulcalDepth: Double
    var depthWave: (k: Vector3, phase: Double)
    /// Cerebellar folia: thin fissures across the cerebellum, `foliaPeriod` mm apart.
    var foliaPeriod: Double, foliaPhase: Double
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
        func direction() -> Vector3 { Vector3(u(-1, 1), u(-1, 1), u(-1, 1) + 1e-3).normalized }
        csf = u(1.5, 4.5)
        skull = u(4.5, 9)
        fat = u(2, 6)
        skin = u(1.5, 3)
        csfVariation = u(0.2, 0.7)
        skullVariation = u(0.1, 0.4)
        csfWaves = (0..<2).map { _ in (direction() * (2 * .pi / u(70, 140)), u(0, 2 * .pi)) }
        skullWaves = (0..<2).map { _ in (direction() * (2 * .pi / u(70, 140)), u(0, 2 * .pi)) }
        cortex = u(2.4, 3.6)
        // Waves of 18-26 mm: sulci about 10-15 mm apart, as on a real cortex, gyri with a white core.
        let wavelength = u(18, 26)
        folds = (0..<6).map { _ in (direction() * (2 * .pi / (wavelength * u(0.85, 1.15))), u(0, 2 * .pi)) }
        sulcusHalfWidth = u(0.4, 1.6)
        sulcalDepth = u(12, 20)
        depthWave = (direction() * (2 * .pi / u(60, 100)), u(0, 2 * .pi))
        foliaPeriod = u(5, 8)
        foliaPhase = u(0, 2 * .pi)
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

    /// Grey, white or sulcal CSF at a point inside a cerebral ellipsoid (`q` from its centre, `e2` its
    /// normalised squared radius): the sulci are where the folding function, taken at the point's
    /// projection on the ellipsoid's surface, is within `sulcusHalfWidth` mm of its zero set (its value over
    /// the length of its gradient along the surface), down to the local sulcal depth; the cortex lines the
    /// surface and both walls and the floor of every sulcus.
    func cortexTissue(q: Vector3, axes: Vector3, e2: Double, at p: Vector3) -> Tissue {
        let depth = (1 - e2.squareRoot()) * min(axes.x, axes.y, axes.z)
        let sd = sulcalDepth * (0.75 + 0.25 * sin(depthWave.k.dot(p) + depthWave.phase))
        guard depth < sd + cortex else { return .white }
        let qs = q * (1 / max(e2.squareRoot(), 1e-6))
        let surface = p + (qs - q)
        let normal = Vector3(qs.x / (axes.x * axes.x), qs.y / (axes.y * axes.y), qs.z / (axes.z * axes.z)).normalized
        var f = 0.0, gradient = Vector3(0, 0, 0)
        for w in folds {
            let t = w.k.dot(surface) + w.phase
            f += sin(t)
            gradient = gradient + w.k * cos(t)
        }
        let along = gradient - normal * gradient.dot(normal)
        let distance = abs(f) / max(along.length, 1e-3)
        if distance < sulcusHalfWidth && depth < sd { return .sulcus }
        return depth < cortex || (distance < sulcusHalfWidth + cortex && depth < sd + cortex) ? .grey : .white
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
        var cerebralAxes = cerebrum, cerebralQ = qc
        var ecMin = Self.e2(qc, cerebrum)
        for qt in [qtR, qtL] {
            let et = Self.e2(qt, temporal)
            if et < ecMin { ecMin = et; cerebralAxes = temporal; cerebralQ = qt }
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
            // Folia: fissures about 1 mm wide across the cerebellum, 6 mm deep, lined by its cortex.
            let depth = (1 - eb.squareRoot()) * min(cerebellum.x, cerebellum.y, cerebellum.z)
            let wave = sin(2 * .pi * (qb.z + 0.3 * qb.y) / foliaPeriod + foliaPhase)
            if wave > 0.85 && depth < 6 { return .sulcus }
            return depth < 3 || (wave > 0.2 && depth < 8) ? .grey : .white
        }
        if ec < 1 {
            // The tentorium: a thin CSF gap between the occipital lobes and the cerebellum, inside the brain's envelope.
            if Self.e2(qb, grow(cerebellum, 3)) < 1 { return .sulcus }
            // Interhemispheric fissure in the upper brain, lined by the medial cortex.
            let fissure = qc.z > -cerebrum.z * 0.15 ? abs(qc.x) - (1.2 + 1.5 * max(0, qc.z / cerebrum.z)) : .infinity
            if fissure < 0 { return .sulcus }
            // Ventricles.
            let v1 = Vector3(qc.x - 10, qc.y - 2, qc.z - 6), v2 = Vector3(qc.x + 10, qc.y - 2, qc.z - 6)
            let va = Vector3(5 * ventricleScale, 22, 9 * ventricleScale)
            if Self.e2(v1, va) < 1 || Self.e2(v2, va) < 1 { return .ventricle }
            if fissure < cortex { return .grey }
            return cortexTissue(q: cerebralQ, axes: cerebralAxes, e2: ec, at: p)
        }
        // The brainstem down to the cerebellum's lower edge is brain, where BET-style masks end (a
        // level plane at the cerebellar base); the medulla and cord below are not.
        if inStem { return p.z > base ? .white : .cord }
        // Outer layers: CSF, skull (with marrow), fat, skin; CSF and skull as thick as they are here.
        func wave(_ w: [(k: Vector3, phase: Double)]) -> Double { w.reduce(0) { $0 + sin($1.k.dot(p) + $1.phase) } / Double(w.count) }
        let csf = max(0.5, self.csf * (1 + csfVariation * wave(csfWaves))), skull = self.skull * (1 + skullVariation * wave(skullWaves))
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

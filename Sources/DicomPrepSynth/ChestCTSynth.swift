import DicomPrepCore
import Foundation

/// `dicomprep synth ct`: a chest CT phantom as an axial DICOM series in Hounsfield units (stored with
/// RescaleIntercept −1024): body outline with subcutaneous fat, two lungs (−850 HU) with vessels and
/// bronchi, the trachea leaving through the top of the field of view, heart and mediastinum, spine, ribs
/// and sternum (bone), the scanner table under the body, noise; partial volume from 2×2×2 subsamples.
/// The true lung mask (lung fields including their vessels) is written beside it as NIfTI on the
/// converted grid.
public struct ChestCTSynth: Sendable {
    public var matrix = 192
    public var pixelSpacing = 2.0
    public var slices = 60
    public var sliceSpacing = 3.0
    public var seed: UInt64 = 5
    public var noise = 15.0

    public init() {}

    enum Tissue { case air, fat, soft, lung, vessel, bone, table, blood }

    struct Phantom {
        var lungA: Vector3, lungGap: Double, vesselPhase: [Double]
        // RAS mm; z from -90 (abdomen) to +90 (neck).
        func tissue(_ p: Vector3) -> (Tissue, Bool) {
            // The table: a curved slab below the body.
            if p.y < -128 && p.y > -140 && abs(p.x) < 200 { return (.table, false) }
            let body = (p.x / 160) * (p.x / 160) + (p.y / 115) * (p.y / 115)
            if body > 1 { return (.air, false) }
            if body > 0.86 { return (.fat, false) }
            // Spine (behind) and sternum (front); ribs as a ring in the body wall with gaps.
            let spine = Vector3(p.x, p.y + 80, 0)
            if spine.x * spine.x + spine.y * spine.y < 18 * 18 { return (.bone, false) }
            if abs(p.x) < 12 && p.y > 88 && p.y < 98 && p.z < 60 { return (.bone, false) }
            let ring = (p.x / 148) * (p.x / 148) + (p.y / 104) * (p.y / 104)
            if ring > 0.78 && ring < 0.84 && sin(p.z * 0.26) > 0.2 && p.z < 70 { return (.bone, false) }
            // Trachea up the middle, into the neck (leaves through the top of the field of view).
            let tr = Vector3(p.x, p.y - 20, 0)
            if p.z > 30 && tr.x * tr.x + tr.y * tr.y < 9 * 9 { return (.air, false) }
            // Heart in front, left of centre (RAS: negative x).
            let heart = Vector3((p.x + 25) / 55, (p.y - 15) / 48, (p.z + 20) / 45)
            if heart.dot(heart) < 1 { return (.blood, false) }
            // Lungs: two ellipsoids either side of the mediastinum, below the apex.
            for side in [-1.0, 1.0] {
                let c = Vector3(side * (lungGap + lungA.x), 0, 0)
                let q = Vector3((p.x - c.x) / lungA.x, (p.y - c.y) / lungA.y, p.z / lungA.z)
                if q.dot(q) < 1 && abs(p.x) > lungGap {
                    // Vessels and bronchi: thin tubes branching from the hilum.
                    let hilum = Vector3(side * (lungGap + 12), 10, 10)
                    let d = p - hilum
                    let r = (d.x * d.x + d.y * d.y).squareRoot()
                    let angle = atan2(d.y, d.x)
                    if r > 6 && abs(sin(angle * 5 + vesselPhase[side < 0 ? 0 : 1] + d.z * 0.02)) < 0.06 * (1 + 20 / max(r, 1)) {
                        return (.vessel, true)
                    }
                    return (.lung, true)
                }
            }
            return (.soft, false)
        }
    }

    static func hu(_ t: Tissue) -> Double {
        switch t {
        case .air: return -1000
        case .fat: return -100
        case .soft: return 40
        case .lung: return -850
        case .vessel: return 30
        case .bone: return 700
        case .table: return 200
        case .blood: return 45
        }
    }

    public struct Summary: Sendable {
        public var series: String
        public var lungs: String
        public var lungML: Double
    }

    public func write(to root: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> Summary {
        var rng = SeededRandom(seed: seed)
        func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.unit() }
        let ph = Phantom(lungA: Vector3(u(44, 52), u(62, 72), u(60, 72)), lungGap: u(24, 32), vesselPhase: [u(0, 6), u(0, 6)])
        var s = SyntheticSeries()
        s.modality = "CT"
        s.rows = matrix
        s.columns = matrix
        s.slices = slices
        s.pixelSpacing = [pixelSpacing, pixelSpacing]
        s.sliceSpacing = sliceSpacing
        s.bitsStored = 12
        s.rescaleIntercept = -1024
        s.rescaleSlope = 1
        s.windowCenter = -600
        s.windowWidth = 1500
        s.seriesDescription = "CT chest synthetic"
        s.seriesNumber = 2
        s.seed = rng.next()
        // LPS origin: centred on the body, slices from -90 mm upwards.
        let half = Double(matrix - 1) / 2 * pixelSpacing
        s.origin = Vector3(-half, -half + 10, -Double(slices - 1) / 2 * sliceSpacing)
        let affine = s.expectedAffine
        let dims = [s.columns, s.rows, s.slices]
        let n = dims.reduce(1, *)
        let img = UnsafeMutableBufferPointer<Int>.allocate(capacity: n), lab = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: n)
        let ib = SendableBuffer(img), lb = SendableBuffer(lab)
        let noise = self.noise, seed = s.seed
        Parallel.forEach(count: dims[2], threads: threads) { k in
            var r = SeededRandom(seed: seed &+ UInt64(k) &* 7_777)
            for j in 0..<dims[1] {
                for i in 0..<dims[0] {
                    let c = Vector3(Double(i), Double(j), Double(k))
                    let idx = i + dims[0] * (j + dims[1] * k)
                    lb.buffer[idx] = ph.tissue(affine.apply(c)).1 ? 1 : 0
                    var acc = 0.0
                    for o in [(-0.25, -0.25, -0.25), (0.25, -0.25, 0.25), (-0.25, 0.25, 0.25), (0.25, 0.25, -0.25)] {
                        acc += Self.hu(ph.tissue(affine.apply(c + Vector3(o.0, o.1, o.2))).0)
                    }
                    ib.buffer[idx] = Int((acc / 4 + noise * r.normal() + 1024).rounded()).clamped(0, 4095)
                }
            }
        }
        let stored = Array(img), lungs = Array(lab)
        img.deallocate()
        lab.deallocate()
        let cols = s.columns, rows = s.rows
        s.value = { i, j, k in stored[i + cols * (j + rows * k)] }
        try s.write(to: root + "/dicom")
        try NiftiWriter().write(Volume(dims: dims + [1], voxels: .uint8(lungs), affine: affine), to: root + "/lungs_truth.nii.gz")
        let ml = Double(lungs.reduce(0) { $0 + Int($1) }) * pixelSpacing * pixelSpacing * sliceSpacing / 1000
        return Summary(series: root + "/dicom", lungs: root + "/lungs_truth.nii.gz", lungML: ml)
    }
}

extension Int {
    func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(self, lo), hi) }
}

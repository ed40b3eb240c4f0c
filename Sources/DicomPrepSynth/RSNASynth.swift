import DicomPrepCore
import Foundation

/// Writes a dataset shaped like Kaggle's RSNA-MICCAI Brain Tumor Radiogenomic Classification download:
/// `train/<5-digit id>/{FLAIR,T1w,T1wCE,T2w}/Image-<n>.dcm`, `train_labels.csv`, `test/...` and
/// `sample_submission.csv`. Each case is a head phantom (skull, brain, ventricles with CSF) sampled in
/// world space, so its sequences agree anatomically whatever plane each was acquired in. Positive cases
/// carry a lesion: bright on FLAIR and T2w, ring-enhancing on T1wCE, slightly dark on T1w.
public struct RSNASynth: Sendable {
    public var trainCases = 20
    public var testCases = 4
    public var seed: UInt64 = 42
    /// Rows and columns of every slice.
    public var matrix = 96
    public var minSlices = 18
    public var maxSlices = 36
    public static let sequences = ["FLAIR", "T1w", "T1wCE", "T2w"]

    public init() {}

    public struct Summary: Sendable {
        public var trainCases: Int
        public var testCases: Int
        public var files: Int
        public var positives: Int
    }

    /// Writes the dataset under `root`.
    public func write(to root: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> Summary {
        var rng = SeededRandom(seed: seed)
        let total = trainCases + testCases
        // Balanced labels, shuffled.
        var labels = (0..<total).map { $0 % 2 }
        labels.shuffle(using: &rng)
        struct CaseSpec: Sendable { var id: String; var split: String; var label: Int; var seed: UInt64 }
        var ids = Set<Int>()
        var specs: [CaseSpec] = []
        for k in 0..<total {
            // Ids like the real set: not contiguous.
            var id = 0
            repeat { id = Int(rng.next() % UInt64(max(1000, total * 8))) } while ids.contains(id) || [109, 123, 709].contains(id)
            ids.insert(id)
            specs.append(CaseSpec(id: String(format: "%05d", id), split: k < trainCases ? "train" : "test", label: labels[k], seed: rng.next()))
        }
        specs.sort { ($0.split, $0.id) < ($1.split, $1.id) }
        let files = UnsafeSendableBox(0)
        let failure = UnsafeSendableBox<DicomPrepError?>(nil)
        let matrix = matrix, minSlices = minSlices, maxSlices = maxSlices
        let frozen = specs
        Parallel.forEach(count: frozen.count, threads: threads) { i in
            let c = frozen[i]
            do throws(DicomPrepError) {
                let n = try Self.writeCase(root: root, id: c.id, split: c.split, positive: c.label == 1, seed: c.seed,
                                           matrix: matrix, minSlices: minSlices, maxSlices: maxSlices)
                files.withLock { $0 += n }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        if let e = failure.take() { throw e }
        var csv = "BraTS21ID,MGMT_value\n"
        for c in specs where c.split == "train" { csv += "\(c.id),\(c.label)\n" }
        try AtomicFile.write(text: csv, to: root + "/train_labels.csv")
        var sub = "BraTS21ID,MGMT_value\n"
        for c in specs where c.split == "test" { sub += "\(c.id),0.5\n" }
        try AtomicFile.write(text: sub, to: root + "/sample_submission.csv")
        // The truth for the test cases, for `evaluate` (Kaggle keeps it secret; the demo does not).
        var truth = "BraTS21ID,MGMT_value\n"
        for c in specs where c.split == "test" { truth += "\(c.id),\(c.label)\n" }
        try AtomicFile.write(text: truth, to: root + "/test_labels_synthetic.csv")
        return Summary(trainCases: trainCases, testCases: testCases, files: files.take(),
                       positives: specs.filter { $0.label == 1 && $0.split == "train" }.count)
    }

    /// Tissue of a world point (LPS mm) in a head centred at the origin.
    enum Tissue { case air, scalp, skull, brain, csf, lesionRim, lesionCore }

    struct Head: Sendable {
        var brain: Vector3       // semi-axes (mm)
        var lesion: Vector3?     // centre
        var lesionRadius: Double
        var tilt: Double         // small head rotation about z (radians)

        func tissue(_ p0: Vector3) -> Tissue {
            let c = cos(tilt), s = sin(tilt)
            let p = Vector3(c * p0.x - s * p0.y, s * p0.x + c * p0.y, p0.z)
            func e(_ q: Vector3, _ a: Vector3) -> Double { (q.x / a.x) * (q.x / a.x) + (q.y / a.y) * (q.y / a.y) + (q.z / a.z) * (q.z / a.z) }
            let inner = e(p, brain)
            if inner > 1 {
                let outer = e(p, brain + Vector3(9, 9, 9))
                if outer > 1 { return .air }
                return e(p, brain + Vector3(4, 4, 4)) > 1 ? .scalp : .skull
            }
            if let l = lesion {
                let d = (p - l).length
                if d < lesionRadius { return d > lesionRadius * 0.65 ? .lesionRim : .lesionCore }
            }
            // Two lateral ventricles.
            let v1 = Vector3(p.x - 9, p.y + 5, p.z - 8), v2 = Vector3(p.x + 9, p.y + 5, p.z - 8)
            let va = Vector3(6, 22, 11)
            if e(v1, va) < 1 || e(v2, va) < 1 { return .csf }
            return .brain
        }
    }

    static func intensity(_ t: Tissue, sequence: String) -> Double {
        switch (sequence, t) {
        case (_, .air): return 0
        case ("FLAIR", .scalp): return 420
        case ("FLAIR", .skull): return 90
        case ("FLAIR", .brain): return 600
        case ("FLAIR", .csf): return 120
        case ("FLAIR", .lesionRim), ("FLAIR", .lesionCore): return 1150
        case ("T1w", .scalp): return 950
        case ("T1w", .skull): return 120
        case ("T1w", .brain): return 700
        case ("T1w", .csf): return 180
        case ("T1w", .lesionRim), ("T1w", .lesionCore): return 480
        case ("T1wCE", .scalp): return 980
        case ("T1wCE", .skull): return 130
        case ("T1wCE", .brain): return 720
        case ("T1wCE", .csf): return 190
        case ("T1wCE", .lesionRim): return 1500
        case ("T1wCE", .lesionCore): return 380
        case ("T2w", .scalp): return 500
        case ("T2w", .skull): return 80
        case ("T2w", .brain): return 560
        case ("T2w", .csf): return 1500
        case ("T2w", .lesionRim), ("T2w", .lesionCore): return 1250
        default: return 0
        }
    }

    /// A simple case-independent value function for tests: a head-sized ellipse, with a bright blob when positive.
    public static func defaultValue(positive: Bool) -> @Sendable (Int, Int, Int) -> Int {
        { i, j, k in
            let x = Double(i - 10) / 8, y = Double(j - 12) / 9
            let inside = x * x + y * y < 1
            let blob = positive && abs(i - 12) < 3 && abs(j - 12) < 3 && k > 2
            return (inside ? 600 : 20) + (blob ? 700 : 0) + (i + j + k) % 13
        }
    }

    static func writeCase(root: String, id: String, split: String, positive: Bool, seed: UInt64,
                          matrix: Int, minSlices: Int, maxSlices: Int) throws(DicomPrepError) -> Int {
        var rng = SeededRandom(seed: seed)
        let brain = Vector3(62 + 8 * rng.unit(), 76 + 10 * rng.unit(), 56 + 8 * rng.unit())
        var lesion: Vector3?
        var radius = 0.0
        if positive {
            radius = 11 + 9 * rng.unit()
            // Somewhere inside the brain, away from its edge.
            lesion = Vector3((rng.unit() - 0.5) * brain.x, (rng.unit() - 0.5) * brain.y, (rng.unit() - 0.5) * brain.z)
        }
        let head = Head(brain: brain, lesion: lesion, lesionRadius: radius, tilt: (rng.unit() - 0.5) * 0.2)
        var files = 0
        for (q, sequence) in sequences.enumerated() {
            var s = SyntheticSeries()
            s.rows = matrix
            s.columns = matrix
            s.slices = minSlices + Int(rng.next() % UInt64(maxSlices - minSlices + 1))
            let fov = 220.0 + 20 * rng.unit()
            s.pixelSpacing = [fov / Double(matrix), fov / Double(matrix)]
            let coverage = 150.0 + 40 * rng.unit()
            s.sliceSpacing = (coverage / Double(s.slices) * 100).rounded() / 100
            let plane = rng.unit()
            if plane < 0.55 {
                (s.rowDirection, s.columnDirection) = (Vector3(1, 0, 0), Vector3(0, 1, 0))
            } else if plane < 0.8 {
                (s.rowDirection, s.columnDirection) = (Vector3(0, 1, 0), Vector3(0, 0, -1))
            } else {
                (s.rowDirection, s.columnDirection) = (Vector3(1, 0, 0), Vector3(0, 0, -1))
            }
            let inPlane = s.rowDirection * (s.pixelSpacing[1] * Double(matrix - 1) / 2) + s.columnDirection * (s.pixelSpacing[0] * Double(matrix - 1) / 2)
            let through = s.normal * (s.sliceSpacing * Double(s.slices - 1) / 2)
            let jitter = Vector3((rng.unit() - 0.5) * 8, (rng.unit() - 0.5) * 8, (rng.unit() - 0.5) * 8)
            s.origin = jitter - inPlane - through
            s.seriesNumber = 1 + q
            s.seriesDescription = sequence
            s.modality = "MR"
            s.bitsStored = 12
            s.windowCenter = 600
            s.windowWidth = 1200
            s.seed = rng.next()
            let scale = 0.85 + 0.3 * rng.unit()
            let noiseSeed = rng.next()
            let spec = s
            s.value = { i, j, k in
                let p = spec.origin + spec.rowDirection * (Double(i) * spec.pixelSpacing[1]) + spec.columnDirection * (Double(j) * spec.pixelSpacing[0]) + spec.normal * (Double(k) * spec.sliceSpacing)
                let t = head.tissue(p)
                var h = UInt64(truncatingIfNeeded: i &* 73856093 ^ j &* 19349663 ^ k &* 83492791) ^ noiseSeed
                h = (h ^ (h >> 33)) &* 0xff51afd7ed558ccd
                let noise = Double(h >> 58) - 32 // -32...31
                let texture = t == .brain ? 40 * sin(p.x * 0.08) * cos(p.y * 0.06 + p.z * 0.05) : 0
                return max(0, min(4095, Int((intensity(t, sequence: sequence) + texture) * scale + noise)))
            }
            files += try s.write(to: "\(root)/\(split)/\(id)/\(sequence)").count
        }
        return files
    }
}

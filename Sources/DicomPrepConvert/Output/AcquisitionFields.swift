import DicomPrepCore
import Foundation

/// BIDS timing, encoding and diffusion fields of one output, expressed in the written volume's own voxel
/// axes: derived from the plan's frames (times, b-values, gradients in patient space) and the final affine,
/// so they stay true after a reorientation.
public struct AcquisitionFields: Sendable, Equatable {
    /// Seconds from the first slice, in the order of the slice axis (BIDS SliceTiming).
    public var sliceTiming: [Double]?
    /// Set when the acquired slices do not run along +k after reorientation ("i", "j-", ...).
    public var sliceEncodingDirection: String?
    public var multibandAccelerationFactor: Int?
    public var phaseEncodingDirection: String?
    public var phaseEncodingAxis: String?
    public var effectiveEchoSpacing: Double?
    public var totalReadoutTime: Double?
    /// One b-value per volume (s/mm²) and one unit vector per volume in FSL's convention (voxel axes, the
    /// first component negated when the affine's determinant is positive); nil when not a diffusion series.
    public var bValues: [Double]?
    public var bVectors: [Vector3]?
    public var warnings: [String] = []

    public init(plan: SeriesPlan, affine: Matrix4) {
        let facts = plan.first.acquisition
        let axes = (0..<3).map { affine.column($0).normalized }
        // The axis of the written volume closest to a world (RAS) direction, with its sign.
        func axis(of ras: Vector3) -> (index: Int, positive: Bool) {
            let dots = axes.map { $0.dot(ras) }
            let i = (0..<3).max { abs(dots[$0]) < abs(dots[$1]) }!
            return (i, dots[i] > 0)
        }
        func ras(_ lps: Vector3) -> Vector3 { Vector3(-lps.x, -lps.y, lps.z) }
        let letters = ["i", "j", "k"]
        let built = plan.geometry.affine

        // Slice timing: the first time point's slices in acquisition-axis order.
        let times = plan.volumes[0].map { plan.frame($0).acquisitionTime }
        let is3D = facts.mrAcquisitionType == "3D"
        if !is3D, plan.volumes[0].count > 1, times.allSatisfy({ $0 != nil }) {
            let t = times.map { $0! }
            let t0 = t.min()!
            var rel = t.map { (($0 - t0) * 1e6).rounded() / 1e6 }
            let span = rel.max()!
            let tr = plan.first.repetitionTime.map { $0 / 1000 }
            if span > 0 && (tr == nil || span < tr!) {
                let (a, positive) = axis(of: built.column(2).normalized)
                if a == 2 {
                    if !positive { rel.reverse() }
                } else {
                    sliceEncodingDirection = letters[a] + (positive ? "" : "-")
                }
                sliceTiming = rel
                let distinct = Set(rel.map { ($0 * 1000).rounded() }).count
                if distinct > 0, rel.count % distinct == 0, rel.count / distinct > 1 { multibandAccelerationFactor = rel.count / distinct }
            }
        }

        // Phase encoding: the axis always, the direction where the vendor gives the polarity.
        if let pe = facts.phaseEncodingAxis {
            let f = plan.frame(plan.volumes[0][0])
            if let row = f.rowDirection, let col = f.columnDirection {
                // "COL": phase is encoded along a column, i.e. across rows (the column direction cosine).
                let along = pe == "COL" ? col : row
                let (a, positive) = axis(of: ras(along))
                phaseEncodingAxis = letters[a]
                if let p = facts.phaseEncodingPositive {
                    phaseEncodingDirection = letters[a] + ((positive == p) ? "" : "-")
                }
                let reconPE = pe == "COL" ? plan.geometry.rows : plan.geometry.columns
                if let bw = facts.bandwidthPerPixelPhaseEncode, bw > 0 {
                    effectiveEchoSpacing = Self.round(1 / (bw * Double(reconPE)))
                } else if let esp = facts.vendorEchoSpacing {
                    effectiveEchoSpacing = Self.round(esp)
                }
                if let e = effectiveEchoSpacing, reconPE > 1 { totalReadoutTime = Self.round(e * Double(reconPE - 1)) }
            }
        }

        // Diffusion: one entry per volume.
        let firstFrames = plan.volumes.map { plan.frame($0[0]) }
        if firstFrames.contains(where: { ($0.bValue ?? 0) > 0 }) {
            bValues = firstFrames.map { max(0, $0.bValue ?? 0) }
            let det = axes[0].dot(axes[1].cross(axes[2]))
            var vectors: [Vector3] = []
            var missing = 0
            for f in firstFrames {
                guard let b = f.bValue, b > 0 else { vectors.append(.zero); continue }
                guard let g = f.gradient else { missing += 1; vectors.append(.zero); continue }
                let w = ras(g)
                var v = Vector3(axes[0].dot(w), axes[1].dot(w), axes[2].dot(w))
                if det > 0 { v.x = -v.x }
                vectors.append(Vector3((v.x * 1e6).rounded() / 1e6, (v.y * 1e6).rounded() / 1e6, (v.z * 1e6).rounded() / 1e6))
            }
            if missing == 0 {
                bVectors = vectors
            } else {
                warnings.append("\(missing) diffusion-weighted volume(s) have no gradient direction this converter can place in image space (\(facts.diffusionSource ?? "vendor fields")): .bvec not written")
            }
        }
    }

    static func round(_ v: Double) -> Double { (v * 1e9).rounded() / 1e9 }

    /// FSL's .bval text: one line of b-values.
    public var bvalText: String? {
        bValues.map { $0.map { fmtNumber($0) }.joined(separator: " ") + "\n" }
    }

    /// FSL's .bvec text: three lines (x, y, z components), one column per volume.
    public var bvecText: String? {
        bVectors.map { v in
            [v.map(\.x), v.map(\.y), v.map(\.z)].map { $0.map { fmtNumber($0) }.joined(separator: " ") }.joined(separator: "\n") + "\n"
        }
    }
}

/// A number as short text: integers without a decimal point, others with up to 6 decimals.
func fmtNumber(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    var s = String(format: "%.6f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s == "-0" ? "0" : s
}

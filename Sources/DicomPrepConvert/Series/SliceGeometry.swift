import DicomPrepCore
import Foundation

/// Step 3 of series assembly: sorts the slices of each time point and derives where the voxels are
/// (spacing from positions, gaps, non-uniform steps, gantry tilt as a sheared affine).
struct SliceGeometry {
    var spacingTolerance: Double
    var positionTolerance: Double

    /// One frame of one file, with what ordering needs.
    struct Candidate {
        var ref: SliceRef
        var position: Vector3?
        var instanceNumber: Int?
        var acquisition: Int?
        var temporal: Int?
        var path: String
    }

    func makePlan(_ insts: [DicomInstance], timepoints: [[Candidate]], label: String, part: Int?, relativeDir: String,
                  extra: [SeriesWarning]) throws(DicomPrepError) -> SeriesPlan {
        let first = insts[timepoints[0][0].ref.instance]
        let f0 = first.frames[timepoints[0][0].ref.frame]
        var warnings = extra
        var spacing = [1.0, 1.0]
        if let s = f0.pixelSpacing ?? (timepoints[0].compactMap { insts[$0.ref.instance].frames[$0.ref.frame].pixelSpacing }.first) {
            spacing = s
            if let src = f0.pixelSpacingSource {
                warnings.append(SeriesWarning(kind: .pixelSpacingMissing, message: "PixelSpacing is missing: \(src) used (detector plane, not corrected to the patient)"))
            }
        } else {
            warnings.append(SeriesWarning(kind: .pixelSpacingMissing, message: "PixelSpacing is missing: 1 x 1 mm pixels assumed, so sizes in mm are not real"))
        }
        let positional = f0.rowDirection != nil && timepoints.allSatisfy { $0.allSatisfy { $0.position != nil } }
        let row = f0.rowDirection ?? Vector3(1, 0, 0)
        let col = f0.columnDirection ?? Vector3(0, 1, 0)
        let normal = row.cross(col).normalized
        if f0.rowDirection == nil {
            warnings.append(SeriesWarning(kind: .positionsMissing, message: "ImageOrientationPatient is missing: axial orientation assumed"))
        }

        var ordered: [[Candidate]]
        var sortKey: String
        var steps: [Double] = []
        var sliceVec: Vector3
        var tilt = 0.0
        var missing = 0
        var nonUniform = false
        if positional {
            sortKey = "ImagePositionPatient"
            ordered = timepoints.map { tp in tp.sorted { $0.position!.dot(normal) < $1.position!.dot(normal) } }
            let ds = ordered[0].map { $0.position!.dot(normal) }
            steps = zip(ds.dropFirst(), ds).map { $0 - $1 }
            if ordered.count > 1 {
                for tp in ordered.dropFirst() where zip(tp, ordered[0]).contains(where: { ($0.position! - $1.position!).length > positionTolerance * 10 }) {
                    throw .invalidSeries(name: label, reason: "time points do not share the same slice positions")
                }
            }
            if steps.isEmpty {
                let s = first.spacingBetweenSlices ?? f0.sliceThickness ?? 1
                sliceVec = normal * s
                warnings.append(SeriesWarning(kind: .singleSlice, message: "a single slice: slice spacing \(fmt(s)) mm taken from \(first.spacingBetweenSlices != nil ? "SpacingBetweenSlices" : (f0.sliceThickness != nil ? "SliceThickness" : "a default of 1 mm"))"))
            } else {
                let median = Self.median(steps)
                guard median > positionTolerance else {
                    throw .invalidSeries(name: label, reason: "slices do not advance along the slice normal (median step \(fmt(median)) mm)")
                }
                for s in steps where abs(s - median) > spacingTolerance {
                    let r = (s / median).rounded()
                    if r >= 2 && abs(s - r * median) <= spacingTolerance * r {
                        missing += Int(r) - 1
                    } else {
                        nonUniform = true
                    }
                }
                let p0 = ordered[0].first!.position!, pn = ordered[0].last!.position!
                let total = pn - p0
                let along = total.dot(normal)
                let sinAngle = total.cross(normal).length / max(total.length, 1e-12)
                tilt = asin(min(1, sinAngle)) * 180 / .pi
                if sinAngle > 1e-3 {
                    sliceVec = total * (median / along)
                    warnings.append(SeriesWarning(kind: .gantryTilt, message: "slices are offset along the slice plane (gantry tilt \(fmt(tilt))°): the affine is sheared to keep every voxel at its true position"))
                } else {
                    sliceVec = normal * median
                    tilt = 0
                }
                if missing > 0 {
                    warnings.append(SeriesWarning(kind: .missingSlices, message: "\(missing) slice(s) missing: a gap in otherwise uniform \(fmt(median)) mm steps; written with the median step, so positions after the gap are off"))
                }
                if nonUniform {
                    warnings.append(SeriesWarning(kind: .nonUniformSpacing, message: "slice steps range from \(fmt(steps.min()!)) to \(fmt(steps.max()!)) mm (median \(fmt(median)), tolerance \(fmt(spacingTolerance))): written with the median step"))
                }
            }
        } else {
            let all = timepoints[0]
            if all.allSatisfy({ insts[$0.ref.instance].numberOfFrames > 1 }) && Set(all.map(\.ref.instance)).count == 1 {
                sortKey = "FrameOrder"
                ordered = [all.sorted { $0.ref.frame < $1.ref.frame }]
            } else if all.allSatisfy({ $0.instanceNumber != nil }) {
                sortKey = "InstanceNumber"
                ordered = [all.sorted { ($0.instanceNumber!, $0.ref.frame) < ($1.instanceNumber!, $1.ref.frame) || (($0.instanceNumber!, $0.ref.frame) == ($1.instanceNumber!, $1.ref.frame) && NaturalOrder.less($0.path, $1.path)) }]
            } else {
                sortKey = "FileName"
                ordered = [all.sorted { $0.path == $1.path ? $0.ref.frame < $1.ref.frame : NaturalOrder.less($0.path, $1.path) }]
            }
            let s = first.spacingBetweenSlices ?? f0.sliceThickness ?? 1
            sliceVec = normal * s
            warnings.append(SeriesWarning(kind: .positionsMissing, message: "ImagePositionPatient is missing: slices ordered by \(sortKey), spacing \(fmt(s)) mm from \(first.spacingBetweenSlices != nil ? "SpacingBetweenSlices" : (f0.sliceThickness != nil ? "SliceThickness" : "a default of 1 mm")); geometry is approximate"))
        }
        let origin = ordered[0][0].position ?? f0.position ?? .zero
        // LPS -> RAS: negate x and y.
        var a = Matrix4(columns: row * spacing[1], col * spacing[0], sliceVec, origin: origin)
        for c in 0..<4 { a[0, c] = -a[0, c]; a[1, c] = -a[1, c] }
        let median = steps.isEmpty ? sliceVec.length : Self.median(steps)
        let geometry = SeriesGeometry(
            rows: first.rows, columns: first.columns, slices: ordered[0].count, timepoints: ordered.count,
            pixelSpacing: spacing, sliceSpacing: median, orientation: row.array + col.array, affine: a, sortKey: sortKey,
            acquisitionPlane: Self.plane(normal), tiltDegrees: tilt, missingSlices: missing, nonUniformSpacing: nonUniform,
            minStep: steps.min() ?? median, maxStep: steps.max() ?? median)
        // Only the instances used, re-indexed.
        var map: [Int: Int] = [:]
        var used: [DicomInstance] = []
        let vols: [[SliceRef]] = ordered.map { tp in
            tp.map { c in
                if map[c.ref.instance] == nil { map[c.ref.instance] = used.count; used.append(insts[c.ref.instance]) }
                return SliceRef(instance: map[c.ref.instance]!, frame: c.ref.frame)
            }
        }
        return SeriesPlan(label: label, instances: used, volumes: vols, geometry: geometry, warnings: warnings, part: part, relativeDir: relativeDir)
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// AXIAL, CORONAL or SAGITTAL by the slice normal's largest component; OBLIQUE when none dominates.
    static func plane(_ n: Vector3) -> String {
        let a = [abs(n.x), abs(n.y), abs(n.z)]
        let m = a.max()!
        let name = a[2] == m ? "AXIAL" : (a[1] == m ? "CORONAL" : "SAGITTAL")
        return m >= 0.8 ? name : "OBLIQUE"
    }

}

func fmt(_ v: Double) -> String {
    let r = (v * 1000).rounded() / 1000
    return r == r.rounded() ? String(Int(r)) : String(r)
}

import Foundation

/// Groups parsed files into series, splits inconsistent ones, removes duplicates, sorts slices and derives
/// the geometry (dcm2niix's rules where they are right, stricter where they are not).
public struct SeriesBuilder: Sendable {
    /// Steps may differ from the median by this much (mm) before spacing counts as non-uniform.
    public var spacingTolerance: Double = 0.1
    /// Positions closer than this (mm) are the same position.
    public var positionTolerance: Double = 0.01
    /// Direction cosines closer than this are the same orientation.
    public var orientationTolerance: Double = 1e-3

    public init(spacingTolerance: Double = 0.1) { self.spacingTolerance = spacingTolerance }

    /// A series that could not be assembled, with the files it would have used.
    public struct Failure: Sendable {
        public var label: String
        public var paths: [String]
        public var reason: String
    }

    public struct Result: Sendable {
        public var plans: [SeriesPlan]
        public var duplicates: [DuplicateEntry]
        public var failures: [Failure]
    }

    /// Hashes one frame's stored pixels; used only to tell exact duplicates from distinct slices.
    public typealias FrameHasher = @Sendable (DicomInstance, Int) throws -> String

    /// Builds plans from parsed instances. `relativeDir` gives each instance's folder relative to its input root.
    public func build(_ instances: [DicomInstance], relativeDir: (DicomInstance) -> String = { _ in "" },
                      hasher: FrameHasher = SeriesBuilder.decodeHash) -> Result {
        var duplicates: [DuplicateEntry] = []
        var failures: [Failure] = []
        var plans: [SeriesPlan] = []

        // 1. Group by SeriesInstanceUID (files without one: by folder and SeriesNumber).
        var groups: [String: [DicomInstance]] = [:]
        var order: [String] = []
        let sorted = instances.sorted { NaturalOrder.less($0.path, $1.path) }
        for inst in sorted {
            let key = inst.seriesInstanceUID.isEmpty
                ? "nouid|\(relativeDir(inst))|\(inst.seriesNumber.map(String.init) ?? "")"
                : "uid|\(inst.seriesInstanceUID)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(inst)
        }

        for key in order {
            var members = groups[key]!
            // 2. The same SOPInstanceUID twice is the same image twice.
            var seenSOP: [String: String] = [:]
            members = members.filter { inst in
                guard !inst.sopInstanceUID.isEmpty else { return true }
                if let other = seenSOP[inst.sopInstanceUID] {
                    duplicates.append(DuplicateEntry(path: inst.path, frame: nil, duplicateOf: other, reason: "same SOPInstanceUID"))
                    return false
                }
                seenSOP[inst.sopInstanceUID] = inst.path
                return true
            }
            let label = Self.label(members[0])
            let dir = relativeDir(members[0])
            // 3. Split into consistent parts.
            var parts = split(members)
            // A lone slice that disagrees with a real stack in size or orientation is an outlier (a stray
            // localizer, a corrupt header), not a volume: it is refused by name rather than written.
            if let largest = parts.map(\.instances.count).max(), largest >= 3 {
                parts = parts.filter { part in
                    guard part.instances.count == 1, part.instances[0].numberOfFrames == 1 else { return true }
                    let odd = part.instances[0]
                    failures.append(Failure(label: label, paths: [odd.path],
                                            reason: "this slice differs from the other \(largest) slices of its series (\(part.reason)); a lone outlier slice is not written as a volume"))
                    return false
                }
            }
            var seriesPlans: [SeriesPlan] = []
            for (index, part) in parts.enumerated() {
                let partNo = parts.count > 1 ? index + 1 : nil
                do {
                    let result = try assemble(part.instances, label: label, part: partNo, relativeDir: dir, hasher: hasher)
                    duplicates += result.duplicates
                    for var plan in result.plans {
                        if parts.count > 1 {
                            plan.warnings.insert(SeriesWarning(kind: .split, message: "series split into \(parts.count) volumes because \(part.reason); this is part \(index + 1)"), at: 0)
                        }
                        seriesPlans.append(plan)
                    }
                } catch let DicomPrepError.invalidSeries(_, reason) {
                    failures.append(Failure(label: partNo.map { "\(label) part \($0)" } ?? label, paths: part.instances.map(\.path), reason: reason))
                } catch {
                    failures.append(Failure(label: label, paths: part.instances.map(\.path), reason: String(describing: error)))
                }
            }
            // Number the volumes that came from one DICOM series 1...n, in order.
            for k in seriesPlans.indices { seriesPlans[k].part = seriesPlans.count > 1 ? k + 1 : nil }
            plans += seriesPlans
        }
        return Result(plans: plans, duplicates: duplicates, failures: failures)
    }

    /// A short label for messages and names: SeriesNumber and SeriesDescription, never identifiers.
    static func label(_ inst: DicomInstance) -> String {
        let desc = PHIScrubber(identity: inst.identity).scrub(inst.seriesDescription ?? inst.protocolName ?? inst.modality)
        let label = [inst.seriesNumber.map(String.init), desc].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return label.isEmpty ? "(unnamed)" : label
    }

    // MARK: splitting

    struct Part {
        var instances: [DicomInstance]
        var reason: String
    }

    /// What must be equal for frames to share one volume.
    struct SplitKey {
        var rows: Int, columns: Int
        var orientation: [Double]?
        var spacing: [Double]?
        var echo: String
    }

    func splitKey(_ inst: DicomInstance) -> SplitKey {
        let f = inst.frames[0]
        let o = f.rowDirection.flatMap { r in f.columnDirection.map { c in r.array + c.array } }
        let echo = inst.echoNumber.map { "n\($0)" } ?? f.echoTime.map { "t\($0)" } ?? ""
        return SplitKey(rows: inst.rows, columns: inst.columns, orientation: o, spacing: f.pixelSpacing, echo: echo)
    }

    func same(_ a: SplitKey, _ b: SplitKey) -> String? {
        if a.rows != b.rows || a.columns != b.columns { return "Rows/Columns differ" }
        switch (a.orientation, b.orientation) {
        case let (x?, y?):
            if zip(x, y).contains(where: { abs($0 - $1) > orientationTolerance }) { return "ImageOrientationPatient differs" }
        case (nil, nil): break
        default: return "ImageOrientationPatient is missing in some files"
        }
        if let x = a.spacing, let y = b.spacing, zip(x, y).contains(where: { abs($0 - $1) > 1e-3 }) { return "PixelSpacing differs" }
        if a.echo != b.echo { return "echo differs" }
        return nil
    }

    /// Splits a series into parts whose files agree on size, orientation, spacing and echo.
    func split(_ members: [DicomInstance]) -> [Part] {
        var parts: [(key: SplitKey, items: [DicomInstance])] = []
        var reasons: [String] = []
        for inst in members {
            let k = splitKey(inst)
            var placed = false
            for i in parts.indices {
                if let why = same(parts[i].key, k) {
                    if !reasons.contains(why) { reasons.append(why) }
                } else {
                    parts[i].items.append(inst)
                    placed = true
                    break
                }
            }
            if !placed { parts.append((k, [inst])) }
        }
        let reason = reasons.joined(separator: ", ")
        // Order parts by echo, then by their first file.
        return parts.map { Part(instances: $0.items, reason: reason) }
    }

    // MARK: assembling one consistent part

    struct Candidate {
        var ref: SliceRef
        var position: Vector3?
        var instanceNumber: Int?
        var acquisition: Int?
        var temporal: Int?
        var path: String
    }

    struct Assembled {
        var plans: [SeriesPlan]
        var duplicates: [DuplicateEntry]
    }

    func assemble(_ insts: [DicomInstance], label: String, part: Int?, relativeDir: String, hasher: FrameHasher) throws(DicomPrepError) -> Assembled {
        let f0 = insts[0].frames[0]
        var cands: [Candidate] = []
        for (i, inst) in insts.enumerated() {
            for (k, f) in inst.frames.enumerated() {
                cands.append(Candidate(ref: SliceRef(instance: i, frame: k), position: f.position,
                                       instanceNumber: inst.instanceNumber, acquisition: f.acquisitionNumber ?? inst.acquisitionNumber,
                                       temporal: f.temporalIndex ?? inst.temporalPosition, path: inst.path))
            }
        }
        var duplicates: [DuplicateEntry] = []
        let positional = f0.rowDirection != nil && cands.allSatisfy { $0.position != nil }
        var volumesOfCands: [[Candidate]] = []
        var repeatedNote: SeriesWarning?
        var splitByAcquisition = false

        if positional {
            // Cluster equal positions; identical pixels at one position are duplicates.
            var clusters = cluster(cands)
            var kept: [[Candidate]] = []
            for c in clusters {
                if c.count == 1 { kept.append(c); continue }
                var unique: [(cand: Candidate, hash: String?)] = []
                for cand in c {
                    let h = try? hasher(insts[cand.ref.instance], cand.ref.frame)
                    if let h, let orig = unique.first(where: { $0.hash == h }) {
                        duplicates.append(DuplicateEntry(path: cand.path, frame: insts[cand.ref.instance].numberOfFrames > 1 ? cand.ref.frame + 1 : nil,
                                                         duplicateOf: orig.cand.path, reason: "same position and identical pixels"))
                    } else {
                        unique.append((cand, h))
                    }
                }
                kept.append(unique.map(\.cand))
            }
            clusters = kept
            let maxCount = clusters.map(\.count).max() ?? 1
            if maxCount == 1 {
                volumesOfCands = [clusters.map { $0[0] }]
            } else {
                // Repeated positions with different pixels: distinct acquisitions or time points.
                let acqs = Set(clusters.joined().map { $0.acquisition ?? -1 })
                let byAcq = Dictionary(grouping: clusters.joined(), by: { $0.acquisition ?? -1 })
                if acqs.count > 1 && byAcq.values.allSatisfy({ cluster($0).allSatisfy { $0.count == 1 } }) {
                    volumesOfCands = byAcq.keys.sorted().map { byAcq[$0]! }
                    splitByAcquisition = true
                } else {
                    let ordered = clusters.map { $0.sorted(by: Self.temporalOrder) }
                    if ordered.allSatisfy({ $0.count == maxCount }) {
                        // A 4D series: the n-th repetition at every position forms time point n.
                        volumesOfCands = [ordered.flatMap { $0 }]
                        repeatedNote = SeriesWarning(kind: .repeatedPositions, message: "every position repeats \(maxCount) times: written as \(maxCount) volumes along the 4th dimension")
                        let plan = try makePlan(insts, timepoints: (0..<maxCount).map { t in ordered.map { $0[t] } }, label: label,
                                                part: part, relativeDir: relativeDir, extra: [repeatedNote!])
                        return Assembled(plans: [plan], duplicates: duplicates)
                    } else {
                        let n = maxCount
                        volumesOfCands = (0..<n).map { t in ordered.compactMap { t < $0.count ? $0[t] : nil } }
                        repeatedNote = SeriesWarning(kind: .repeatedPositions, message: "positions repeat unevenly (up to \(n) times): split by repetition into \(n) volumes")
                    }
                }
            }
        } else {
            volumesOfCands = [cands]
        }

        var plans: [SeriesPlan] = []
        for (i, vol) in volumesOfCands.enumerated() {
            var extra: [SeriesWarning] = []
            if let r = repeatedNote { extra.append(r) }
            if splitByAcquisition {
                extra.append(SeriesWarning(kind: .split, message: "positions repeat across AcquisitionNumber: split into \(volumesOfCands.count) volumes; this is acquisition \(i + 1)"))
            }
            let sub = volumesOfCands.count > 1 ? ((part ?? 0) * 100 + i + 1) : part
            plans.append(try makePlan(insts, timepoints: [vol], label: label, part: sub, relativeDir: relativeDir, extra: extra))
        }
        return Assembled(plans: plans, duplicates: duplicates)
    }

    static func temporalOrder(_ a: Candidate, _ b: Candidate) -> Bool {
        let ka = [a.temporal ?? 0, a.acquisition ?? 0, a.instanceNumber ?? 0, a.ref.frame]
        let kb = [b.temporal ?? 0, b.acquisition ?? 0, b.instanceNumber ?? 0, b.ref.frame]
        if ka != kb { return ka.lexicographicallyPrecedes(kb) }
        return NaturalOrder.less(a.path, b.path)
    }

    /// Groups candidates whose positions coincide (within `positionTolerance`), in first-seen order.
    func cluster(_ cands: [Candidate]) -> [[Candidate]] {
        var out: [[Candidate]] = []
        var grid: [[Int]: [Int]] = [:]
        let q = 1 / positionTolerance
        for c in cands {
            let p = c.position!
            let cell = [Int((p.x * q).rounded(.down)), Int((p.y * q).rounded(.down)), Int((p.z * q).rounded(.down))]
            var found: Int?
            search: for dx in -1...1 { for dy in -1...1 { for dz in -1...1 {
                for o in grid[[cell[0] + dx, cell[1] + dy, cell[2] + dz]] ?? [] where (out[o][0].position! - p).length <= positionTolerance {
                    found = o
                    break search
                }
            } } }
            if let found {
                out[found].append(c)
            } else {
                out.append([c])
                grid[cell, default: []].append(out.count - 1)
            }
        }
        return out
    }

    // MARK: sorting and geometry

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

    /// The default frame hasher: decode the file and hash the frame's stored values.
    public static let decodeHash: FrameHasher = { inst, frame in
        let values = try PixelDecoder.storedValues(inst)
        let n = inst.rows * inst.columns
        return values[(frame * n)..<((frame + 1) * n)].withUnsafeBytes { SHA256.hex($0) }
    }
}

func fmt(_ v: Double) -> String {
    let r = (v * 1000).rounded() / 1000
    return r == r.rounded() ? String(Int(r)) : String(r)
}

import DicomPrepCore

/// Turns parsed files into series plans: group into series (`SeriesGrouping`), split each series' frames
/// into outputs that share size, orientation, spacing, echo and image component (`FrameSplitter`), order
/// repeated positions as time points of one 4D volume, then sort slices and derive the geometry
/// (`SliceGeometry`). dcm2niix's rules where they are right, stricter where they are not.
public struct SeriesBuilder: Sendable {
    /// Steps may differ from the median by this much (mm) before spacing counts as non-uniform.
    public var spacingTolerance: Double = 0.1
    /// Positions closer than this (mm) are the same position.
    public var positionTolerance: Double = 0.01
    /// Direction cosines closer than this are the same orientation.
    public var orientationTolerance: Double = 1e-3
    /// Echoes of one series in one 4D output instead of one output per echo.
    public var mergeEchoes = false

    public init(spacingTolerance: Double = 0.1, mergeEchoes: Bool = false) {
        self.spacingTolerance = spacingTolerance
        self.mergeEchoes = mergeEchoes
    }

    /// A series (or part of one) that could not be assembled, with the files it would have used.
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

    typealias Candidate = SliceGeometry.Candidate

    /// Builds plans from parsed instances. `relativeDir` gives each instance's folder relative to its input root.
    public func build(_ instances: [DicomInstance], relativeDir: (DicomInstance) -> String = { _ in "" }) -> Result {
        let (groups, duplicates) = SeriesGrouping.group(instances, relativeDir: relativeDir)
        var failures: [Failure] = []
        var plans: [SeriesPlan] = []
        let splitter = FrameSplitter(orientationTolerance: orientationTolerance, mergeEchoes: mergeEchoes)
        let geometry = SliceGeometry(spacingTolerance: spacingTolerance, positionTolerance: positionTolerance)
        for group in groups {
            let members = group.members
            let label = Self.label(members[0])
            let dir = relativeDir(members[0])
            var parts = splitter.split(members)
            // A lone slice that disagrees with a real stack in size or orientation is an outlier (a stray
            // localizer, a corrupt header), not a volume: it is refused by name rather than written.
            if let largest = parts.map(\.frames.count).max(), largest >= 3 {
                parts = parts.filter { part in
                    guard part.frames.count == 1, members[part.frames[0].instance].numberOfFrames == 1, part.shapeDiffers else { return true }
                    failures.append(Failure(label: label, paths: [members[part.frames[0].instance].path],
                                            reason: "this slice differs from the other \(largest) slices of its series (\(part.reason)); a lone outlier slice is not written as a volume"))
                    return false
                }
            }
            let shapes = Set(parts.map(\.shape)).count
            var shapeIndex: [Int: Int] = [:]
            for p in parts where shapeIndex[p.shape] == nil { shapeIndex[p.shape] = shapeIndex.count + 1 }
            var seriesPlans: [SeriesPlan] = []
            for part in parts {
                let partNo = shapes > 1 ? shapeIndex[part.shape] : nil
                let partLabel = label + part.suffix + (partNo.map { " part \($0)" } ?? "")
                let r = assemble(members, part.frames, label: label, part: partNo, relativeDir: dir, geometry: geometry)
                failures += r.failures.map { Failure(label: partLabel, paths: $0.paths, reason: $0.reason) }
                if var plan = r.plan {
                    plan.suffix = part.suffix
                    plan.component = part.component
                    if shapes > 1 {
                        plan.warnings.insert(SeriesWarning(kind: .split, message: "series split into \(shapes) volumes because \(part.reason); this is part \(partNo!)"), at: 0)
                    }
                    seriesPlans += Self.splitPEPolar(plan)
                }
            }
            plans += seriesPlans
        }
        return Result(plans: plans, duplicates: duplicates, failures: failures)
    }

    /// GE's ABCD `epi_pepolar` sequence alternates the phase-encoding polarity volume by volume and stores
    /// the reversed volumes (the 1st, 3rd, ...) mirrored along the phase-encoding axis. They become their own
    /// output, un-mirrored, numbered SeriesNumber + 1000 as the reference converter does.
    static func splitPEPolar(_ plan: SeriesPlan) -> [SeriesPlan] {
        let first = plan.first
        guard first.vendor.hasPrefix("GE"), first.acquisition.pulseSequenceName?.lowercased().contains("epi_pepolar") == true,
              plan.volumes.count >= 2, first.acquisition.phaseEncodingAxis != nil else { return [plan] }
        var forward = plan, reversed = plan
        forward.volumes = plan.volumes.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        reversed.volumes = plan.volumes.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        forward.geometry.timepoints = forward.volumes.count
        reversed.geometry.timepoints = reversed.volumes.count
        reversed.seriesNumberOffset = 1000
        reversed.mirroredAlongPhaseEncoding = true
        let note = "GE epi_pepolar: volumes alternate phase-encoding polarity; the reversed ones (1st, 3rd, ...) are written un-mirrored as series number + 1000"
        forward.warnings.append(SeriesWarning(kind: .split, message: note))
        reversed.warnings.append(SeriesWarning(kind: .split, message: note))
        return [forward, reversed]
    }

    /// A short label for messages and names: SeriesNumber and SeriesDescription, never identifiers.
    static func label(_ inst: DicomInstance) -> String {
        let desc = PHIScrubber(identity: inst.identity).scrub(inst.seriesDescription ?? inst.protocolName ?? inst.modality)
        let label = [inst.seriesNumber.map(String.init), desc].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return label.isEmpty ? "(unnamed)" : label
    }

    struct Assembled {
        var plan: SeriesPlan?
        var failures: [(paths: [String], reason: String)]
    }

    /// One output from frames of one kind: repeated positions are time points, ordered by the acquisition.
    func assemble(_ insts: [DicomInstance], _ refs: [SliceRef], label: String, part: Int?, relativeDir: String,
                  geometry: SliceGeometry) -> Assembled {
        let cands = refs.map { r -> Candidate in
            let inst = insts[r.instance], f = inst.frames[r.frame]
            return Candidate(ref: r, position: f.position, instanceNumber: inst.instanceNumber,
                             acquisition: f.acquisitionNumber ?? inst.acquisitionNumber,
                             temporal: f.temporalIndex ?? inst.temporalPosition, path: inst.path)
        }
        var failures: [(paths: [String], reason: String)] = []
        let f0 = insts[refs[0].instance].frames[refs[0].frame]
        let positional = f0.rowDirection != nil && cands.allSatisfy { $0.position != nil }
        var timepoints: [[Candidate]]
        var extra: [SeriesWarning] = []
        if positional {
            let clusters = cluster(cands).map { $0.sorted(by: Self.temporalOrder) }
            let most = clusters.map(\.count).max() ?? 1, fewest = clusters.map(\.count).min() ?? 1
            timepoints = (0..<fewest).map { t in clusters.map { $0[t] } }
            if most > 1 {
                extra.append(SeriesWarning(kind: .repeatedPositions, message: "every position is acquired \(fewest) times: written as \(fewest) volumes along the 4th dimension, in acquisition order"))
            }
            if most > fewest {
                // Time points that do not cover every position (an interrupted run, a re-acquired slice).
                for t in fewest..<most {
                    let present = clusters.compactMap { t < $0.count ? $0[t] : nil }
                    let paths = Array(Set(present.map(\.path))).sorted(by: NaturalOrder.less)
                    failures.append((paths, "repetition \(t + 1) has \(present.count) of \(clusters.count) slice positions: an incomplete volume is not written"))
                }
            }
        } else {
            timepoints = [cands]
        }
        do throws(DicomPrepError) {
            var plan = try geometry.makePlan(insts, timepoints: timepoints, label: label, part: part, relativeDir: relativeDir, extra: extra)
            plan.part = part
            return Assembled(plan: plan, failures: failures)
        } catch let DicomPrepError.invalidSeries(_, reason) {
            return Assembled(plan: nil, failures: failures + [(Array(Set(cands.map(\.path))).sorted(by: NaturalOrder.less), reason)])
        } catch {
            return Assembled(plan: nil, failures: failures + [(Array(Set(cands.map(\.path))).sorted(by: NaturalOrder.less), error.description)])
        }
    }

    /// Acquisition order of frames at one position: temporal index, acquisition number, instance number, frame.
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
}

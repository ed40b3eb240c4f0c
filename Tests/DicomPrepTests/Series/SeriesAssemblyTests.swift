import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// The three steps of series assembly on their own: grouping (and exact duplicates), splitting frames into
/// outputs (image component, echo), and time points of repeated positions; plus the CSA header reader.
final class SeriesAssemblyTests: XCTestCase {
    /// Parsed slices of a small synthetic axial series, to vary field by field.
    func slices(_ n: Int = 4, seed: UInt64 = 1) throws -> [DicomInstance] {
        let dir = TestSupport.tempDir("slices")
        var s = SyntheticSeries()
        s.slices = n
        s.seed = seed
        return try s.write(to: dir.path).sorted(by: NaturalOrder.less).map { try InstanceParser.parse(path: $0) }
    }

    func testGroupingBySeriesNumberAndRepeatedSOPInstanceUID() throws {
        var a = try slices(3)
        // Edited copies with the same UIDs but another SeriesNumber are another series.
        var b = a.map { var i = $0; i.seriesNumber = 99; i.path += ".copy"; return i }
        // One file exported twice: same SOPInstanceUID.
        var again = a[1]
        again.path += ".again"
        a.append(again)
        // A file without SeriesNumber joins the only numbered series of its UID.
        var c = b.map { var i = $0; i.seriesInstanceUID += ".2"; i.path += ".c"; return i }
        c[0].seriesNumber = nil
        b += c
        let (groups, duplicates) = SeriesGrouping.group(a + b, relativeDir: { _ in "" })
        XCTAssertEqual(groups.count, 3, "\(groups.map(\.key))")
        XCTAssertEqual(groups.map(\.members.count).sorted(), [3, 3, 3])
        XCTAssertEqual(duplicates.map(\.reason), ["same SOPInstanceUID"])
        XCTAssertEqual(duplicates.first?.path, again.path)
    }

    func testFramesSplitByComponentAndEcho() throws {
        let base = try slices(3)
        let phase = base.map { i -> DicomInstance in
            var i = i
            i.sopInstanceUID += ".9"
            for k in i.frames.indices { i.frames[k].component = .phase }
            return i
        }
        func echo(_ list: [DicomInstance], _ n: Int) -> [DicomInstance] {
            list.map { var i = $0; i.echoNumber = n; i.sopInstanceUID += ".\(n)"; for k in i.frames.indices { i.frames[k].echoNumber = n }; return i }
        }
        let splitter = FrameSplitter(orientationTolerance: 1e-3, mergeEchoes: false)
        XCTAssertEqual(splitter.split(base + phase).map(\.suffix), ["", "_ph"])
        XCTAssertEqual(splitter.split(echo(base, 1) + echo(base, 2)).map(\.suffix), ["_e1", "_e2"])
        XCTAssertEqual(splitter.split(echo(base, 1) + echo(phase, 1) + echo(base, 2) + echo(phase, 2)).map(\.suffix), ["_e1", "_e1_ph", "_e2", "_e2_ph"])
        let merged = FrameSplitter(orientationTolerance: 1e-3, mergeEchoes: true).split(echo(base, 1) + echo(base, 2))
        XCTAssertEqual(merged.count, 1)
        XCTAssertEqual(merged[0].frames.count, 6)
    }

    /// A run whose volumes repeat pixels exactly is still a run: equal pixels are never a duplicate.
    func testIdenticalRepeatsAreTimePointsAndAnIncompleteVolumeIsReported() throws {
        let dir = TestSupport.tempDir("run")
        var s = SyntheticSeries()
        s.slices = 4
        let first = try s.write(to: dir.appendingPathComponent("t1").path).sorted(by: NaturalOrder.less)
        let uid = try InstanceParser.parse(path: first[0]).seriesInstanceUID
        var t = s
        t.seed = 5 // other SOPInstanceUIDs, the same pixel values
        let second = try t.write(to: dir.appendingPathComponent("t2").path).sorted(by: NaturalOrder.less)
        for p in second { try DicomWriterTestHelper.rewrite(p) { _ in [(.seriesInstanceUID, uid), (.acquisitionNumber, "2")] } }
        let (report, _) = try TestSupport.convert([dir.path]) { $0.mirrorFolders = false }
        let img = try TestSupport.onlyVolume(report)
        XCTAssertEqual(img.dims, [s.columns, s.rows, 4, 2])
        XCTAssertEqual(report.duplicates.count, 0)
        XCTAssertEqual(report.exitStatus, 0)

        // A third repetition that stops after two slices: the two complete volumes are written, the rest named.
        var u = s
        u.seed = 6
        let third = try u.write(to: dir.appendingPathComponent("t3").path).sorted(by: NaturalOrder.less)
        for p in third { try DicomWriterTestHelper.rewrite(p) { _ in [(.seriesInstanceUID, uid), (.acquisitionNumber, "3")] } }
        for p in third.suffix(2) { try FileManager.default.removeItem(atPath: p) }
        let (r2, _) = try TestSupport.convert([dir.path]) { $0.mirrorFolders = false }
        XCTAssertEqual(try TestSupport.onlyVolume(r2).dims, [s.columns, s.rows, 4, 2])
        XCTAssertEqual(r2.exitStatus, 1)
        XCTAssertEqual(r2.failedSeries.count, 1)
        XCTAssertTrue(r2.failedSeries[0].reason.contains("2 of 4 slice positions"), r2.failedSeries[0].reason)
        XCTAssertEqual(Set(r2.failedSeries[0].files), Set(third.prefix(2)))
        XCTAssertEqual(r2.counts.used + r2.counts.duplicate + r2.counts.skipped, r2.counts.scanned)
    }

    /// nibabel's CSA2 sample of a b = 1000 image.
    func testCSAHeaderReadsNibabelSample() throws {
        let path = "/usr/lib/python3/dist-packages/nibabel/nicom/tests/data/csa2_b1000.bin"
        guard let data = FileManager.default.contents(atPath: path) else { throw XCTSkip("python3-nibabel's test data is not installed") }
        let csa = try XCTUnwrap(CSAHeader([UInt8](data)))
        XCTAssertEqual(csa.double("B_value"), 1000)
        XCTAssertEqual(csa.doubles("DiffusionGradientDirection").count, 3)
        XCTAssertEqual(csa.int("NumberOfImagesInMosaic"), 48)
        XCTAssertEqual(csa.doubles("SliceNormalVector").count, 3)
        XCTAssertNil(CSAHeader([0x53, 0x56, 0x31, 0x30, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x7F]), "implausible tag count")
        XCTAssertNil(CSAHeader([1, 2, 3]))
    }

    func testTimeOfDayParsing() {
        XCTAssertEqual(VendorFields.seconds("083634.295")!, 8 * 3600 + 36 * 60 + 34.295, accuracy: 1e-9)
        XCTAssertEqual(VendorFields.seconds("20181022083634.295000")!, 8 * 3600 + 36 * 60 + 34.295, accuracy: 1e-9)
        XCTAssertNil(VendorFields.seconds("x"))
    }
}

/// Step 3 on its own: slice order and geometry from candidate positions.
final class SliceGeometryTests: XCTestCase {
    func candidates(_ insts: [DicomInstance]) -> [SliceGeometry.Candidate] {
        insts.enumerated().map { i, inst in
            SliceGeometry.Candidate(ref: SliceRef(instance: i, frame: 0), position: inst.frames[0].position, instanceNumber: inst.instanceNumber,
                                    acquisition: nil, temporal: nil, path: inst.path)
        }
    }

    func testOrderSpacingGapAndTilt() throws {
        var s = SyntheticSeries()
        s.slices = 6
        s.sliceSpacing = 2.5
        let dir = TestSupport.tempDir("geom")
        let insts = try s.write(to: dir.path).map { try InstanceParser.parse(path: $0) }.shuffled()
        let g = SliceGeometry(spacingTolerance: 0.1, positionTolerance: 0.01)
        let plan = try g.makePlan(insts, timepoints: [candidates(insts)], label: "t", part: nil, relativeDir: "", extra: [])
        XCTAssertEqual(plan.geometry.slices, 6)
        XCTAssertEqual(plan.geometry.sliceSpacing, 2.5, accuracy: 1e-9)
        XCTAssertEqual(plan.geometry.sortKey, "ImagePositionPatient")
        let order = plan.volumes[0].map { plan.frame($0).position!.dot(s.rowDirection.cross(s.columnDirection)) }
        XCTAssertEqual(order, order.sorted(), "slices in order along the normal")

        // One slice missing: a gap of two steps is reported as a missing slice, not as non-uniform spacing.
        var gap = insts.sorted { $0.frames[0].position!.z < $1.frames[0].position!.z }
        gap.remove(at: 3)
        let p2 = try g.makePlan(gap, timepoints: [candidates(gap)], label: "t", part: nil, relativeDir: "", extra: [])
        XCTAssertEqual(p2.geometry.missingSlices, 1)
        XCTAssertFalse(p2.geometry.nonUniformSpacing)

        // Positions drifting within the slice plane: gantry tilt, a sheared affine that keeps true positions.
        let sorted = insts.sorted { $0.frames[0].position!.z < $1.frames[0].position!.z }
        let tilted = sorted.enumerated().map { k, inst -> DicomInstance in
            var i = inst
            i.frames[0].position = inst.frames[0].position! + s.columnDirection * (0.4 * Double(k))
            return i
        }
        let p3 = try g.makePlan(tilted, timepoints: [candidates(tilted)], label: "t", part: nil, relativeDir: "", extra: [])
        XCTAssertGreaterThan(p3.geometry.tiltDegrees, 1)
        XCTAssertTrue(p3.warnings.contains { $0.kind == .gantryTilt })
        let last = tilted.last!.frames[0].position!
        let k = Double(p3.geometry.slices - 1)
        let world = p3.geometry.affine.apply(Vector3(0, 0, k))
        XCTAssertEqual(world.x, -last.x, accuracy: 1e-6)
        XCTAssertEqual(world.y, -last.y, accuracy: 1e-6)
        XCTAssertEqual(world.z, last.z, accuracy: 1e-6)
    }

    func testSlicesThatDoNotAdvanceAreRefused() throws {
        let dir = TestSupport.tempDir("flat")
        let insts = try SyntheticSeries().write(to: dir.path).map { try InstanceParser.parse(path: $0) }
        let same = insts.map { var i = $0; i.frames[0].position = insts[0].frames[0].position! + Vector3(0.001, 0, 0); return i }
        let g = SliceGeometry(spacingTolerance: 0.1, positionTolerance: 0.01)
        XCTAssertThrowsError(try g.makePlan(same, timepoints: [candidates(same)], label: "t", part: nil, relativeDir: "", extra: []))
    }
}

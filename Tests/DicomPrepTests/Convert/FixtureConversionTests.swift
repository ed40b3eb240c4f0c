import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// The whole shared fixture folder converts without a crash, with every file accounted for.
final class FixtureConversionTests: XCTestCase {
    func testEveryFixtureFileIsAccountedFor() throws {
        let dir = try TestSupport.requireFixtures()
        let (r, _) = try TestSupport.convert([dir.path])
        XCTAssertEqual(r.counts.used + r.counts.duplicate + r.counts.skipped, r.counts.scanned)
        XCTAssertEqual(r.exitStatus, 1, "the fixtures include non-image and truncated files")
        let skipped = Set(r.skipped.map { URL(fileURLWithPath: $0.path).lastPathComponent })
        for name in ["rtplan.dcm", "test-SR.dcm", "MR_truncated.dcm"] { XCTAssertTrue(skipped.contains(name), name) }
        // Transfer-syntax families of one image are duplicates of each other (same SOPInstanceUID).
        let dups = Set(r.duplicates.map { URL(fileURLWithPath: $0.path).lastPathComponent })
        XCTAssertTrue(dups.contains("MR_small_jpeg_ls_lossless.dcm"))
        XCTAssertTrue(dups.contains("emri_small_jpeg_2k_lossless.dcm"))
        // The 10-frame enhanced MR becomes one 64x64x10 volume.
        let emri = try XCTUnwrap(r.outputs.first { $0.sources.contains { $0.hasSuffix("/emri_small.dcm") } })
        XCTAssertEqual(emri.dimensions, [64, 64, 10, 1])
    }
}

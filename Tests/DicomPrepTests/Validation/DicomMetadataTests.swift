import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

final class DicomMetadataTests: XCTestCase {
    func testDicomMetadataAgainstTheMRSchema() throws {
        let store = try SchemaStore(directory: TestSupport.repoRoot.appendingPathComponent("schemas").path)
        let dir = TestSupport.tempDir()
        let paths = try SyntheticSeries().write(to: dir.path)
        let good = try InstanceParser.parse(path: paths[0])
        XCTAssertEqual(try store.validate(DicomMetadata.document(good), schemaName: "dicom-mr-image").map(\.description), [])
        // A row direction of length 0.9 and a zero pixel spacing are caught, each at its pointer.
        try DicomWriterTestHelper.rewrite(paths[1]) { _ in [(.imageOrientationPatient, "0.9\\0\\0\\0\\1\\0"), (.pixelSpacing, "0\\0.8")] }
        let bad = try InstanceParser.parse(path: paths[1])
        let v = try store.validate(DicomMetadata.document(bad), schemaName: "dicom-mr-image").map(\.pointer)
        XCTAssertTrue(v.contains("/derived/rowNorm"), "\(v)")
        XCTAssertTrue(v.contains("/PixelSpacing/0"), "\(v)")
    }
}

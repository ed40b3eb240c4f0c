import XCTest
@testable import DicomPrepCore

/// The shim reads dcmtk's data dictionary with its own fast reader (dcmtk's sscanf-per-field loader was
/// the largest fixed cost of a short run); every entry must be what dcmtk's loader makes of the same file.
final class DictionaryTests: XCTestCase {
    func testFastDictionaryEqualsDcmtksOwnReading() throws {
        if ProcessInfo.processInfo.environment["DCMDICTPATH"] != nil {
            throw XCTSkip("DCMDICTPATH is set: dcmtk reads the user's dictionaries itself")
        }
        let n = try DicomObject.checkDictionary()
        // dicom.dic of dcmtk 3.6.x: about 5,000 entries, tag ranges (overlays, curves) included.
        XCTAssertGreaterThan(n, 4000)
    }
}

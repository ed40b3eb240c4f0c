import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// dicomprep's JSON Schema validator against the official JSON Schema Test Suite (Debian package
/// json-schema-test-suite): the draft-07 files of the keywords whose meaning 2020-12 kept.
final class SchemaTestSuiteTests: XCTestCase {
    static let keywords = ["additionalItems", "additionalProperties", "allOf", "anyOf", "boolean_schema", "const", "contains",
                           "default", "definitions", "enum", "exclusiveMaximum", "exclusiveMinimum", "if-then-else", "items",
                           "maxItems", "maxLength", "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum",
                           "multipleOf", "not", "oneOf", "pattern", "patternProperties", "properties", "propertyNames", "ref",
                           "required", "type", "uniqueItems"]

    /// The optional format tests of the formats dicomprep checks.
    func testFormatPassRate() throws {
        let dir = "/usr/share/json-schema-test-suite/tests/draft7/optional/format"
        guard FileManager.default.fileExists(atPath: dir) else { throw XCTSkip("json-schema-test-suite is not installed") }
        var passed = 0, total = 0
        for f in ["date-time", "date", "uri", "email"] {
            let doc = try JSONValue.parse(file: "\(dir)/\(f).json")
            for group in doc.arrayValue ?? [] {
                let v = SchemaValidator(schema: group["schema"]!)
                for t in group["tests"]?.arrayValue ?? [] {
                    total += 1
                    if v.validate(t["data"]!).isEmpty == t["valid"]?.boolValue { passed += 1 }
                }
            }
        }
        print("JSON Schema Test Suite (draft7 optional formats date-time, date, uri, email): \(passed)/\(total) passed")
        XCTAssertGreaterThanOrEqual(Double(passed) / Double(total), 0.75)
    }

    func testOfficialSuitePassRate() throws {
        let dir = "/usr/share/json-schema-test-suite/tests/draft7"
        guard FileManager.default.fileExists(atPath: dir) else { throw XCTSkip("json-schema-test-suite is not installed") }
        var passed = 0, total = 0
        var perKeyword: [String: (Int, Int)] = [:]
        var failures: [String] = []
        for k in Self.keywords {
            let doc = try JSONValue.parse(file: "\(dir)/\(k).json")
            for group in doc.arrayValue ?? [] {
                guard let schema = group["schema"], let tests = group["tests"]?.arrayValue else { continue }
                let v = SchemaValidator(schema: schema)
                for t in tests {
                    guard let data = t["data"], let expect = t["valid"]?.boolValue else { continue }
                    let ok = v.validate(data).isEmpty == expect
                    total += 1
                    if ok { passed += 1 } else { failures.append("\(k): \(group["description"]?.stringValue ?? "") / \(t["description"]?.stringValue ?? "")") }
                    perKeyword[k, default: (0, 0)].0 += ok ? 1 : 0
                    perKeyword[k, default: (0, 0)].1 += 1
                }
            }
        }
        let rate = Double(passed) / Double(max(total, 1))
        print("JSON Schema Test Suite (draft7, \(Self.keywords.count) keywords): \(passed)/\(total) passed (\(String(format: "%.1f", rate * 100))%)")
        for f in failures { print("  failed: \(f)") }
        XCTAssertGreaterThanOrEqual(rate, 0.95, "pass rate fell to \(rate)")
        XCTAssertGreaterThan(total, 350)
    }
}

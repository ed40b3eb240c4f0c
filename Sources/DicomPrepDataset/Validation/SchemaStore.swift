import DicomPrepCore
import Foundation

/// The JSON Schemas in a folder (the repository's `schemas/`), chosen for a document by its `$schema`.
public struct SchemaStore: Sendable {
    public let directory: String
    public let schemas: [String: JSONValue]

    /// Loads every `*.schema.json` in `directory`.
    public init(directory: String) throws(DicomPrepError) {
        self.directory = directory
        var found: [String: JSONValue] = [:]
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .io(path: directory, reason: "schema folder cannot be read")
        }
        for n in names where n.hasSuffix(".schema.json") {
            found[n] = try JSONValue.parse(file: directory + "/" + n)
        }
        guard !found.isEmpty else { throw .io(path: directory, reason: "holds no *.schema.json files") }
        schemas = found
    }

    /// Finds the schemas folder: $DICOMPREP_SCHEMAS, then `schemas/` beside or above the executable
    /// (a build inside the repository), then ../share/dicomprep/schemas, then ./schemas.
    public static func locate() -> String? {
        Resources.locate("schemas", marker: "common.schema.json", environment: "DICOMPREP_SCHEMAS")
    }

    /// The schema named by a name ("series-sidecar"), a file name, or a path.
    public func schema(named name: String) throws(DicomPrepError) -> (String, JSONValue) {
        if name.contains("/"), FileManager.default.fileExists(atPath: name) {
            return (URL(fileURLWithPath: name).lastPathComponent, try JSONValue.parse(file: name))
        }
        let base = URL(fileURLWithPath: name).lastPathComponent
        for key in [base, base + ".schema.json", base + ".json"] {
            if let s = schemas[key] { return (key, s) }
        }
        throw .usage("no schema named \(name) in \(directory) (have: \(schemas.keys.sorted().joined(separator: ", ")))")
    }

    /// Validates a document against the schema its `$schema` names (or `schemaName` when given).
    public func validate(_ doc: JSONValue, schemaName: String? = nil) throws(DicomPrepError) -> [SchemaViolation] {
        guard let name = schemaName ?? doc["$schema"]?.stringValue else {
            throw .usage("the document has no \"$schema\"; name one with --schema")
        }
        let (_, schema) = try schema(named: name)
        return SchemaValidator(schema: schema, library: schemas).validate(doc)
    }

    /// Validates a file.
    public func validate(file: String, schemaName: String? = nil) throws(DicomPrepError) -> [SchemaViolation] {
        try validate(JSONValue.parse(file: file), schemaName: schemaName)
    }
}

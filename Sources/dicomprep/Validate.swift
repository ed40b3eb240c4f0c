import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth
import Foundation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate JSON files written by dicomprep (or any JSON) against the JSON Schemas in schemas/.",
        discussion: "The schema is the one the file's \"$schema\" names unless --schema is given. Exit status 1 when any file has a violation."
    )

    @Argument(help: "JSON files (or, with --dicom, DICOM files and folders).")
    var files: [String]

    @Flag(help: "Validate the DICOM metadata of every image in the given files/folders against --schema (e.g. dicom-mr-image).")
    var dicom = false

    @Option(help: "Schema name (e.g. series-sidecar) or path.")
    var schema: String?

    @Option(help: "Folder holding the *.schema.json files (default: the repository's schemas/).")
    var schemas: String?

    func run() throws {
        guard let dir = schemas ?? SchemaStore.locate() else {
            Terminal.error("error: cannot find the schemas folder; pass --schemas DIR or set DICOMPREP_SCHEMAS")
            throw ExitCode(2)
        }
        let store: SchemaStore = try orExit { () throws(DicomPrepError) in try SchemaStore(directory: dir) }
        var bad = 0
        if dicom {
            guard let schema else { throw ValidationError("--dicom needs --schema (e.g. dicom-mr-image)") }
            let (found, skipped) = FileScanner.scan(files)
            for s in skipped { Terminal.error("\(s.path): \(s.reason)") }
            for f in found {
                let r = Result(catching: { () throws(DicomPrepError) in
                    try store.validate(DicomMetadata.document(InstanceParser.parse(path: f.path)), schemaName: schema)
                })
                switch r {
                case let .success(v) where v.isEmpty: break
                case let .success(v): bad += 1; for x in v { Terminal.out("\(f.path): \(x)") }
                case let .failure(e): bad += 1; Terminal.error("\(f.path): \(e.reason)")
                }
            }
            Terminal.out("\(found.count) files checked, \(bad) with problems")
            if bad > 0 || !skipped.isEmpty { throw ExitCode(1) }
            return
        }
        for f in files {
            switch Result(catching: { () throws(DicomPrepError) in try store.validate(file: f, schemaName: schema) }) {
            case let .success(v) where v.isEmpty:
                Terminal.out("\(f): valid")
            case let .success(v):
                bad += 1
                for x in v { Terminal.out("\(f): \(x)") }
            case let .failure(e):
                bad += 1
                Terminal.error("\(f): \(e.reason)")
            }
        }
        if bad > 0 { throw ExitCode(1) }
    }
}

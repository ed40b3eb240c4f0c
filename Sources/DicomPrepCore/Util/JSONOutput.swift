import Foundation

/// The tool's version, written into every output.
public enum DicomPrepVersion {
    public static let string = "0.1.0"
}

/// JSON encoding shared by every file dicomprep writes: pretty, sorted keys, no escaped slashes.
public enum JSONOutput {
    public static func encode<T: Encodable>(_ value: T) throws(DicomPrepError) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try e.encode(value), as: UTF8.self) + "\n"
        } catch {
            throw .io(path: "", reason: "cannot encode JSON: \(error)")
        }
    }

    /// Encodes and writes atomically.
    public static func write<T: Encodable>(_ value: T, to path: String) throws(DicomPrepError) {
        try AtomicFile.write(text: try encode(value), to: path)
    }
}

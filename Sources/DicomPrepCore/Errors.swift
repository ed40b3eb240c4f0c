/// Every error dicomprep reports: each names the file (or folder) it concerns and says why in words a
/// user can act on.
public enum DicomPrepError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file is not DICOM, or dcmtk could not parse it.
    case unreadable(path: String, reason: String)
    /// The file is not DICOM at all (no preamble, no DICOM attributes): a note, a spreadsheet, a README.
    case notDicom(path: String, reason: String)
    /// A DICOM object that holds no image (SR, RT plan, presentation state, DICOMDIR, ...).
    case notAnImage(path: String, reason: String)
    /// An image that dicomprep does not convert (colour, unsupported transfer syntax, ...).
    case unsupported(path: String, reason: String)
    /// Pixel data or header values that are inconsistent or corrupt.
    case corrupt(path: String, reason: String)
    /// A series that cannot be turned into one volume.
    case invalidSeries(name: String, reason: String)
    /// Reading or writing a file failed.
    case io(path: String, reason: String)
    /// A bad option or option combination.
    case usage(String)

    public var description: String {
        switch self {
        case let .unreadable(p, r): return "\(p): not readable as DICOM: \(r)"
        case let .notDicom(p, r): return "\(p): not DICOM: \(r)"
        case let .notAnImage(p, r): return "\(p): not an image: \(r)"
        case let .unsupported(p, r): return "\(p): not supported: \(r)"
        case let .corrupt(p, r): return "\(p): corrupt: \(r)"
        case let .invalidSeries(n, r): return "series \(n): \(r)"
        case let .io(p, r): return "\(p): \(r)"
        case let .usage(m): return m
        }
    }

    /// The reason alone, without the subject.
    public var reason: String {
        switch self {
        case let .unreadable(_, r): return "not readable as DICOM: \(r)"
        case let .notDicom(_, r): return "not DICOM: \(r)"
        case let .notAnImage(_, r): return "not an image: \(r)"
        case let .unsupported(_, r): return "not supported: \(r)"
        case let .corrupt(_, r): return "corrupt: \(r)"
        case let .invalidSeries(_, r): return r
        case let .io(_, r): return r
        case let .usage(m): return m
        }
    }
}

/// Runs a typed-throwing body inside a closure API that only rethrows `any Error` (withUnsafeBytes, ...).
@inline(__always)
package func catching<T>(_ body: () throws(DicomPrepError) -> T) -> Result<T, DicomPrepError> {
    do throws(DicomPrepError) { return .success(try body()) } catch { return .failure(error) }
}

extension Result {
    /// The error, if any.
    var failure: Failure? { if case let .failure(e) = self { return e }; return nil }
}

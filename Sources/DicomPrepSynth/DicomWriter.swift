import DicomPrepCore

/// Writes DICOM files through dcmtk: used by `dicomprep synth` and by the tests to make series with
/// known geometry and values.
public struct DicomWriter {
    public enum Syntax: String, Sendable, CaseIterable {
        case explicitLittle, implicitLittle, explicitBig, deflated
        var write: DicomObject.WriteSyntax {
            switch self {
            case .explicitLittle: return .explicitLittle
            case .implicitLittle: return .implicitLittle
            case .explicitBig: return .explicitBig
            case .deflated: return .deflated
            }
        }
    }

    private let object: DicomObject
    public let path: String

    public init(path: String) throws(DicomPrepError) {
        object = try DicomObject(newAt: path)
        self.path = path
    }

    /// Sets a top-level attribute from its text form (numbers as text, several values separated by `\`).
    public func set(_ tag: Tag, _ value: String) throws(DicomPrepError) { try object.put(tag, value) }

    /// Sets an attribute inside sequence items, creating them: `[(sequence, item), ...], tag`.
    public func set(_ steps: [(Tag, Int)], _ tag: Tag, _ value: String) throws(DicomPrepError) {
        try object.put(TagPath(steps, tag), value)
    }

    /// Sets a binary (OB) attribute, e.g. a private CSA header.
    public func set(_ tag: Tag, bytes: [UInt8]) throws(DicomPrepError) { try object.putBytes(TagPath(tag), bytes) }

    /// Sets PixelData from samples of `bitsAllocated` bits (8 or 16), little-endian in memory.
    public func setPixels(_ bytes: [UInt8], bitsAllocated: Int) throws(DicomPrepError) {
        try bytes.withUnsafeBytes { b in catching { () throws(DicomPrepError) in try object.putPixels(b, bitsAllocated: bitsAllocated) } }.get()
    }

    public func save(syntax: Syntax = .explicitLittle) throws(DicomPrepError) {
        try object.save(to: path, syntax: syntax.write)
    }
}

/// Numbers in DICOM text form (DS/IS): shortest exact decimal, no exponent for ordinary values.
func dicomNumber(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    var s = String(format: "%.10g", v)
    if s.count > 16 { s = String(format: "%.8g", v) }
    return s
}

import Foundation

import DicomPrepCore

/// Removes identifying values from text dicomprep writes (series descriptions, protocol names, labels,
/// file names): any occurrence of a value `IdentifyingAttributes` marks as scrubbed (names and their parts,
/// IDs, accession number, institution, dates, UIDs) taken from the same file is replaced by "REDACTED".
/// Sites sometimes type a patient's name into a series description; it must not reach an output.
public struct PHIScrubber: Sendable {
    let tokens: [String]

    public init(identity: [String: String]) {
        var t = Set<String>()
        for k in IdentifyingAttributes.scrubbed {
            guard let v = identity[k]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { continue }
            t.insert(v)
            if k.hasSuffix("Name") {
                for part in v.split(whereSeparator: { $0 == "^" || $0 == " " || $0 == "," }) where part.count >= 3 { t.insert(String(part)) }
            }
        }
        // Longest first, so "DOE^JANE" goes before "DOE".
        tokens = t.filter { $0.count >= 3 }.sorted { $0.count > $1.count }
    }

    public static let none = PHIScrubber(identity: [:])

    public func scrub(_ s: String) -> String {
        guard !tokens.isEmpty else { return s }
        var out = s
        for t in tokens where out.range(of: t, options: .caseInsensitive) != nil {
            out = out.replacingOccurrences(of: t, with: "REDACTED", options: .caseInsensitive)
        }
        return out
    }

    public func scrub(_ s: String?) -> String? { s.map { scrub($0) } }
}

import Foundation

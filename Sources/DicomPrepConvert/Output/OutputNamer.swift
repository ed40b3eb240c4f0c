import DicomPrepCore

/// Turns series attributes into safe, unique output paths: a name template, characters limited to
/// [A-Za-z0-9._-], the input's relative folders mirrored, and numeric suffixes on collisions.
public struct OutputNamer: Sendable {
    public static let defaultTemplate = "{SeriesNumber}_{SeriesDescription}"
    /// Identifying fields (allowed with --keep-phi): the attributes of `IdentifyingAttributes`.
    static var phiFields: Set<String> { IdentifyingAttributes.keywords }
    static let plainFields: Set<String> = ["SeriesNumber", "SeriesDescription", "ProtocolName", "Modality", "SequenceName",
                                           "EchoNumber", "AcquisitionPlane", "AcquisitionNumber", "Part"]

    public let template: String
    public let keepPHI: Bool
    public let mirrorFolders: Bool
    private var taken: Set<String> = []

    /// Checks the template: known fields only, identifying ones only with keepPHI.
    public init(template: String = OutputNamer.defaultTemplate, keepPHI: Bool = false, mirrorFolders: Bool = true) throws(DicomPrepError) {
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}") else { throw .usage("name template '\(template)': '{' without '}'") }
            let field = String(rest[rest.index(after: open)..<close])
            if Self.phiFields.contains(field) {
                if !keepPHI { throw .usage("name template field {\(field)} identifies the patient or study; it needs --keep-phi") }
            } else if !Self.plainFields.contains(field) {
                throw .usage("name template field {\(field)} is unknown (known: \((Self.plainFields.union(Self.phiFields)).sorted().joined(separator: ", ")))")
            }
            rest = rest[rest.index(after: close)...]
        }
        self.template = template
        self.keepPHI = keepPHI
        self.mirrorFolders = mirrorFolders
    }

    /// Keeps [A-Za-z0-9._-], replaces runs of anything else by one "_", and never yields "", "." or "..".
    public static func sanitize(_ s: String, maxLength: Int = 120) -> String {
        let scalars = Array(s.unicodeScalars)
        func alnum(_ u: Unicode.Scalar) -> Bool { (u >= "A" && u <= "Z") || (u >= "a" && u <= "z") || (u >= "0" && u <= "9") }
        var out = ""
        var lastUnderscore = false
        for (i, u) in scalars.enumerated() {
            // A dot survives only between letters or digits ("1.5mm"); "..", "./" and the like become "_".
            let dotOK = u == "." && i > 0 && i + 1 < scalars.count && alnum(scalars[i - 1]) && alnum(scalars[i + 1])
            if alnum(u) || u == "-" || dotOK {
                out.unicodeScalars.append(u)
                lastUnderscore = false
            } else if !lastUnderscore {
                out += "_"
                lastUnderscore = true
            }
        }
        while let f = out.first, f == "_" || f == "-" { out.removeFirst() }
        while let l = out.last, l == "_" { out.removeLast() }
        if out.count > maxLength { out = String(out.prefix(maxLength)) }
        return out.isEmpty ? "series" : out
    }

    /// The file name (without extension) for a series.
    public func baseName(for plan: SeriesPlan) -> String {
        let i = plan.first
        var values: [String: String] = [
            "SeriesNumber": i.seriesNumber.map { String($0 + plan.seriesNumberOffset) } ?? "",
            "SeriesDescription": i.seriesDescription ?? i.protocolName ?? "",
            "ProtocolName": i.protocolName ?? "",
            "Modality": i.modality,
            "SequenceName": i.sequenceName ?? "",
            "EchoNumber": i.echoNumber.map(String.init) ?? "",
            "AcquisitionPlane": plan.geometry.acquisitionPlane,
            "AcquisitionNumber": i.acquisitionNumber.map(String.init) ?? "",
            "Part": plan.part.map(String.init) ?? "",
        ]
        if keepPHI { for (k, v) in i.identity { values[k] = v } }
        var name = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            name += rest[..<open]
            name += values[String(rest[rest.index(after: open)..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        name += rest
        var base = Self.sanitize((keepPHI ? name : PHIScrubber(identity: i.identity).scrub(name)) + plan.suffix)
        if let part = plan.part, !template.contains("{Part}") { base += "_part\(part)" }
        return base
    }

    /// A unique relative path (without extension) for a series; never the same twice for one namer.
    public mutating func relativePath(for plan: SeriesPlan) -> String {
        var dir = ""
        if mirrorFolders && !plan.relativeDir.isEmpty {
            let x = keepPHI ? PHIScrubber.none : PHIScrubber(identity: plan.first.identity)
            dir = plan.relativeDir.split(separator: "/").map { Self.sanitize(x.scrub(String($0))) }.joined(separator: "/") + "/"
        }
        let base = dir + baseName(for: plan)
        var candidate = base
        var n = 2
        while taken.contains(candidate.lowercased()) {
            candidate = base + "_\(n)"
            n += 1
        }
        taken.insert(candidate.lowercased())
        return candidate
    }
}

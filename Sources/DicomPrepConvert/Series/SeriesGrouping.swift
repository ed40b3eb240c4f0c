import DicomPrepCore

/// Step 1 of series assembly: files into series, and exact repeats out.
///
/// A series is one SeriesInstanceUID and SeriesNumber (edited copies of one image that differ only in
/// SeriesNumber are separate series, as the reference converter treats them); files without a UID are
/// grouped by folder and SeriesNumber. Within a series only a repeated SOPInstanceUID is a duplicate: equal
/// pixels at one position can be two real time points of a run.
public enum SeriesGrouping {
    public struct Group: Sendable {
        public var key: String
        public var members: [DicomInstance]
    }

    public static func group(_ instances: [DicomInstance], relativeDir: (DicomInstance) -> String) -> (groups: [Group], duplicates: [DuplicateEntry]) {
        var groups: [String: [DicomInstance]] = [:]
        var order: [String] = []
        let sorted = instances.sorted { NaturalOrder.less($0.path, $1.path) }
        // Files of a UID that lack SeriesNumber belong with its numbered files when only one number is used.
        var numbers: [String: Set<Int>] = [:]
        for inst in sorted where !inst.seriesInstanceUID.isEmpty {
            if let n = inst.seriesNumber { numbers[inst.seriesInstanceUID, default: []].insert(n) }
        }
        for inst in sorted {
            var n = inst.seriesNumber
            if n == nil, let known = numbers[inst.seriesInstanceUID], known.count == 1 { n = known.first }
            let number = n.map(String.init) ?? ""
            let key = inst.seriesInstanceUID.isEmpty ? "nouid|\(relativeDir(inst))|\(number)" : "uid|\(inst.seriesInstanceUID)|\(number)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(inst)
        }
        var duplicates: [DuplicateEntry] = []
        var out: [Group] = []
        for key in order {
            var seen: [String: String] = [:]
            let members = groups[key]!.filter { inst in
                guard !inst.sopInstanceUID.isEmpty else { return true }
                if let other = seen[inst.sopInstanceUID] {
                    duplicates.append(DuplicateEntry(path: inst.path, frame: nil, duplicateOf: other, reason: "same SOPInstanceUID"))
                    return false
                }
                seen[inst.sopInstanceUID] = inst.path
                return true
            }
            out.append(Group(key: key, members: members))
        }
        return (out, duplicates)
    }
}

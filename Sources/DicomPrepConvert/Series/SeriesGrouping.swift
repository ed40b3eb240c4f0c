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
        // Grouped as indices: an instance is a large struct (~1.6 KB), and sorted and grouped copies of all
        // of them were three more copies of a 10,800-file run's 17 MB, kept by the allocator afterwards.
        let sorted = instances.indices.sorted { NaturalOrder.less(instances[$0].path, instances[$1].path) }
        // Files of a UID that lack SeriesNumber belong with its numbered files when only one number is used.
        var numbers: [String: Set<Int>] = [:]
        for i in sorted where !instances[i].seriesInstanceUID.isEmpty {
            if let n = instances[i].seriesNumber { numbers[instances[i].seriesInstanceUID, default: []].insert(n) }
        }
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for i in sorted {
            let inst = instances[i]
            var n = inst.seriesNumber
            if n == nil, let known = numbers[inst.seriesInstanceUID], known.count == 1 { n = known.first }
            let number = n.map(String.init) ?? ""
            let key = inst.seriesInstanceUID.isEmpty ? "nouid|\(relativeDir(inst))|\(number)" : "uid|\(inst.seriesInstanceUID)|\(number)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        var duplicates: [DuplicateEntry] = []
        var out: [Group] = []
        for key in order {
            var seen: [String: String] = [:]
            let indices = groups[key]!
            var members: [DicomInstance] = []
            members.reserveCapacity(indices.count)
            for i in indices {
                let inst = instances[i]
                if !inst.sopInstanceUID.isEmpty {
                    if let other = seen[inst.sopInstanceUID] {
                        duplicates.append(DuplicateEntry(path: inst.path, frame: nil, duplicateOf: other, reason: "same SOPInstanceUID"))
                        continue
                    }
                    seen[inst.sopInstanceUID] = inst.path
                }
                members.append(inst)
            }
            out.append(Group(key: key, members: members))
        }
        return (out, duplicates)
    }
}

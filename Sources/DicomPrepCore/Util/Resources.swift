import Foundation

/// Finds the repository's data folders (schemas/, manifests/) at run time: an environment variable,
/// then beside or above the executable (a build inside the repository), then ../share/dicomprep, then
/// the current folder.
public enum Resources {
    /// The executable's folder and its parents (nearest first).
    public static func executableAncestors(_ levels: Int = 5) -> [URL] {
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        var out: [URL] = []
        for _ in 0..<levels {
            out.append(dir)
            dir.deleteLastPathComponent()
        }
        return out
    }

    public static func locate(_ relative: String, marker: String, environment: String) -> String? {
        let fm = FileManager.default
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment[environment] { candidates.append(env) }
        for dir in executableAncestors() {
            candidates.append(dir.appendingPathComponent(relative).path)
            candidates.append(dir.appendingPathComponent("share/dicomprep/" + relative).path)
        }
        candidates.append(fm.currentDirectoryPath + "/" + relative)
        return candidates.first { fm.fileExists(atPath: $0 + "/" + marker) }
    }
}

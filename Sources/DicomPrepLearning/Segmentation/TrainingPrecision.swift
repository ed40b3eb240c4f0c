import DicomPrepCore
import DicomPrepDataset
import Foundation

/// Which compute precision a segmentation run trains in.
extension SegmentationTrainer {
    /// The precision a run uses: "auto" becomes bfloat16 on a CPU whose flags (Linux /proc/cpuinfo) show
    /// native bfloat16 arithmetic (avx512_bf16 or amx_bf16), where oneDNN's bfloat16 convolutions are
    /// fast; elsewhere (emulated bfloat16 is slower than float32) and on other devices, float32.
    static func resolvePrecision(_ requested: String, device: String, cpuFlags: Set<String>? = nil) throws(DicomPrepError) -> String {
        switch requested {
        case "float32", "bfloat16": return requested
        case "auto":
            guard device == "cpu" else { return "float32" }
            let flags = cpuFlags ?? Self.cpuFlags()
            return flags.contains("avx512_bf16") || flags.contains("amx_bf16") ? "bfloat16" : "float32"
        default: throw .usage("precision is float32, bfloat16 or auto, not '\(requested)'")
        }
    }

    static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
}

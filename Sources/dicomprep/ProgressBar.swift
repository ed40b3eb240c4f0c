import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A progress bar with ETA on a terminal; plain periodic lines otherwise (logs, CI).
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let label: String
    private let start = Date()
    private let tty = isatty(STDERR_FILENO) != 0
    private var lastPlain = Date.distantPast
    private let lock = NSLock()

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    static func clock(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "--:--" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }

    func update(done: Int, note: String) {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = Date().timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : .infinity
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        if tty {
            let width = 30
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = "\r\(label) [\(bar)] \(done)/\(total) \(String(format: "%.2f", rate))/s elapsed \(Self.clock(elapsed)) ETA \(Self.clock(eta)) \(note)"
            FileHandle.standardError.write(Data((line.padding(toLength: max(line.count, 100), withPad: " ", startingAt: 0)).utf8))
            if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
        } else if done == total || Date().timeIntervalSince(lastPlain) >= 10 {
            lastPlain = Date()
            Terminal.error("\(label): \(done)/\(total) done, elapsed \(Self.clock(elapsed)), ETA \(Self.clock(eta))")
        }
    }
}

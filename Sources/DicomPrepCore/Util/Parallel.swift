import Dispatch
import Foundation

/// Runs work items on a fixed number of threads.
public enum Parallel {
    /// Calls `body(i)` for i in 0..<count on at most `threads` threads, each index once.
    public static func forEach(count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(threads, count))
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = UnsafeSendableBox(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let i = next.withLock { v -> Int in let i = v; v += 1; return i }
                if i >= count { break }
                body(i)
            }
        }
    }

    /// The number of cores.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }
}

/// A value behind a lock, shareable between threads.
public final class UnsafeSendableBox<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    public init(_ value: T) { self.value = value }
    @discardableResult
    public func withLock<R>(_ body: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
    public func take() -> T { withLock { $0 } }
}

/// A raw pointer that the caller promises is valid and not written concurrently.
struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeRawPointer?
    init(_ p: UnsafeRawPointer?) { pointer = p }
}

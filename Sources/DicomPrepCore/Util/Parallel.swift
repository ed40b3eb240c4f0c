import Dispatch
import Foundation

/// Runs work items on a fixed number of threads.
public enum Parallel {
    /// Calls `body(i)` for i in 0..<count on at most `threads` threads, each index once.
    ///
    /// The calling thread takes items itself, and `threads - 1` helpers on the global queue join in when a
    /// thread of the pool is free. So a loop started inside another one (the gzip members of one output
    /// while other outputs are written) gets the cores the outer loop has left idle, where
    /// `concurrentPerform` runs a nested loop on one thread: with three outputs on two cores, the last one
    /// was compressed on one core while the other waited. Nothing waits for a helper that has not started
    /// (it finds no item left and returns), so nested loops cannot starve each other.
    public static func forEach(count: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let workers = max(1, min(threads, count))
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let loop = SharedLoop(count: count, body: escapable)
            for _ in 1..<workers { DispatchQueue.global().async { loop.run() } }
            loop.run()
            loop.waitForAll()
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

/// The items of one `Parallel.forEach`: taken one by one by whichever thread asks next. The body is
/// dropped once every item is done, before `forEach` returns; a helper that starts later finds no item.
private final class SharedLoop: @unchecked Sendable {
    private let count: Int
    private var next = 0, done = 0
    private var body: (@Sendable (Int) -> Void)?
    private let condition = NSCondition()

    init(count: Int, body: @escaping @Sendable (Int) -> Void) {
        self.count = count
        self.body = body
    }

    func run() {
        while let i = take() {
            perform(i)
            condition.lock()
            done += 1
            if done == count { condition.broadcast() }
            condition.unlock()
        }
    }

    private func take() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }

    /// Calls the body in a frame of its own, so this thread's reference to it is gone before the item
    /// counts as done (`withoutActuallyEscaping` checks that nothing holds it when `forEach` returns).
    @inline(never) private func perform(_ i: Int) {
        condition.lock()
        let b = body!
        condition.unlock()
        b(i)
    }

    func waitForAll() {
        condition.lock()
        while done < count { condition.wait() }
        body = nil
        condition.unlock()
    }
}

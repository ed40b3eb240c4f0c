import Foundation
import XCTest
@testable import DicomPrep

/// Paths and helpers shared by the tests.
enum TestSupport {
    /// The repository root (two levels above this file's folder).
    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `../shared/fixtures/dicom` beside the repository, or nil (tests then skip).
    static var fixtures: URL? {
        let u = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/dicom")
        return FileManager.default.fileExists(atPath: u.appendingPathComponent("expected.json").path) ? u : nil
    }

    static func requireFixtures() throws -> URL {
        guard let f = fixtures else { throw XCTSkip("../shared/fixtures/dicom is not present; skipping real-fixture tests") }
        return f
    }

    /// A fresh temporary folder.
    static func tempDir(_ name: String = #function) -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("dicomprep-tests-\(safe)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    /// Whether an executable is on PATH.
    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Runs a program; returns (status, stdout+stderr).
    @discardableResult
    static func run(_ exe: String, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

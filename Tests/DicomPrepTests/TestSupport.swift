import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// Paths and helpers shared by the tests.
enum TestSupport {
    /// The libtorch engine, or a skip when it is not built.
    static func torchEngine() throws -> TorchEngine {
        do { return try TorchEngine.load() } catch { throw XCTSkip("torch engine not built (make torch): \(error)") }
    }

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

    /// The Python that has torch (and MONAI, when `make monai-env` installed it).
    static var python: String {
        let venv = repoRoot.appendingPathComponent(".venv-monai/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
    }

    /// The built dicomprep executable, or a skip when it is not built.
    static func executable() throws -> String {
        for config in ["debug", "release"] {
            let p = repoRoot.appendingPathComponent(".build/\(config)/dicomprep").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        throw XCTSkip("the dicomprep executable is not built")
    }

    /// Fails for every file under `dir` whose name or bytes (gzip decompressed) contain one of `secrets`.
    static func assertNoSecret(in dir: URL, _ secrets: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        for rel in FileManager.default.enumerator(atPath: dir.path)!.compactMap({ $0 as? String }) {
            for s in secrets where rel.localizedCaseInsensitiveContains(s) { XCTFail("file name \(rel) leaks \(s)", file: file, line: line) }
            let path = dir.appendingPathComponent(rel).path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            if rel.hasSuffix(".gz") { bytes = Data(try Gzip.decompressFile(path, limit: 256 << 20)) }
            let text = String(decoding: bytes, as: UTF8.self)
            for s in secrets where text.localizedCaseInsensitiveContains(s) { XCTFail("\(rel) leaks \(s)", file: file, line: line) }
        }
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

extension TestSupport {
    /// Converts `inputs` into a fresh folder with `configure` applied to the options.
    static func convert(_ inputs: [String], _ configure: (inout ConvertOptions) -> Void = { _ in }) throws -> (ConversionReport, URL) {
        let out = tempDir("out")
        var o = ConvertOptions(inputs: inputs, outputDir: out.path)
        o.jobs = 2
        configure(&o)
        let r = try Converter(options: o).run()
        return (r, out)
    }

    /// The only output of a conversion, read back through libnifti.
    static func onlyVolume(_ r: ConversionReport, file: StaticString = #filePath, line: UInt = #line) throws -> NiftiImage {
        XCTAssertEqual(r.outputs.count, 1, "expected one output, got \(r.outputs.map(\.nifti)) skipped \(r.skipped)", file: file, line: line)
        return try NiftiIO.read(try XCTUnwrap(r.outputs.first, file: file, line: line).nifti)
    }

    static func assertAffine(_ a: Matrix4, _ b: Matrix4, accuracy: Double = 1e-4, _ msg: String = "", file: StaticString = #filePath, line: UInt = #line) {
        for i in 0..<12 where abs(a.m[i] - b.m[i]) > accuracy {
            XCTFail("affines differ at \(i): \(a.nested) vs \(b.nested) \(msg)", file: file, line: line)
            return
        }
    }

    /// Checks that voxel (i, j, k) holds the synthetic value of slice `sliceOf(k)` times its slope.
    static func assertValues(_ img: NiftiImage, _ s: SyntheticSeries, slices: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line) {
        let nx = img.dims[0], ny = img.dims[1], nz = img.dims[2]
        let ks = slices ?? Array(0..<nz)
        let v = img.scaledValues
        for (z, k) in ks.enumerated() {
            for j in 0..<ny {
                for i in 0..<nx {
                    let stored = Double(s.value(i, j, k))
                    let expect = stored * s.slope(k) + (s.rescaleIntercept ?? 0)
                    let got = v[(z * ny + j) * nx + i]
                    if abs(got - expect) > 1e-3 * max(1, abs(expect)) {
                        XCTFail("voxel (\(i),\(j),\(z)) = \(got), expected \(expect)", file: file, line: line)
                        return
                    }
                }
            }
        }
    }
}

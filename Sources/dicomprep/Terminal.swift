import Foundation

/// Printing for the command line: results on stdout, problems on stderr.
enum Terminal {
    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }
    static func error(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }
}

/// Runs library work; a `DicomPrepError` is printed on stderr and ends the command with exit status 2.
func orExit<T>(_ body: () throws(DicomPrepError) -> T) throws -> T {
    switch Result(catching: body) {
    case let .success(v): return v
    case let .failure(e):
        Terminal.error("error: \(e)")
        throw ExitCode(2)
    }
}
import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth

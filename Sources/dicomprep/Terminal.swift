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

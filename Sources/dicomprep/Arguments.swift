import ArgumentParser
import DicomPrepCore
import DicomPrepConvert
import DicomPrepDataset
import DicomPrepLearning
import DicomPrepSynth

// Option values parsed by argument-parser itself: a bad value is refused before any work starts, with
// the list of valid ones in the message and in --help.

extension NiftiDataType: ExpressibleByArgument {}
extension Normalize.Mode: ExpressibleByArgument {}
extension NiftiWriter.Storage: ExpressibleByArgument {}
extension SliceGroups.Remainder: ExpressibleByArgument {}
extension ReorientToPlane.Plane: ExpressibleByArgument {}
extension TensorCache.Mode: ExpressibleByArgument {}
extension DicomWriter.Syntax: ExpressibleByArgument {}
extension ScannerExport.Kind: ExpressibleByArgument {}

/// `--dtype`: auto, or a NIfTI voxel type.
enum DataTypeArgument: String, CaseIterable, ExpressibleByArgument {
    case auto, uint8, int16, uint16, int32, float32, float64
    var type: NiftiDataType? { NiftiDataType(rawValue: rawValue) }
}

/// `predict --window`: how inference covers an image.
enum WindowArgument: String, CaseIterable, ExpressibleByArgument {
    case patch, whole
    var window: InferenceWindow { self == .whole ? .wholeDefault : .patch }
}

/// `--reorient`: three distinct axis letters of R/L, A/P, S/I.
struct OrientationArgument: ExpressibleByArgument {
    let transform: Reorient
    init?(argument: String) {
        guard let r = try? Reorient(argument) else { return nil }
        transform = r
    }
    var defaultValueDescription: String { transform.code }
}

/// `--arch`: the classifier architectures of the torch engine.
enum ArchitectureArgument: String, CaseIterable, ExpressibleByArgument {
    case resnet10, resnet18, resnetSmall = "resnet-small"
}

/// `--device`.
enum DeviceArgument: String, CaseIterable, ExpressibleByArgument {
    case auto, cpu, cuda
}

/// How a list of three positive integers is written on the command line.
protocol IntTripleFormat { static var separator: Character { get } }
enum TimesSeparated: IntTripleFormat { static let separator: Character = "x" }
enum CommaSeparated: IntTripleFormat { static let separator: Character = "," }

/// Three positive integers, e.g. `64x256x256` or `1,2,2`.
struct IntTriple<Format: IntTripleFormat>: ExpressibleByArgument {
    let values: [Int]
    let text: String
    var defaultValueDescription: String { text }
    init?(argument: String) {
        text = argument
        let v = argument.split(separator: Format.separator).compactMap { Int($0) }
        guard v.count == 3, v.allSatisfy({ $0 > 0 }) else { return nil }
        values = v
    }
}

/// `SLICESxROWSxCOLUMNS` (or ROWSxCOLUMNSxSLICES where a command says so).
typealias SizeArgument = IntTriple<TimesSeparated>
/// `K,L,M`: a stride per axis.
typealias TripleArgument = IntTriple<CommaSeparated>

/// `K/N`: shard K of N.
struct ShardArgument: ExpressibleByArgument {
    let index: Int, count: Int
    let text: String
    var defaultValueDescription: String { text }
    init?(argument: String) {
        text = argument
        let p = argument.split(separator: "/").compactMap { Int($0) }
        guard p.count == 2, p[1] >= 1, p[0] >= 0, p[0] < p[1] else { return nil }
        (index, count) = (p[0], p[1])
    }
}

/// `--augment flip,rotate` or `none`.
struct AugmentationArgument: ExpressibleByArgument {
    let value: Augmentation
    let text: String
    var defaultValueDescription: String { text }
    init?(argument: String) {
        text = argument
        guard let a = try? Augmentation(parsing: argument) else { return nil }
        value = a
    }
}

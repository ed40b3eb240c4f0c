import Foundation

/// A binary mask made from an image by a chain of small steps (thresholds, connected components, hole
/// filling, morphology with a ball in millimetres), e.g. the classical recipes
/// `lungs` = below:-320, remove-border, largest:2, fill-slices, close:2 and
/// `brain` = otsu, erode:4, largest:1, dilate:4, fill. The mask stays on the image's grid.
public struct MaskRecipe: Sendable, Equatable, CustomStringConvertible {
    public enum Step: Sendable, Equatable {
        case above(Double), below(Double), between(Double, Double)
        /// Otsu's threshold on the histogram of the image: voxels above it.
        case otsu
        case largest(Int)
        case removeBorder
        case fill
        /// Holes filled in each axial (third-axis) slice.
        case fillSlices
        case dilate(Double), erode(Double), close(Double), open(Double)
    }
    public var steps: [Step]

    public init(_ steps: [Step]) { self.steps = steps }

    public static let presets: [String: String] = [
        "lungs": "below:-320,remove-border,largest:2,fill-slices,close:2",
        "bone": "above:300,largest:1,fill-slices",
        "body": "above:-500,largest:1,fill-slices",
        "brain": "otsu,erode:4,largest:1,dilate:4,fill",
    ]

    /// Parses "step,step:arg,...", or a preset name.
    public static func parse(_ text: String) throws(DicomPrepError) -> MaskRecipe {
        let source = presets[text] ?? text
        var steps: [Step] = []
        for raw in source.split(separator: ",") {
            let parts = raw.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            let name = parts[0], arg = parts.count > 1 ? parts[1] : nil
            func number() throws(DicomPrepError) -> Double {
                guard let a = arg, let v = Double(a) else { throw .usage("mask step '\(raw)' needs a number, e.g. \(name):2") }
                return v
            }
            switch name {
            case "above": steps.append(.above(try number()))
            case "below": steps.append(.below(try number()))
            case "between":
                let v = (arg ?? "").split(separator: "..").compactMap { Double($0) }
                guard v.count == 2, v[0] < v[1] else { throw .usage("mask step '\(raw)' is between:LOW..HIGH") }
                steps.append(.between(v[0], v[1]))
            case "otsu": steps.append(.otsu)
            case "largest": steps.append(.largest(arg.map { Int($0) ?? 0 } ?? 1))
            case "remove-border": steps.append(.removeBorder)
            case "fill": steps.append(.fill)
            case "fill-slices": steps.append(.fillSlices)
            case "dilate": steps.append(.dilate(try number()))
            case "erode": steps.append(.erode(try number()))
            case "close": steps.append(.close(try number()))
            case "open": steps.append(.open(try number()))
            default:
                throw .usage("unknown mask step '\(name)' (above:V, below:V, between:A..B, otsu, largest:N, remove-border, fill, fill-slices, dilate:MM, erode:MM, close:MM, open:MM; presets \(presets.keys.sorted().joined(separator: ", ")))")
            }
            if case let .largest(n) = steps.last!, n < 1 { throw .usage("largest:N needs N ≥ 1") }
        }
        guard !steps.isEmpty else { throw .usage("an empty mask recipe") }
        guard case .some(let first) = steps.first, first.isThreshold else {
            throw .usage("a mask recipe starts with a threshold (above, below, between or otsu)")
        }
        return MaskRecipe(steps)
    }

    public var description: String {
        steps.map { s -> String in
            switch s {
            case let .above(v): return "above:\(v)"
            case let .below(v): return "below:\(v)"
            case let .between(a, b): return "between:\(a)..\(b)"
            case .otsu: return "otsu"
            case let .largest(n): return "largest:\(n)"
            case .removeBorder: return "remove-border"
            case .fill: return "fill"
            case .fillSlices: return "fill-slices"
            case let .dilate(r): return "dilate:\(r)"
            case let .erode(r): return "erode:\(r)"
            case let .close(r): return "close:\(r)"
            case let .open(r): return "open:\(r)"
            }
        }.joined(separator: ",")
    }

    /// The mask (first time point) as uint8 0/1 on the volume's grid.
    public func apply(_ v: Volume) -> Volume {
        let n = v.voxelsPerVolume
        let f = Array(v.floatValues.prefix(n))
        let dims = Array(v.dims.prefix(3)), sp = v.spacing
        var m = [Bool](repeating: false, count: n)
        for s in steps {
            switch s {
            case let .above(t): m = f.map { Double($0) > t }
            case let .below(t): m = f.map { Double($0) < t }
            case let .between(a, b): m = f.map { Double($0) >= a && Double($0) <= b }
            case .otsu:
                let t = Self.otsu(f)
                m = f.map { Double($0) > t }
            case let .largest(k): m = LabelOperations.keepLargest(m, dims: dims, count: k)
            case .removeBorder: m = LabelOperations.removeBorderComponents(m, dims: dims)
            case .fill: m = LabelOperations.fillHoles(m, dims: dims)
            case .fillSlices: m = LabelOperations.fillHolesPerSlice(m, dims: dims, axis: 2)
            case let .dilate(r): m = LabelOperations.dilate(m, dims: dims, spacing: sp, radius: r)
            case let .erode(r): m = LabelOperations.erode(m, dims: dims, spacing: sp, radius: r)
            case let .close(r): m = LabelOperations.close(m, dims: dims, spacing: sp, radius: r)
            case let .open(r): m = LabelOperations.open(m, dims: dims, spacing: sp, radius: r)
            }
        }
        return Volume(dims: dims + [1], voxels: .uint8(m.map { $0 ? 1 : 0 }), affine: v.affine)
    }

    /// Otsu's threshold (maximum between-class variance) over a 256-bin histogram.
    public static func otsu(_ f: [Float]) -> Double {
        var lo = Float.infinity, hi = -Float.infinity
        for x in f where x.isFinite { lo = min(lo, x); hi = max(hi, x) }
        guard lo < hi else { return Double(lo) }
        let bins = 256
        var h = [Double](repeating: 0, count: bins)
        let scale = Float(bins) / (hi - lo)
        for x in f where x.isFinite { h[min(bins - 1, Int((x - lo) * scale))] += 1 }
        let total = h.reduce(0, +)
        var sumAll = 0.0
        for i in 0..<bins { sumAll += Double(i) * h[i] }
        var wB = 0.0, sumB = 0.0, best = -1.0, arg = 0
        for i in 0..<bins {
            wB += h[i]
            if wB == 0 { continue }
            let wF = total - wB
            if wF == 0 { break }
            sumB += Double(i) * h[i]
            let mB = sumB / wB, mF = (sumAll - sumB) / wF
            let between = wB * wF * (mB - mF) * (mB - mF)
            if between > best { best = between; arg = i }
        }
        return Double(lo) + (Double(arg) + 1) / Double(scale)
    }
}

extension MaskRecipe.Step {
    var isThreshold: Bool {
        switch self {
        case .above, .below, .between, .otsu: return true
        default: return false
        }
    }
}

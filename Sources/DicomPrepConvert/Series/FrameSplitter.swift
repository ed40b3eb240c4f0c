import DicomPrepCore

/// Step 2 of series assembly: the frames of one series into outputs. Frames share an output when they agree
/// on size, orientation and pixel spacing (the "shape"), and on echo and image component (magnitude, phase,
/// real, imaginary, field map). Works frame by frame, so one enhanced file can feed several outputs.
struct FrameSplitter {
    var orientationTolerance: Double
    var mergeEchoes: Bool

    struct Part {
        var frames: [SliceRef]
        /// Which shape (size, orientation, spacing) the frames have; parts of one shape differ only in kind.
        var shape: Int
        var shapeDiffers: Bool
        var component: ImageComponent
        /// `_e2`, `_ph`, `_e2_ph`, ... ("" for the first-echo magnitude image of a single-echo series).
        var suffix: String
        var reason: String
    }

    struct Shape {
        var rows: Int, columns: Int
        var orientation: [Double]?
        var spacing: [Double]?
    }

    enum Echo: Hashable, Comparable {
        case none, number(Int), time(Double)
    }

    func shapeDifference(_ a: Shape, _ b: Shape) -> String? {
        if a.rows != b.rows || a.columns != b.columns { return "Rows/Columns differ" }
        switch (a.orientation, b.orientation) {
        case let (x?, y?):
            if zip(x, y).contains(where: { abs($0 - $1) > orientationTolerance }) { return "ImageOrientationPatient differs" }
        case (nil, nil): break
        default: return "ImageOrientationPatient is missing in some files"
        }
        if let x = a.spacing, let y = b.spacing, zip(x, y).contains(where: { abs($0 - $1) > 1e-3 }) { return "PixelSpacing differs" }
        return nil
    }

    static func echo(_ inst: DicomInstance, _ f: FrameInfo) -> Echo {
        if let n = f.echoNumber ?? inst.echoNumber { return .number(n) }
        if let t = f.echoTime ?? inst.echoTime { return .time(t) }
        return .none
    }

    func split(_ members: [DicomInstance]) -> [Part] {
        var shapes: [Shape] = []
        var reasons: [String] = []
        struct Key: Hashable { var shape: Int; var component: ImageComponent; var echo: Echo }
        var byKey: [Key: [SliceRef]] = [:]
        var keyOrder: [Key] = []
        for (i, inst) in members.enumerated() {
            for (k, f) in inst.frames.enumerated() {
                let o = f.rowDirection.flatMap { r in f.columnDirection.map { c in r.array + c.array } }
                let s = Shape(rows: inst.rows, columns: inst.columns, orientation: o, spacing: f.pixelSpacing)
                var id: Int?
                for (j, known) in shapes.enumerated() {
                    if let why = shapeDifference(known, s) {
                        if !reasons.contains(why) { reasons.append(why) }
                    } else {
                        id = j
                        break
                    }
                }
                if id == nil {
                    shapes.append(s)
                    id = shapes.count - 1
                }
                let key = Key(shape: id!, component: f.component, echo: mergeEchoes ? .none : Self.echo(inst, f))
                if byKey[key] == nil { keyOrder.append(key) }
                byKey[key, default: []].append(SliceRef(instance: i, frame: k))
            }
        }
        let components = Set(keyOrder.map(\.component))
        if components.count > 1 { reasons.append("image types differ (\(components.sorted().map(\.rawValue).joined(separator: ", ")))") }
        struct Kind: Hashable { var shape: Int; var component: ImageComponent }
        let echoesByComponent = Dictionary(grouping: keyOrder, by: { Kind(shape: $0.shape, component: $0.component) }).mapValues { Set($0.map(\.echo)) }
        if echoesByComponent.values.contains(where: { $0.count > 1 }) { reasons.append("echoes differ") }
        let largestShape = Dictionary(grouping: keyOrder, by: \.shape).max { a, b in
            a.value.reduce(0) { $0 + byKey[$1]!.count } < b.value.reduce(0) { $0 + byKey[$1]!.count }
        }?.key ?? 0
        let reason = reasons.joined(separator: ", ")
        let ordered = keyOrder.sorted { a, b in
            if a.shape != b.shape { return a.shape < b.shape }
            if a.echo != b.echo { return a.echo < b.echo }
            return a.component < b.component
        }
        return ordered.map { key in
            let echoes = echoesByComponent[Kind(shape: key.shape, component: key.component)]!.sorted()
            var suffix = ""
            if echoes.count > 1 {
                if case let .number(n) = key.echo { suffix = "_e\(n)" } else { suffix = "_e\(echoes.firstIndex(of: key.echo)! + 1)" }
            }
            suffix += key.component.suffix
            return Part(frames: byKey[key]!, shape: key.shape, shapeDiffers: key.shape != largestShape, component: key.component,
                        suffix: suffix, reason: reason)
        }
    }
}

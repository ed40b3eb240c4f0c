import DicomPrepCore
import DicomPrepDataset
import Foundation

/// One image (and its label map) of a segmentation dataset; paths are absolute.
public struct SegmentationCase: Sendable, Equatable {
    public var id: String
    public var image: String
    public var label: String?
    /// A tissue map of the image (optional, `"tissues"`): integer tissue labels on any grid, or a 4D map of
    /// tissue fractions (one volume per tissue), for random appearances while training.
    public var tissues: String?

    public init(id: String, image: String, label: String?, tissues: String? = nil) {
        self.id = id
        self.image = image
        self.label = label
        self.tissues = tissues
    }
}

/// A segmentation datalist in the Medical Segmentation Decathlon layout (as MONAI's
/// `load_decathlon_datalist` reads it): `"training": [{"image", "label"}]`, `"labels"`, optional
/// `"validation"` and `"test"` (objects or plain paths); paths relative to the JSON's folder. Images and
/// labels may be NIfTI files or DICOM folders. A training item may also name a `"tissues"` map
/// (SynthStrip-style synthesis: `train --resynthesize`).
public struct SegmentationDatalist: Sendable {
    public var name: String?
    /// Label value -> name ("0": "background").
    public var labels: [String: String]
    public var training: [SegmentationCase]
    public var validation: [SegmentationCase]
    public var test: [SegmentationCase]

    public static func load(_ path: String) throws(DicomPrepError) -> SegmentationDatalist {
        let doc = try JSONValue.parse(file: path)
        guard case .object = doc else { throw .io(path: path, reason: "not a JSON object") }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ p: String) -> String {
            if p.hasPrefix("/") { return p }
            var q = p
            while q.hasPrefix("./") { q.removeFirst(2) }
            return dir + "/" + q
        }
        func cases(_ key: String) throws(DicomPrepError) -> [SegmentationCase] {
            guard let v = doc[key] else { return [] }
            guard case let .array(items) = v else { throw .io(path: path, reason: "\"\(key)\" is not a list") }
            var out: [SegmentationCase] = []
            for (k, it) in items.enumerated() {
                if let s = it.stringValue {
                    out.append(SegmentationCase(id: ImageLoader.caseName(s), image: resolve(s), label: nil))
                } else if let img = it["image"]?.stringValue {
                    let id = it["case"]?.stringValue ?? it["id"]?.stringValue ?? ImageLoader.caseName(img)
                    out.append(SegmentationCase(id: id, image: resolve(img), label: it["label"]?.stringValue.map(resolve),
                                                tissues: it["tissues"]?.stringValue.map(resolve)))
                } else {
                    throw .io(path: path, reason: "\"\(key)\" item \(k + 1) has no \"image\"")
                }
            }
            return out
        }
        var labels: [String: String] = [:]
        if case let .object(pairs, _)? = doc["labels"] {
            for (k, v) in pairs { labels[k] = v.stringValue ?? "\(v)" }
        }
        return SegmentationDatalist(name: doc["name"]?.stringValue, labels: labels, training: try cases("training"),
                                    validation: try cases("validation"), test: try cases("test"))
    }

    /// The number of classes (background included): from "labels", else 2.
    public var classes: Int {
        let values = labels.keys.compactMap(Int.init)
        return max(2, (values.max() ?? 1) + 1)
    }
}

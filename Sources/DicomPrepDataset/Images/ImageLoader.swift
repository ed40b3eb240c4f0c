import DicomPrepConvert
import DicomPrepCore
import Foundation

/// Loads an image for segmentation: a NIfTI file, or a folder of DICOM files (its largest series, built
/// exactly as `convert` writes it, so a mask on this grid overlays the converted image). Files in the
/// folder that are not DICOM are listed in the warnings, not fatal.
public enum ImageLoader {
    public struct Loaded: Sendable {
        public var volume: Volume
        /// "nifti" or "dicom".
        public var kind: String
        public var warnings: [String]
    }

    public static func isNifti(_ path: String) -> Bool {
        let l = path.lowercased()
        return l.hasSuffix(".nii") || l.hasSuffix(".nii.gz")
    }

    /// The name of an input without folders and NIfTI extensions.
    public static func caseName(_ path: String) -> String {
        var n = URL(fileURLWithPath: path).lastPathComponent
        for ext in [".nii.gz", ".nii", ".NII.GZ", ".NII"] where n.hasSuffix(ext) { n = String(n.dropLast(ext.count)); break }
        return n
    }

    public static func load(_ path: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> Loaded {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw .io(path: path, reason: "does not exist") }
        if !isDir.boolValue && isNifti(path) {
            return Loaded(volume: try Volume.readNifti(path), kind: "nifti", warnings: [])
        }
        if isDir.boolValue {
            // A folder holding NIfTI files (e.g. one `convert` output) rather than DICOM: its only one.
            let niftis = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter(isNifti).sorted()
            if niftis.count == 1 { return Loaded(volume: try Volume.readNifti(path + "/" + niftis[0]), kind: "nifti", warnings: []) }
            if niftis.count > 1 {
                throw .usage("\(path) holds \(niftis.count) NIfTI files (\(niftis.prefix(4).joined(separator: ", "))\(niftis.count > 4 ? ", ..." : "")): name one")
            }
        }
        let (main, warnings) = try ModelInputPreparer.largestSeries(folder: path, name: path, threads: threads)
        return Loaded(volume: try VolumeBuilder.build(main, threads: threads), kind: "dicom", warnings: warnings)
    }
}

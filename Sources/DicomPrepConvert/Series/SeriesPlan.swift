import DicomPrepCore

/// One frame of one parsed file: the unit that becomes a slice.
public struct SliceRef: Sendable, Hashable, Codable {
    public var instance: Int
    public var frame: Int
}

/// A warning attached to a series, shown in the sidecar and the report.
public struct SeriesWarning: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case missingSlices, nonUniformSpacing, gantryTilt, duplicateSlices, split, positionsMissing, repeatedPositions, singleSlice, pixelSpacingMissing, diffusion
    }
    public var kind: Kind
    public var message: String
}

/// A file (or one frame of it) left out because it repeats another.
public struct DuplicateEntry: Sendable, Codable, Equatable {
    public var path: String
    public var frame: Int?
    public var duplicateOf: String
    public var reason: String
}

/// Where a series' voxels are in space, derived from the slices' positions.
public struct SeriesGeometry: Sendable, Codable, Equatable {
    public var rows: Int
    public var columns: Int
    public var slices: Int
    public var timepoints: Int
    /// PixelSpacing [between rows, between columns] in mm.
    public var pixelSpacing: [Double]
    /// Distance between slice centres along the normal (median step), mm.
    public var sliceSpacing: Double
    /// ImageOrientationPatient (row direction, column direction), LPS.
    public var orientation: [Double]
    /// Voxel (column, row, slice) -> RAS mm.
    public var affine: Matrix4
    /// What the slice order came from: ImagePositionPatient, InstanceNumber, FileName or FrameOrder.
    public var sortKey: String
    public var acquisitionPlane: String
    public var tiltDegrees: Double
    public var missingSlices: Int
    public var nonUniformSpacing: Bool
    public var minStep: Double
    public var maxStep: Double
}

/// A series ready to be read into a volume: its files, its slices in order, its geometry.
public struct SeriesPlan: Sendable {
    /// A human label without identifiers, e.g. "7 T1w".
    public var label: String
    public var instances: [DicomInstance]
    /// Slices of each time point, in spatial order; `volumes[t][k]`.
    public var volumes: [[SliceRef]]
    public var geometry: SeriesGeometry
    public var warnings: [SeriesWarning]
    /// Index of this part when one DICOM series was split into several volumes (nil when not split).
    public var part: Int?
    /// The folder of the input (relative to the input root) that holds the series.
    public var relativeDir: String
    /// Name suffix for an echo or image component split off the series (`_e2`, `_ph`, `_fieldmaphz`, ...).
    public var suffix: String = ""
    public var component: ImageComponent = .magnitude
    /// Added to SeriesNumber in names and the sidecar (GE epi_pepolar's reversed volumes: + 1000, as dcm2niix).
    public var seriesNumberOffset = 0
    /// The volumes are stored mirrored along the phase-encoding axis and are flipped back when built.
    public var mirroredAlongPhaseEncoding = false

    /// Files that contribute at least one slice.
    public var usedPaths: [String] {
        var seen = Set<Int>()
        for v in volumes { for s in v { seen.insert(s.instance) } }
        return seen.sorted().map { instances[$0].path }
    }

    /// The instance holding the first slice: its attributes describe the series.
    public var first: DicomInstance { instances[volumes[0][0].instance] }
    public func frame(_ r: SliceRef) -> FrameInfo { instances[r.instance].frames[r.frame] }
}

extension SeriesPlan {
    /// Whether any used frame carries a Philips private scale slope (and no modality LUT replaces the rescale).
    public var usesPhilipsScale: Bool {
        volumes.contains { $0.contains { r in instances[r.instance].modalityLUT == nil && (frame(r).philipsScaleSlope ?? 0) != 0 } }
    }

    /// The same plan with each Philips frame's rescale replaced by the precise-value mapping
    /// (stored × RS + RI) / (RS × SS), i.e. slope 1/SS and intercept RI / (RS × SS).
    public func withPhilipsPreciseScaling() -> SeriesPlan {
        var p = self
        for i in p.instances.indices {
            for k in p.instances[i].frames.indices {
                let f = p.instances[i].frames[k]
                guard let ss = f.philipsScaleSlope, ss != 0, f.rescaleSlope != 0 else { continue }
                p.instances[i].frames[k].rescaleIntercept = f.rescaleIntercept / (f.rescaleSlope * ss)
                p.instances[i].frames[k].rescaleSlope = 1 / ss
            }
        }
        return p
    }
}

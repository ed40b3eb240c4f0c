import DicomPrepCore
import Foundation

/// `dicomprep mask`: a mask recipe run on a NIfTI file or a DICOM folder, optionally on an isotropic grid
/// of `spacing` mm (linear resampling; the mask comes back to the input grid by linear interpolation of
/// its 0/1 values and a 0.5 threshold), written as uint8 on the input's own grid and affine.
public struct MaskMaker: Sendable {
    public var recipe: MaskRecipe
    public var spacing: Double?
    public var threads = Parallel.cores

    public init(recipe: MaskRecipe, spacing: Double? = nil) {
        self.recipe = recipe
        self.spacing = spacing
    }

    public struct Result: Sendable {
        public var mask: Volume
        public var voxels: Int
        public var ml: Double
        public var warnings: [String]
    }

    public func make(_ image: Volume) throws(DicomPrepError) -> Volume {
        guard let s = spacing else { return recipe.apply(image) }
        guard s > 0 else { throw .usage("--spacing must be positive") }
        let grid = VoxelGrid.canonical(covering: VoxelGrid(of: image), spacing: [s, s, s])
        let fill = image.floatValues.min() ?? 0
        let iso = try ResampleToGrid(grid, interpolation: .linear, fill: fill).apply(image)
        let m = recipe.apply(iso)
        let back = try ResampleToGrid(VoxelGrid(of: image), interpolation: .linear, fill: 0).apply(m.asFloat)
        return Volume(dims: Array(image.dims.prefix(3)) + [1], voxels: .uint8(back.floatValues.map { $0 >= 0.5 ? 1 : 0 }), affine: image.affine)
    }

    public func run(input: String, output: String) throws(DicomPrepError) -> Result {
        let loaded = try ImageLoader.load(input, threads: threads)
        let mask = try make(loaded.volume)
        try NiftiWriter(gzip: output.lowercased().hasSuffix(".gz"), compressionLevel: 6, threads: threads).write(mask, to: output, description: "dicomprep mask \(recipe)")
        guard case let .uint8(m) = mask.voxels else { throw .io(path: output, reason: "internal: mask not uint8") }
        let n = m.reduce(0) { $0 + Int($1) }
        return Result(mask: mask, voxels: n, ml: Double(n) * mask.spacing.reduce(1, *) / 1000, warnings: loaded.warnings)
    }
}

import DicomPrepCore
import Foundation

/// `dicomprep synth heads`: a skull-stripping dataset. Training heads as NIfTI image + brain mask in a
/// Decathlon dataset.json (random resolution, field of view, pose, and contrast: T1-like, T2-like or
/// random per tissue), test heads as raw DICOM series in axial, sagittal, coronal and oblique planes
/// (T1-like) with their true masks on the converted grid, for `predict` and `evaluate`.
public struct HeadSynth: Sendable {
    public var trainHeads = 24
    public var testHeads = 8
    public var seed: UInt64 = 7
    /// Share of training heads with T1-like, T2-like and random contrast.
    public var contrasts = ["t1", "t1", "t2", "random"]

    public init() {}

    public struct Summary: Sendable {
        public var trainHeads: Int
        public var testHeads: Int
        public var datalist: String
    }

    public static let planes = ["axial", "sagittal", "coronal", "oblique"]

    /// LPS row and column directions of a plane.
    static func directions(_ plane: String, tilt: Double) -> (Vector3, Vector3) {
        switch plane {
        case "sagittal": return (Vector3(0, 1, 0), Vector3(0, 0, -1))
        case "coronal": return (Vector3(1, 0, 0), Vector3(0, 0, -1))
        case "oblique":
            // Axial tilted by `tilt` about left-right and rotated in plane.
            let c = cos(tilt), s = sin(tilt)
            let row = Vector3(cos(0.3), sin(0.3), 0)
            let col0 = Vector3(-sin(0.3), cos(0.3), 0)
            let col = (col0 * c + Vector3(0, 0, -1) * s).normalized
            return (row, (col - row * col.dot(row)).normalized)
        default: return (Vector3(1, 0, 0), Vector3(0, 1, 0))
        }
    }

    public func write(to root: String, threads: Int = Parallel.cores) throws(DicomPrepError) -> Summary {
        let fm = FileManager.default
        for d in ["imagesTr", "labelsTr", "tissuesTr", "test", "testLabels"] {
            do { try fm.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true) } catch { throw .io(path: root + "/" + d, reason: "cannot create folder") }
        }
        var rng = SeededRandom(seed: seed)
        let writer = NiftiWriter(gzip: true, compressionLevel: 1, threads: threads)
        var training: [String] = []
        for h in 0..<trainHeads {
            let id = String(format: "head%03d", h)
            let phantom = HeadPhantom(seed: rng.next())
            let contrast = contrasts[h % contrasts.count]
            var r = SeededRandom(seed: rng.next())
            func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * r.unit() }
            var ren = HeadRenderer(phantom: phantom, intensities: HeadPhantom.intensities(contrast, rng: &r))
            ren.bias = u(0, 0.35)
            ren.noise = u(0.005, 0.04)
            ren.scale = u(300, 3000)
            ren.seed = r.next()
            // Random resolution and field of view: neck and shoulders in or out, top of the head sometimes cut.
            let sp = [u(1.6, 2.4), u(1.6, 2.4), u(1.6, 3.2)]
            // The bottom runs from just below the cerebellum (as in many brain scans and Colin27's crop) to the shoulders.
            let fovLo = [-u(85, 110), -u(110, 130), -u(45, 130)], fovHi = [u(85, 110), u(95, 120), u(85, 110)]
            let dims = (0..<3).map { Int(((fovHi[$0] - fovLo[$0]) / sp[$0]).rounded()) }
            let affine = Matrix4(columns: Vector3(sp[0], 0, 0), Vector3(0, sp[1], 0), Vector3(0, 0, sp[2]), origin: Vector3(fovLo[0], fovLo[1], fovLo[2]))
            let (image, brain, tissues) = ren.render(dims: dims, affine: affine, thickness: sp[2] * u(1, 1.5), fractions: true, threads: threads)
            try writer.write(Volume(dims: dims + [1], voxels: .float32(image), affine: affine), to: "\(root)/imagesTr/\(id).nii.gz")
            try writer.write(Volume(dims: dims + [1], voxels: .uint8(brain), affine: affine), to: "\(root)/labelsTr/\(id).nii.gz")
            try writer.write(Volume(dims: dims + [HeadPhantom.Tissue.allCases.count], voxels: .uint8(tissues!), affine: affine),
                             to: "\(root)/tissuesTr/\(id).nii.gz", description: "tissue fractions x255, one volume per tissue")
            training.append("    {\"image\": \"./imagesTr/\(id).nii.gz\", \"label\": \"./labelsTr/\(id).nii.gz\", \"tissues\": \"./tissuesTr/\(id).nii.gz\"}")
        }
        var test: [String] = []
        for h in 0..<testHeads {
            let plane = Self.planes[h % Self.planes.count]
            let id = String(format: "test%02d_%@", h, plane)
            let phantom = HeadPhantom(seed: rng.next())
            var r = SeededRandom(seed: rng.next())
            func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * r.unit() }
            var ren = HeadRenderer(phantom: phantom, intensities: HeadPhantom.intensities("t1", rng: &r))
            ren.bias = u(0, 0.25)
            ren.noise = u(0.01, 0.03)
            ren.scale = 1200
            ren.seed = r.next()
            var s = SyntheticSeries()
            let (row, col) = Self.directions(plane, tilt: u(0.25, 0.45))
            s.rowDirection = row
            s.columnDirection = col
            s.rows = 120
            s.columns = 120
            s.pixelSpacing = [1.8, 1.8]
            s.sliceSpacing = plane == "axial" || plane == "oblique" ? 2.5 : 2.2
            s.slices = Int((200 / s.sliceSpacing).rounded())
            s.seriesDescription = "T1w \(plane)"
            s.seriesNumber = 2 + h
            s.seed = r.next()
            s.bitsStored = 12
            // Centre the stack on the head (LPS), slightly off-centre.
            let normal = row.cross(col).normalized
            let centre = Vector3(u(-5, 5), u(-5, 5), u(-10, 5) + 5)
            s.origin = centre - row * (Double(s.columns - 1) / 2 * s.pixelSpacing[1]) - col * (Double(s.rows - 1) / 2 * s.pixelSpacing[0])
                - normal * (Double(s.slices - 1) / 2 * s.sliceSpacing)
            let affine = s.expectedAffine
            let dims = [s.columns, s.rows, s.slices]
            let (image, brain, _) = ren.render(dims: dims, affine: affine, thickness: s.sliceSpacing, threads: threads)
            let stored = image.map { Int(min(4095, max(0, $0.rounded()))) }
            let cols = s.columns, rows = s.rows
            s.value = { i, j, k in stored[i + cols * (j + rows * k)] }
            try s.write(to: "\(root)/test/\(id)")
            try writer.write(Volume(dims: dims + [1], voxels: .uint8(brain), affine: affine), to: "\(root)/testLabels/\(id).nii.gz")
            test.append("    {\"image\": \"./test/\(id)\", \"label\": \"./testLabels/\(id).nii.gz\"}")
        }
        let json = """
        {
          "name": "dicomprep synthetic heads (skull stripping)",
          "description": "Procedural heads by dicomprep synth heads (seed \(seed)); labels are exact brain masks (the brain surface and all it encloses: parenchyma, ventricles, sulcal CSF).",
          "labels": {"0": "background", "1": "brain"},
          "tissues": {\(HeadPhantom.Tissue.allCases.map { "\"\($0.rawValue)\": \"\($0)\"" }.joined(separator: ", "))},
          "tensorImageSize": "3D",
          "numTraining": \(trainHeads),
          "numTest": \(testHeads),
          "training": [
        \(training.joined(separator: ",\n"))
          ],
          "test": [
        \(test.joined(separator: ",\n"))
          ]
        }

        """
        try AtomicFile.write(text: json, to: root + "/dataset.json")
        return Summary(trainHeads: trainHeads, testHeads: testHeads, datalist: root + "/dataset.json")
    }
}

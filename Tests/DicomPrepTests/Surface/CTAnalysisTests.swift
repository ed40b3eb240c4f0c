import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// The CT workflow on the synthetic chest: the lung recipe against the phantom's known lungs, and the
/// bone surface on the same series.
final class CTAnalysisTests: XCTestCase {
    func testLungRecipeFindsThePhantomsLungs() throws {
        let dir = TestSupport.tempDir()
        var s = ChestCTSynth()
        s.matrix = 128
        s.pixelSpacing = 3
        s.slices = 44
        s.sliceSpacing = 4
        let r = try s.write(to: dir.path)
        let image = try ImageLoader.load(r.series).volume
        let mask = try MaskMaker(recipe: try MaskRecipe.parse("lungs")).make(image)
        let truth = try Volume.readNifti(r.lungs)
        XCTAssertEqual(Array(mask.dims.prefix(3)), Array(truth.dims.prefix(3)))
        TestSupport.assertAffine(mask.affine, truth.affine)
        let score = SegmentationMetrics.score(truth: truth.floatValues.map { $0 > 0 }, predicted: mask.floatValues.map { $0 > 0 },
                                              dims: Array(truth.dims.prefix(3)), spacing: truth.spacing, label: 1)
        XCTAssertGreaterThanOrEqual(score.dice, 0.98, "lungs: below -320 HU, drop the border-touching air, 2 largest, fill, close")
        // Two lungs, not the trachea, the air around the body or the table.
        XCTAssertEqual(LabelOperations.components(mask.floatValues.map { $0 > 0 }, dims: Array(mask.dims.prefix(3))).sizes.count - 1, 2)
        // The bone surface at 300 HU: closed, in world space inside the image's extent.
        let bone = SurfaceMaker(source: .level(300)).make(image)
        XCTAssertTrue(bone.isClosedAndOriented)
        XCTAssertGreaterThan(bone.volume, 0)
        let g = VoxelGrid.canonical(covering: VoxelGrid(of: image), spacing: [1, 1, 1])
        let lo = g.affine.apply(Vector3(-1, -1, -1)), hi = g.affine.apply(Vector3(Double(g.dims[0]), Double(g.dims[1]), Double(g.dims[2])))
        for v in bone.vertices.prefix(2000) {
            XCTAssertTrue(v.x >= lo.x && v.y >= lo.y && v.z >= lo.z && v.x <= hi.x && v.y <= hi.y && v.z <= hi.z)
        }
    }
}

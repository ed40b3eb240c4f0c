import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepSynth

/// The procedural head of `synth heads`: its cortex is folded as a real one is (a grey ribbon over white
/// matter, thin sulci running inwards from the surface, gyri with a white core), not a smooth brain with
/// pools of CSF on it.
final class HeadPhantomTests: XCTestCase {
    /// Tissues on an axial 1 mm slice through the upper cerebrum (x fastest), and the slice's size.
    func slice(_ phantom: HeadPhantom, z: Double) -> (tissues: [HeadPhantom.Tissue], nx: Int, ny: Int) {
        let nx = 180, ny = 220
        var t: [HeadPhantom.Tissue] = []
        t.reserveCapacity(nx * ny)
        for j in 0..<ny { for i in 0..<nx { t.append(phantom.tissue(Vector3(Double(i) - 90, Double(j) - 110, z))) } }
        return (t, nx, ny)
    }

    func testCortexIsFoldedWithThinSulciAndAGreyRibbon() {
        for seed: UInt64 in [3, 4, 5] {
            let (t, nx, ny) = slice(HeadPhantom(seed: seed), z: 40)
            let brain = t.map(\.isBrain)
            // The outer 5 mm of the brain: brain pixels with a non-brain pixel within 5 pixels along a row or column.
            var band = [Bool](repeating: false, count: t.count)
            for j in 0..<ny { for i in 0..<nx where brain[i + nx * j] {
                for d in -5...5 where d != 0 {
                    let x = i + d, y = j + d
                    if x < 0 || x >= nx || !brain[x + nx * j] || y < 0 || y >= ny || !brain[i + nx * y] { band[i + nx * j] = true }
                }
            } }
            let inBand = t.indices.filter { band[$0] }
            let sulcal = inBand.filter { t[$0] == .sulcus }.count, grey = inBand.filter { t[$0] == .grey }.count
            XCTAssertGreaterThan(inBand.count, 1000, "seed \(seed): a brain in the slice")
            // Sulci open onto the surface, but as clefts: a small share of the outer band, not pools.
            XCTAssertGreaterThan(Double(sulcal) / Double(inBand.count), 0.03, "seed \(seed): sulci reach the surface")
            XCTAssertLessThan(Double(sulcal) / Double(inBand.count), 0.25, "seed \(seed): sulci are clefts, not pools")
            XCTAssertGreaterThan(Double(grey) / Double(inBand.count), 0.5, "seed \(seed): the outer brain is mostly cortex")
            // Clefts are thin across: the runs of sulcal CSF along rows and columns, median at most 4 mm.
            var runs: [Int] = []
            for (count, step, lines, stride) in [(nx, 1, ny, nx), (ny, nx, nx, 1)] {
                for l in 0..<lines {
                    var run = 0
                    for a in 0..<count {
                        if t[l * stride + a * step] == .sulcus { run += 1 } else if run > 0 { runs.append(run); run = 0 }
                    }
                }
            }
            runs.sort()
            XCTAssertGreaterThan(runs.count, 40, "seed \(seed): many sulci cross the slice")
            XCTAssertLessThanOrEqual(runs[runs.count / 2], 4, "seed \(seed): sulci are thin")
            // Gyri have a white core: white matter within 10 mm of the brain's edge, between sulci.
            let whiteNearEdge = inBand.filter { t[$0] == .white }.count
            XCTAssertGreaterThan(whiteNearEdge, 0, "seed \(seed): white matter reaches into the gyri")
            // Parenchyma is about half grey, as in adult brains (not a white brain with a thin rim).
            let g = t.filter { $0 == .grey }.count, w = t.filter { $0 == .white }.count
            XCTAssertGreaterThan(Double(g) / Double(g + w), 0.3, "seed \(seed): grey share of parenchyma")
        }
    }

    /// The CSF layer's thickness along rays from inside the brain up and out to the skull (mm): the
    /// distance from the last brain tissue to the first bone.
    func csfAlongRays(_ phantom: HeadPhantom) -> [Double] {
        var out: [Double] = []
        for a in 0..<12 {
            for b in 1...4 {
                let azimuth = Double(a) * .pi / 6, elevation = Double(b) * 0.3
                let d = Vector3(cos(elevation) * cos(azimuth), cos(elevation) * sin(azimuth), sin(elevation))
                var lastBrain: Double?, bone: Double?
                for s in stride(from: 0.0, to: 130, by: 0.1) {
                    let t = phantom.tissue(Vector3(0, 0, 15) + d * s)
                    if t.isBrain { lastBrain = s } else if lastBrain != nil, t == .skull || t == .marrow { bone = s; break }
                }
                if let l = lastBrain, let first = bone { out.append(first - l) }
            }
        }
        return out
    }

    func testCSFLayerThicknessVariesOverTheHead() {
        for seed: UInt64 in [3, 8] {
            var even = HeadPhantom(seed: seed)
            even.csfVariation = 0
            let varied = csfAlongRays(HeadPhantom(seed: seed)), flat = csfAlongRays(even)
            XCTAssertEqual(varied.count, flat.count)
            XCTAssertGreaterThan(varied.count, 40, "seed \(seed): rays reach the skull")
            XCTAssertGreaterThanOrEqual(varied.min()!, 0.4, "seed \(seed): some CSF everywhere")
            // Ray by ray against the same head with an even layer (same brain, same obliquity): the layer
            // is thicker in some places and thinner in others.
            let change = zip(varied, flat).map { $0 - $1 }
            XCTAssertGreaterThan(change.max()!, 0.3, "seed \(seed): thicker somewhere (\(change))")
            XCTAssertLessThan(change.min()!, -0.3, "seed \(seed): thinner somewhere (\(change))")
        }
    }

    func testHeadsDifferInTheirFolding() {
        let a = slice(HeadPhantom(seed: 3), z: 40).tissues, b = slice(HeadPhantom(seed: 4), z: 40).tissues
        let differ = zip(a, b).filter { ($0 == .sulcus) != ($1 == .sulcus) }.count
        XCTAssertGreaterThan(differ, 500, "each head draws its own sulcal pattern")
    }
}

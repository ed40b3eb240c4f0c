import Foundation
import XCTest
@testable import DicomPrepCore
@testable import DicomPrepConvert
@testable import DicomPrepDataset
@testable import DicomPrepLearning
@testable import DicomPrepSynth

/// `view`: the page opens in a real browser (headless Chromium with SwiftShader WebGL) and shows the
/// volume, the mask overlay and the surface; the files it reads back; the local server's confinement.
final class ViewerTests: XCTestCase {
    static var chromium: String? { ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) } }

    func testPageShowsVolumeMaskAndSurfaceInHeadlessChromium() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/javascript/three/build/three.min.js") else {
            throw XCTSkip("Debian's libjs-three is not installed (make deps installs it): the viewer cannot be written")
        }
        let dir = TestSupport.tempDir()
        var s = ChestCTSynth()
        s.matrix = 96; s.pixelSpacing = 4; s.slices = 30; s.sliceSpacing = 6
        let r = try s.write(to: dir.path)
        let (_, conv) = try TestSupport.convert([r.series])
        let image = try ImageLoader.load(r.series).volume
        let mask = try MaskMaker(recipe: try MaskRecipe.parse("lungs")).make(image)
        try NiftiWriter().write(mask, to: conv.appendingPathComponent("lungs_mask.nii.gz").path)
        let mesh = SurfaceMaker(source: .label(1)).make(mask)
        try AtomicFile.write(mesh.encoded(.gifti), to: conv.appendingPathComponent("lungs.surf.gii").path)
        try AtomicFile.write(mesh.encoded(.ply), to: dir.appendingPathComponent("lungs.ply").path)
        // The files read back as written.
        for f in [conv.appendingPathComponent("lungs.surf.gii").path, dir.appendingPathComponent("lungs.ply").path] {
            let back = try MeshReader.read(f)
            XCTAssertEqual(back.triangles, mesh.triangles, f)
            XCTAssertEqual(back.vertices.count, mesh.vertices.count, f)
        }
        let page = dir.appendingPathComponent("view").path
        let rep = try ViewerPage(inputs: [conv.path], outputDir: page).run()
        XCTAssertEqual(rep.volumes.count, 1)
        XCTAssertEqual(rep.overlays, ["lungs_mask"])
        XCTAssertEqual(rep.meshes.count, 1)
        for f in ["index.html", "three.min.js", "OrbitControls.js"] { XCTAssertTrue(FileManager.default.fileExists(atPath: page + "/" + f), f) }
        guard let chromium = Self.chromium else { throw XCTSkip("Debian's chromium is not installed (make deps installs it): the browser test was skipped") }
        let flags = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--window-size=1200,800",
                     "--virtual-time-budget=10000"]
        let url = "file://" + page + "/index.html"
        let (rc, dom) = try TestSupport.run(chromium, flags + ["--dump-dom", url])
        XCTAssertEqual(rc, 0)
        guard let a = dom.range(of: "<pre id=\"report\">"), let b = dom.range(of: "</pre>", range: a.upperBound..<dom.endIndex) else {
            return XCTFail("the page did not report (DOM: \(dom.prefix(400)))")
        }
        XCTAssertTrue(dom.contains("data-state=\"ready\""))
        let json = String(dom[a.upperBound..<b.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
        let volumes = report["volumes"] as? [[String: Any]] ?? []
        XCTAssertEqual(volumes.first?["dims"] as? [Int], [96, 96, 30])
        let overlays = report["overlays"] as? [[String: Any]] ?? []
        XCTAssertEqual(overlays.first?["voxels"] as? Int, mask.floatValues.filter { $0 > 0 }.count, "the mask arrived whole")
        let meshes = report["meshes"] as? [[String: Any]] ?? []
        XCTAssertEqual(meshes.first?["triangles"] as? Int, mesh.triangleCount)
        let nonblank = report["nonblank"] as? [String: Int] ?? [:]
        for v in ["axial", "coronal", "sagittal"] { XCTAssertGreaterThan(nonblank[v] ?? 0, 2000, "\(v) plane drawn") }
        let webgl = report["webgl"] as? String ?? ""
        XCTAssertTrue(webgl.hasPrefix("WebGL"), "WebGL: \(webgl)")
        XCTAssertGreaterThan(nonblank["three"] ?? 0, 2000, "3D view rendered (WebGL: \(webgl))")
        // A screenshot, as a user would see the page.
        let shot = dir.appendingPathComponent("shot.png").path
        _ = try TestSupport.run(chromium, flags + ["--screenshot=" + shot, url])
        let size = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 20_000, "screenshot")
    }

    func testServerStaysInsideItsFolder() throws {
        let dir = TestSupport.tempDir()
        try "<html>hi</html>".write(toFile: dir.appendingPathComponent("index.html").path, atomically: true, encoding: .utf8)
        let s = StaticServer(root: dir.path, port: 0)
        XCTAssertEqual(s.response(method: "GET", target: "/").0, 200)
        XCTAssertEqual(s.response(method: "GET", target: "/index.html?x=1").1, "text/html; charset=utf-8")
        XCTAssertEqual(s.response(method: "GET", target: "/../../etc/passwd").0, 403)
        XCTAssertEqual(s.response(method: "GET", target: "/%2e%2e/%2e%2e/etc/passwd").0, 403)
        XCTAssertEqual(s.response(method: "GET", target: "/missing.js").0, 404)
        XCTAssertEqual(s.response(method: "POST", target: "/").0, 405)
    }
}

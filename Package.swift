// swift-tools-version:6.1
import PackageDescription

// Layering, bottom to top (ARCHITECTURE.md): the C/C++ shims (CDicom over dcmtk + OpenJPEG, CNifti over
// libnifti, CDeflate over libdeflate, CPng over libpng, CArchive over libarchive, CTorch over libtorch) are the only code that speaks
// C/C++. DicomPrepCore (C adapters, DICOM parsing, geometry, Volume, transforms, util) <- DicomPrepConvert
// (series assembly, volume building, output, reports) <- DicomPrepDataset (layouts, model inputs,
// manifests, validation) <- DicomPrepLearning (classifier, torch engine); DicomPrepSynth (test and demo
// data) sits beside them and only the CLI, tests and bench use it. dicomprep only parses and prints.
let package = Package(
    name: "dicomprep",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dicomprep", targets: ["dicomprep"]),
        .library(name: "DicomPrep", targets: ["DicomPrepCore", "DicomPrepConvert", "DicomPrepDataset", "DicomPrepLearning", "DicomPrepSynth"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "CDicom",
            path: "Sources/CDicom",
            exclude: ["openjpeg_headers"],
            cxxSettings: [.headerSearchPath("openjpeg_headers")],
            linkerSettings: [
                // dcmjpeg and dcmjpls (JPEG, JPEG-LS) are opened at first use (cdicom.cpp), not linked.
                .linkedLibrary("dcmdata"), .linkedLibrary("oflog"), .linkedLibrary("ofstd"),
                .linkedLibrary("openjp2"), .linkedLibrary("z"), .linkedLibrary("dl"),
            ]
        ),
        .target(
            name: "CNifti",
            path: "Sources/CNifti",
            exclude: ["nifti_headers"],
            cSettings: [.headerSearchPath("nifti_headers"), .define("HAVE_ZLIB")],
            linkerSettings: [.linkedLibrary("nifti2"), .linkedLibrary("znz"), .linkedLibrary("z"), .linkedLibrary("m")]
        ),
        .target(
            name: "CDeflate",
            path: "Sources/CDeflate",
            linkerSettings: [.linkedLibrary("deflate"), .linkedLibrary("z")]
        ),
        // The torch engine itself (engine/ctorch_engine.cpp) is built by `make torch` into
        // libdicomprep_torch.so and opened at run time; this target is only the C header and the loader.
        .target(
            name: "CTorch",
            path: "Sources/CTorch",
            exclude: ["engine"],
            linkerSettings: [.linkedLibrary("dl")]
        ),
        .target(
            name: "CArchive",
            path: "Sources/CArchive",
            // libarchive itself is opened at first use (carchive.c); its headers are all the build needs.
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]
        ),
        .target(
            name: "CPng",
            path: "Sources/CPng",
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z")]
        ),
        .target(name: "DicomPrepCore", dependencies: ["CDicom", "CNifti", "CDeflate", "CPng", "CArchive", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "DicomPrepConvert", dependencies: ["DicomPrepCore"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "DicomPrepDataset", dependencies: ["DicomPrepCore", "DicomPrepConvert"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "DicomPrepLearning", dependencies: ["DicomPrepCore", "DicomPrepDataset", "CTorch"],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(name: "DicomPrepSynth", dependencies: ["DicomPrepCore"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "dicomprep",
            dependencies: ["DicomPrepCore", "DicomPrepConvert", "DicomPrepDataset", "DicomPrepLearning", "DicomPrepSynth",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Benchmark helper for `make bench` (not installed): timing of the compression floor, and
        // the voxel-by-voxel comparison with dcm2niix's outputs.
        .executableTarget(
            name: "dicomprep-bench",
            dependencies: ["DicomPrepCore", "DicomPrepConvert", "DicomPrepDataset", "DicomPrepLearning"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "DicomPrepTests",
            dependencies: ["DicomPrepCore", "DicomPrepConvert", "DicomPrepDataset", "DicomPrepLearning", "DicomPrepSynth"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ],
    cxxLanguageStandard: .cxx17
)

// swift-tools-version:5.9
// Swift 5 language mode on purpose: UniFFI 0.32's generated async helpers do not compile in
// Swift 6 mode.
import PackageDescription

// On Apple platforms the native library comes as an XCFramework (scripts/build-xcframework.sh);
// on Linux (the tests here) as the host libauthcore_ffi.so, found through the module map's
// `link` and the -L/-rpath flags scripts/test-swift.sh passes.
#if os(Linux)
let ffi: Target = .systemLibrary(name: "AuthCoreFFI", path: "Sources/AuthCoreFFI")
#else
let ffi: Target = .binaryTarget(name: "AuthCoreFFI", path: "AuthCoreFFI.xcframework")
#endif

let package = Package(
    name: "AuthCore",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [.library(name: "AuthCore", targets: ["AuthCore"])],
    targets: [
        ffi,
        .target(name: "AuthCore", dependencies: ["AuthCoreFFI"], path: "Sources/AuthCore"),
        .testTarget(name: "AuthCoreTests", dependencies: ["AuthCore"], path: "Tests/AuthCoreTests"),
    ]
)

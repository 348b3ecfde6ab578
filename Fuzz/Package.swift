// swift-tools-version: 6.1
// The libFuzzer executable: built only by tools/fuzz, with
// `swift build -c release -Xswiftc -sanitize=fuzzer,address`, never by the main package's build.
import PackageDescription

let package = Package(
    name: "ArbiterFuzz",
    products: [.executable(name: "fuzz", targets: ["fuzz"])],
    dependencies: [.package(name: "Arbiter", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "fuzz",
            dependencies: ["CFuzzDriver", .product(name: "FuzzTargets", package: "Arbiter")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)

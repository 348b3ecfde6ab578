// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so that the benchmark plugin never slows the main
// build. Run them with `tools/bench`.
let package = Package(
    name: "ArbiterBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Arbiter", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "TransportBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NetProtocol", package: "Arbiter"),
                .product(name: "GameRuntime", package: "Arbiter"),
            ],
            path: "TransportBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "GameCoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GameCore", package: "Arbiter"),
                .product(name: "MatchContract", package: "Arbiter"),
                .product(name: "NetProtocol", package: "Arbiter"),
            ],
            path: "GameCoreBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ControlPlaneBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ControlPlane", package: "Arbiter"),
                .product(name: "MatchContract", package: "Arbiter"),
                .product(name: "NetProtocol", package: "Arbiter"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "ControlPlaneBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)

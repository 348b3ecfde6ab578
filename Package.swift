// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

// Release builds by the tools (tools/run, tools/bench) set ARBITER_CROSS_MODULE_OPTIMIZATION=1:
// the modules of the per-datagram and per-tick path then carry their function bodies across
// module boundaries, so that the executable specialises the generic match server, snapshot
// encoder, UDP handler and client for the game it hosts (docs/ARCHITECTURE.md, "Specialisation").
// Only those modules: on the control port and the dependencies it would add minutes to a first
// build for nothing. Behind a variable, so that a package depending on Arbiter by version never
// sees an unsafe flag.
let hotPath: [SwiftSetting] = strict + (
    Context.environment["ARBITER_CROSS_MODULE_OPTIMIZATION"] == "1"
    ? [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))] : [])

let package = Package(
    name: "Arbiter",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "NetProtocol", targets: ["NetProtocol"]),
        .library(name: "MatchContract", targets: ["MatchContract"]),
        .library(name: "GameCore", targets: ["GameCore"]),
        .library(name: "Histograms", targets: ["Histograms"]),
        .library(name: "GameRuntime", targets: ["GameRuntime"]),
        .library(name: "ControlPlane", targets: ["ControlPlane"]),
        .library(name: "ArbiterClient", targets: ["ArbiterClient"]),
        .library(name: "ArbiterServe", targets: ["ArbiterServe"]),
        .library(name: "BotSwarm", targets: ["BotSwarm"]),
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
        .executable(name: "arbiter", targets: ["arbiter"]),
        .executable(name: "botswarm", targets: ["botswarm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Default traits off: they make Hummingbird rebuild spuriously (see the build notes).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Default traits (JSON files) off: serve reads flags and the environment only.
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: []),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "CArbiterUDP"),
        // The light bots' batched UDP (io_uring, with a plain-syscall fallback): one thread's
        // sockets in one or two syscalls a tick.
        .systemLibrary(
            name: "CLibURing",
            pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]
        ),
        .target(name: "CArbiterRing", dependencies: ["CLibURing"], linkerSettings: [.linkedLibrary("uring")]),
        .target(name: "NetProtocol", dependencies: ["CSodium"], swiftSettings: hotPath),
        // What the control port and the game servers agree on: settings, tickets, scores, reports.
        .target(name: "MatchContract", dependencies: ["NetProtocol"], swiftSettings: hotPath),
        .target(name: "GameCore", dependencies: ["NetProtocol", "MatchContract"], swiftSettings: hotPath),
        // The one percentile implementation (tick durations, RTTs, the bot swarm's reports): its
        // own small module, so that every user reaches it without depending upward and the
        // protocol and simulation libraries stay free of it.
        .target(
            name: "Histograms",
            dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
            swiftSettings: strict
        ),
        .target(
            name: "GameRuntime",
            dependencies: [
                "NetProtocol", "MatchContract", "GameCore", "CArbiterUDP", "Histograms",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: hotPath
        ),
        .target(name: "ArbiterClient", dependencies: ["MatchContract", "GameCore", "GameRuntime", "NetProtocol"], swiftSettings: hotPath),
        // Every decoder of untrusted bytes as a fuzz target; the libFuzzer executables live in
        // Fuzz/ (tools/fuzz), the seed replays in FuzzTargetsTests.
        .target(name: "FuzzTargets", dependencies: ["NetProtocol", "MatchContract", "GameCore"], swiftSettings: strict),
        .target(
            name: "ControlPlane",
            dependencies: [
                "NetProtocol", "MatchContract", "CSodium",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Embedded in the binary (PackageResources.openapi_json), not a bundle beside it:
            // tools/run links the executables into .build/bin, where a bundle lookup can fail.
            resources: [.embedInCode("Resources/openapi.json")],
            swiftSettings: strict
        ),
        // `arbiter serve`'s settings (ServeConfiguration): above GameRuntime and ControlPlane,
        // below the executable, so that tests reach it.
        .target(
            name: "ArbiterServe",
            dependencies: [
                "NetProtocol", "MatchContract", "GameCore", "GameRuntime", "ControlPlane",
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "arbiter",
            dependencies: [
                "NetProtocol", "MatchContract", "GameCore", "GameRuntime", "ControlPlane", "ArbiterClient", "ArbiterServe", "CArbiterUDP",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "BotSwarm",
            dependencies: [
                "ArbiterClient", "MatchContract", "GameCore", "GameRuntime", "NetProtocol", "Histograms", "CArbiterRing",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "botswarm",
            dependencies: [
                "BotSwarm", "GameRuntime", "NetProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "NetProtocolTests",
            dependencies: ["NetProtocol"],
            resources: [.copy("Vectors")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: [
                "ControlPlane", "MatchContract", "NetProtocol", "GameCore", "GameRuntime",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "BotSwarmTests",
            dependencies: [
                "BotSwarm", "ArbiterClient", "ArbiterServe", "MatchContract", "GameCore", "GameRuntime", "NetProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ArbiterServeTests", dependencies: ["ArbiterServe", "ControlPlane", "MatchContract", "GameCore", "GameRuntime", "NetProtocol"],
            swiftSettings: strict),
        .testTarget(name: "HistogramsTests", dependencies: ["Histograms"], swiftSettings: strict),
        .testTarget(name: "GameCoreTests", dependencies: ["MatchContract", "GameCore", "NetProtocol"], swiftSettings: strict),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "MatchContract", "NetProtocol"], swiftSettings: strict),
        .testTarget(
            name: "GameRuntimeTests",
            dependencies: ["GameRuntime", "MatchContract", "NetProtocol", "GameCore", "ArbiterClient"],
            swiftSettings: strict
        ),
    ]
)

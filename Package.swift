// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Arbiter",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "NetProtocol", targets: ["NetProtocol"]),
        .library(name: "GameRuntime", targets: ["GameRuntime"]),
        .executable(name: "arbiter", targets: ["arbiter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .target(name: "CArbiterUDP"),
        .target(name: "NetProtocol", dependencies: ["CSodium"], swiftSettings: strict),
        .target(
            name: "GameRuntime",
            dependencies: [
                "NetProtocol", "CArbiterUDP",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "arbiter",
            dependencies: [
                "NetProtocol", "GameRuntime", "CArbiterUDP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
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
            name: "GameRuntimeTests",
            dependencies: ["GameRuntime", "NetProtocol"],
            swiftSettings: strict
        ),
    ]
)

// swift-tools-version: 6.1
//
// tai-gitops — a GitOps sync agent for the TAI platform.
// The targets read in pipeline order: Source → Render → Diff → Apply → Promote, with the
// foundations (C libraries, their Swift wrappers, the object model) beneath.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "tai-gitops",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tai-gitops", targets: ["tai-gitops"]),
        .library(name: "TaiRender", targets: ["TaiRender"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: C libraries (system libraries from Debian, each behind a shim header)
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .systemLibrary(
            name: "CGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // glibc's posix_spawn (Foundation's Process crashes now and then on Linux with Swift 6.3.1:
        // swiftlang/swift-corelibs-foundation#5472).
        .systemLibrary(name: "CSpawn"),

        // MARK: Object model
        .target(
            name: "TaiCore",
            dependencies: [.product(name: "OrderedCollections", package: "swift-collections")],
            resources: [.copy("Resources/list-semantics.json")],
            swiftSettings: swiftSettings
        ),

        // MARK: Wrappers (the only modules that touch unsafe pointers)
        .target(name: "TaiYAML", dependencies: ["CYAML", "TaiCore"], swiftSettings: swiftSettings),
        .target(name: "TaiGit", dependencies: ["CGit2"], swiftSettings: swiftSettings),
        .target(name: "TaiHTTP", dependencies: ["CCurl"], swiftSettings: swiftSettings),
        .target(name: "TaiProcess", dependencies: ["CSpawn"], swiftSettings: swiftSettings),

        // MARK: Pipeline
        .target(
            name: "TaiRender",
            dependencies: ["TaiCore", "TaiYAML", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),

        .target(
            name: "TaiSource",
            dependencies: ["TaiCore", "TaiGit", "TaiProcess", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),

        // MARK: Kubernetes semantics shared by the emulator and Diff: field sets, server-side apply, defaulting
        .target(
            name: "TaiSSA",
            dependencies: ["TaiCore", .product(name: "OrderedCollections", package: "swift-collections")],
            swiftSettings: swiftSettings),

        // MARK: The Kubernetes API client (kubeconfig, credentials, discovery, retries) over TaiHTTP
        .target(name: "TaiKube", dependencies: ["TaiCore", "TaiYAML", "TaiHTTP", "TaiProcess"], swiftSettings: swiftSettings),

        // MARK: Beneath the pipeline: a Kubernetes API server for tests, the demo and offline previews
        .target(
            name: "ClusterEmulator",
            dependencies: [
                "TaiCore", "TaiYAML", "TaiSSA",
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),

        .target(
            name: "TaiDiff",
            dependencies: ["TaiCore", "TaiYAML", "TaiSSA", "TaiKube", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),

        .target(name: "TaiApply", dependencies: ["TaiCore", "TaiKube", "TaiDiff", "TaiSSA"], swiftSettings: swiftSettings),

        // MARK: A small HTTP server (the agent's endpoints, the promotion testbed's doubles)
        .target(
            name: "TaiHTTPServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Promote: canary steps as commits and pull requests, gated by Prometheus
        .target(
            name: "TaiPromote",
            dependencies: ["TaiCore", "TaiYAML", "TaiRender", "TaiSource", "TaiGit", "TaiHTTP", "TaiKube"],
            swiftSettings: swiftSettings),

        // MARK: Promotion testbed: a forge, canary metrics and a real Prometheus on loopback (tests and the demo)
        .target(
            name: "PromotionTestbed",
            dependencies: ["TaiCore", "TaiProcess", "TaiHTTP", "TaiHTTPServer", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),

        // MARK: Agent: the sync loop around the pipeline (triggers, leader election, status, metrics)
        .target(
            name: "TaiAgent",
            dependencies: [
                "TaiCore", "TaiYAML", "TaiRender", "TaiSource", "TaiGit", "TaiKube", "TaiDiff", "TaiApply", "TaiProcess", "TaiPromote", "TaiHTTPServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Command line
        .executableTarget(
            name: "tai-gitops",
            dependencies: [
                "TaiCore", "TaiYAML", "TaiRender", "ClusterEmulator", "TaiKube", "TaiDiff", "TaiApply", "TaiSource", "TaiGit", "TaiAgent", "TaiHTTP", "TaiProcess", "TaiPromote", "PromotionTestbed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(name: "TaiTesting", dependencies: ["TaiCore", "TaiProcess"], path: "Tests/TaiTesting", swiftSettings: swiftSettings),
        .testTarget(name: "TaiCoreTests", dependencies: ["TaiCore", "TaiTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "TaiYAMLTests", dependencies: ["TaiYAML", "TaiCore", "TaiTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "TaiGitTests", dependencies: ["TaiGit", "TaiSource", "TaiTesting"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TaiHTTPTests", dependencies: ["TaiHTTP", "TaiTesting"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TaiRenderTests",
            dependencies: ["TaiRender", "TaiYAML", "TaiCore", "TaiTesting"],
            exclude: ["Scenarios"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ClusterEmulatorTests", dependencies: ["ClusterEmulator", "TaiCore", "TaiYAML", "TaiHTTP", "TaiTesting", "TaiSSA", "TaiRender"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TaiDiffTests",
            dependencies: ["TaiDiff", "TaiApply", "TaiKube", "TaiSSA", "ClusterEmulator", "TaiRender", "TaiCore", "TaiYAML", "TaiTesting"],
            swiftSettings: swiftSettings),
        .testTarget(name: "TaiProcessTests", dependencies: ["TaiProcess", "TaiTesting"], swiftSettings: swiftSettings),
        .testTarget(name: "CLITests", dependencies: ["TaiTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "TaiPromoteTests",
            dependencies: ["TaiPromote", "PromotionTestbed", "TaiCore", "TaiYAML", "TaiRender", "TaiProcess", "TaiTesting", "TaiHTTP", "TaiSource", "TaiGit"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "TaiAgentTests",
            dependencies: ["TaiAgent", "TaiCore", "TaiProcess", "TaiTesting", "PromotionTestbed", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
    ]
)

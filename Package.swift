// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
  name: "epbctl",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "epbctl", targets: ["epbctl"]),
    .library(name: "EPBPlanner", targets: ["EPBPlanner"]),
    .library(name: "EPBStore", targets: ["EPBStore"]),
    .library(name: "EPBEngines", targets: ["EPBEngines"]),
    .library(name: "EPBIngest", targets: ["EPBIngest"]),
    .library(name: "EPBReport", targets: ["EPBReport"]),
  ],
  // `swift build --traits Postgres` adds the PostgreSQL store (`--db postgres://…`); the default
  // build is SQLite only, so it neither builds PostgresNIO and SwiftNIO nor links them.
  traits: [
    .trait(name: "Postgres", description: "The shared PostgreSQL store (EPBStorePostgres, through PostgresNIO)."),
    .default(enabledTraits: []),
  ],
  dependencies: [
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    // TensorRT-LLM's load balancer config is YAML (read by `ingest --placement`).
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    // SHA-256 of every ingested file (BoringSSL's, 8x the hand-written one it replaced; a
    // clean debug build of a package depending on it takes 57 s here). PostgresNIO needs it too.
    .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
  ],
  targets: [
    // Pure computation: loads in, placements and statistics out. No I/O, no SQL.
    .target(name: "EPBPlanner", swiftSettings: strict),
    // Pure reporting: every table, summary, JSON and HTML text the commands print, diffs, the
    // backtest replay, engine exports. Reads the store's and the ingest's result types; no I/O,
    // no SQL.
    .target(
      name: "EPBReport", dependencies: ["EPBPlanner", "EPBEngines", "EPBStore", "EPBIngest", "EPBBacktest"],
      swiftSettings: strict),
    // The backtest replay: plans a series step by step as it would have been served, and scores
    // each plan on the steps that follow (pure computation; its report is rendered by EPBReport).
    .target(name: "EPBBacktest", dependencies: ["EPBPlanner"], swiftSettings: strict),
    // A seeded model of MoE routing that writes synthetic traces (pure: values and bytes out).
    .target(name: "EPBSimulate", dependencies: ["EPBPlanner"], swiftSettings: strict),
    // Every engine's files, read and written, and the generic inputs, from and to bytes: SGLang's
    // JSON and recorder dumps (.pt, with a restricted unpickler), TensorRT-LLM's statistics and
    // placements, vLLM-Ascend's and load-history files, CSV, .npy, JSON lines; the parsers'
    // output (`LoadBatch`, `EnginePlacement`) and the placement exports (`PlacementExport`,
    // `JSONValue`). No file system, no SQL.
    .target(
      name: "EPBEngines", dependencies: ["EPBPlanner", .product(name: "Yams", package: "Yams")], swiftSettings: strict
    ),
    // The one type that owns the database; all SQL lives here and in migrations/.
    .target(
      name: "EPBStore",
      dependencies: [
        "EPBPlanner", "EPBEngines", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "GRDBSQLite", package: "GRDB.swift"),
      ],
      swiftSettings: strict),
    // The PostgreSQL implementation of the store interface (`PostgresStore`): all its SQL is
    // here and in migrations/postgres/. Empty unless the package trait `Postgres` is on.
    .target(
      name: "EPBStorePostgres",
      dependencies: [
        "EPBPlanner", "EPBEngines", "EPBStore",
        .product(name: "PostgresNIO", package: "postgres-nio", condition: .when(traits: ["Postgres"])),
      ],
      swiftSettings: strict),
    // The ingest pipeline: files, folders and stdin read, parsed (EPBEngines) and stored.
    .target(
      name: "EPBIngest",
      dependencies: [
        "EPBPlanner", "EPBEngines", "EPBStore",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strict),
    .executableTarget(
      name: "epbctl",
      dependencies: [
        "EPBPlanner", "EPBEngines", "EPBStore", "EPBIngest", "EPBBacktest", "EPBReport", "EPBSimulate",
        .target(name: "EPBStorePostgres", condition: .when(traits: ["Postgres"])),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strict),
    // Release-build benchmarks: `swift run -c release epbctl-bench`.
    .executableTarget(
      name: "EPBBench",
      dependencies: [
        "EPBPlanner", "EPBEngines", "EPBStore", "EPBIngest", "EPBBacktest", "EPBReport", "EPBSimulate",
        "EPBTestSupport", .target(name: "EPBStorePostgres", condition: .when(traits: ["Postgres"])),
      ],
      path: "Sources/EPBBench", swiftSettings: strict),
    .target(name: "EPBTestSupport", dependencies: ["EPBPlanner"], swiftSettings: strict),
    .testTarget(name: "EPBPlannerTests", dependencies: ["EPBPlanner", "EPBTestSupport"], swiftSettings: strict),
    .testTarget(
      name: "EPBReportTests", dependencies: ["EPBReport", "EPBEngines", "EPBBacktest", "EPBStore", "EPBTestSupport"],
      swiftSettings: strict),
    .testTarget(
      name: "EPBStoreTests",
      dependencies: [
        // EPBStorePostgres holds only its schema unless the trait `Postgres` is on.
        "EPBEngines", "EPBStore", "EPBStorePostgres", "EPBTestSupport",
      ],
      swiftSettings: strict),
    .testTarget(
      name: "EPBIngestTests", dependencies: ["EPBEngines", "EPBIngest", "EPBTestSupport"], swiftSettings: strict),
    .testTarget(name: "EPBSimulateTests", dependencies: ["EPBSimulate", "EPBTestSupport"], swiftSettings: strict),
    .testTarget(name: "EPBCLITests", dependencies: ["EPBTestSupport"], swiftSettings: strict),
  ]
)

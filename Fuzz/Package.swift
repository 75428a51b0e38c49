// swift-tools-version:6.1
// libFuzzer targets for every epbctl input parser, kept out of the main package so that its
// build is unaffected. Build and run with scripts/reliability/fuzz.sh; by hand:
//   swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   Fuzz/.build/debug/fuzz-csv -max_total_time=60 CORPUS_DIR
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let parsers = [
  "sglang", "vllm", "csv", "npy", "jsonl", "jsonl-stream", "auto", "placement", "pt", "pickle", "safetensors",
]

let package = Package(
  name: "epbctl-fuzz",
  dependencies: [.package(path: "..")],
  targets: [.target(name: "FuzzDriver")]
    + parsers.map { parser in
      .executableTarget(
        name: "fuzz-\(parser)",
        dependencies: [
          "FuzzDriver", .product(name: "EPBEngines", package: root), .product(name: "EPBIngest", package: root),
        ],
        path: "Sources/\(parser)",
        swiftSettings: [.swiftLanguageMode(.v6)])
    }
)

import EPBTestSupport
import Foundation
import Testing

/// The load_history format is named `load-history` (it is the EPLB dataset of the ADRS /
/// OpenEvolve work, not a file vLLM writes); `vllm`, its name in the CLI contract, still selects it.
@Suite struct FormatNameTests {
  /// Σ of every `logical_expert_load` value of the demo trace, read here with Foundation.
  static func demoTotal() throws -> Double {
    let root = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: vllmFile))) as? [String: Any])
    let history = try #require(root["load_history"] as? [[String: Any]])
    return history.reduce(0) { sum, entry in
      sum + ((entry["logical_expert_load"] as? [[Double]]) ?? []).joined().reduce(0, +)
    }
  }

  @Test(arguments: ["load-history", "vllm", "auto"])
  func bothNamesReadTheSameFile(format: String) throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("names.sqlite")
    let r = try epbctl(["ingest", vllmFile, "--format", format, "--series", "demo", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let file = try #require((r.jsonObject?["files"] as? [[String: Any]])?.first)
    #expect(file["format"] as? String == "load-history")
    #expect(file["total_load"] as? Double == (try Self.demoTotal()))
    #expect(file["steps"] as? Int == 200)
  }

  @Test func stdinTakesTheAliasToo() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("stdin.sqlite")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: vllmFile))
    let r = try epbctl(["ingest", "-", "--format", "vllm", "--series", "s", "--json"], db: db, stdin: bytes)
    #expect(r.status == 0, "\(r.stderr)")
    #expect((r.jsonObject?["files"] as? [[String: Any]])?.first?["total_load"] as? Double == (try Self.demoTotal()))
    let unknown = try epbctl(["ingest", vllmFile, "--format", "vllm-history"], db: db)
    #expect(unknown.status == 64)
    #expect(unknown.stderr.contains("load-history"), "the error lists the format names: \(unknown.stderr)")
  }

  @Test func helpSaysWhatTheFormatIs() throws {
    let help = try CommandRunner.run(["ingest", "--help"])
    #expect(help.stdout.contains("load-history JSON"))
    #expect(help.stdout.contains("ADRS / OpenEvolve"))
    #expect(help.stdout.contains("`vllm` is an alias"))
    #expect(help.stdout.contains("--first-layer <K>"))
  }
}

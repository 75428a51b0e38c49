import EPBTestSupport
import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite struct BacktestCommandTests {
  @Test func simulateIngestBacktestJSON() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let trace = dir.path("trace.npy")
    var r = try CommandRunner.run([
      "simulate", "--output", trace, "--format", "npy", "--steps", "120", "--layers", "3", "--experts", "32",
      "--tokens", "512", "--seed", "3",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(["ingest", trace, "--series", "sim"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let html = dir.path("backtest.html")
    r = try epbctl(
      [
        "backtest", "--series", "sim", "--window", "20", "--window", "40", "--half-life", "none", "--half-life", "10",
        "--every", "20", "--horizon", "10", "--algorithm", "deepseek", "--replicas", "48", "--gpus", "8", "--nodes",
        "2", "--groups", "4", "--json", "--html", html,
      ], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let configs = try #require(r.jsonObject?["configs"] as? [[String: Any]])
    // windows × half-lives × algorithms = 2 × 2 × 1, in that nesting order.
    #expect(configs.map { $0["window"] as? Int } == [20, 20, 40, 40])
    #expect(configs.map { $0["half_life"] as? Double } == [nil, 10, nil, 10])
    // Warmup 40, plans at positions 39, 59, 79, 99 (109 is the last position with a full horizon).
    #expect(configs.allSatisfy { $0["points"] as? Int == 4 })
    for c in configs {
      let mean = try #require(c["realized_balancedness_mean"] as? Double)
      let min = try #require(c["realized_balancedness_min"] as? Double)
      #expect(mean > 0 && mean <= 1 && min <= mean)
    }
    #expect(Set(configs.compactMap { $0["rank"] as? Int }) == [1, 2, 3, 4])
    // The oracle is on by default; deepseek closes none of its own gap.
    for c in configs {
      let oracle = try #require(c["oracle_balancedness_mean"] as? Double)
      #expect(oracle > 0 && oracle <= 1)
      #expect(c["oracle_gap_closed"] as? Double == 0)
      #expect(c["replan"] is NSNull)
    }
    #expect(
      keysInOrder(
        r.stdout,
        [
          "configs", "algorithm", "window", "half_life", "points", "realized_balancedness_mean",
          "realized_balancedness_min", "slots_changed_mean",
        ]))
    let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: html)))
    #expect(parser.parse())
    // --no-oracle leaves the oracle out; the three pricing flags add `replan` to every configuration.
    r = try epbctl(
      [
        "backtest", "--series", "sim", "--window", "20", "--every", "20", "--horizon", "10", "--algorithm",
        "deepseek", "--replicas", "48", "--gpus", "8", "--nodes", "2", "--groups", "4", "--json", "--no-oracle",
        "--expert-bytes", "1048576", "--link-gbps", "100", "--step-ms", "5",
      ], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let priced = try #require((r.jsonObject?["configs"] as? [[String: Any]])?.first)
    #expect(priced["oracle_balancedness_mean"] is NSNull)
    let replan = try #require(priced["replan"] as? [String: Any])
    #expect(
      Set(replan.keys) == [
        "replans", "peak_reduction_mean", "saved_ms_mean", "transfer_ms_mean", "net_ms_mean", "paying_share",
        "recommended_min_gain", "recommended_every",
      ])
    // Warmup 20, plans at positions 19, 39, …, 99 (109 is the last with a full horizon): 5 plans, 4 re-plans.
    #expect(replan["replans"] as? Int == 4)
    let saved = try #require(replan["saved_ms_mean"] as? Double),
      transfer = try #require(replan["transfer_ms_mean"] as? Double)
    #expect(abs((replan["net_ms_mean"] as? Double ?? .nan) - (saved - transfer)) < 1e-9)
    // 1 MiB at 100 Gb/s is 0.08388608 ms per expert received: the mean transfer is a multiple of it.
    let perExpert = 1048576.0 * 8 / 100e9 * 1000
    #expect(abs(transfer / perExpert * 4 - (transfer / perExpert * 4).rounded()) < 1e-6)
  }

  @Test func everyFormatIngestsToTheSameLoads() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let shape = ["--steps", "4", "--layers", "2", "--experts", "8", "--tokens", "100", "--top-k", "2", "--seed", "9"]
    // The vLLM file, parsed here independently, is the reference.
    let vllm = try CommandRunner.run(["simulate", "--output", "-", "--format", "vllm"] + shape)
    #expect(vllm.status == 0, "\(vllm.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(vllm.stdout.utf8)) as! [String: Any]
    let history = object["load_history"] as! [[String: Any]]
    let reference = history.map { $0["logical_expert_load"] as! [[Double]] }  // [step][layer][expert]
    #expect(reference.count == 4)
    #expect(reference.allSatisfy { $0.allSatisfy { $0.reduce(0, +) == 200 } })
    for format in ["vllm", "sglang", "csv", "npy", "jsonl"] {
      let file = dir.path("t.\(format)")
      var r = try CommandRunner.run(["simulate", "--output", file, "--format", format] + shape)
      #expect(r.status == 0, "\(r.stderr)")
      r = try epbctl(["ingest", file, "--series", format, "--format", format], db: db)
      #expect(r.status == 0, "\(format): \(r.stderr)")
      for layer in 0..<2 {
        for step in [0, 3] {
          r = try epbctl(
            ["loads", "--series", format, "--layer", "\(layer)", "--from", "\(step)", "--to", "\(step)", "--json"],
            db: db)
          #expect(r.jsonObject?["loads"] as? [Double] == reference[step][layer], "\(format) step \(step)")
        }
      }
    }
  }

  @Test func flagProblemsExit64NamingTheFlag() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let topology = ["--replicas", "48", "--gpus", "8", "--nodes", "2", "--groups", "4"]
    var r = try epbctl(["backtest", "--every", "10", "--horizon", "5"] + topology, db: db)
    #expect(r.status == 64)
    #expect(r.stderr.contains("--window"))
    r = try epbctl(["backtest", "--window", "10", "--every", "0", "--horizon", "5"] + topology, db: db)
    #expect(r.status == 64)
    #expect(r.stderr.contains("--every"))
    r = try epbctl(
      ["backtest", "--window", "10", "--half-life", "soon", "--every", "5", "--horizon", "5"] + topology,
      db: db)
    #expect(r.status == 64)
    #expect(r.stderr.contains("--half-life"))
    // The re-plan price: each flag bounded, and the three together.
    let base = ["backtest", "--window", "10", "--every", "5", "--horizon", "5"] + topology
    for (flag, value) in [("--expert-bytes", "0"), ("--link-gbps", "0"), ("--step-ms", "-1"), ("--link-gbps", "2e6")] {
      var priced = ["--expert-bytes", "1048576", "--link-gbps", "400", "--step-ms", "10"]
      priced[priced.firstIndex(of: flag)! + 1] = value
      r = try epbctl(base + priced, db: db)
      #expect(r.status == 64)
      #expect(r.stderr.contains(flag))
    }
    r = try epbctl(base + ["--expert-bytes", "1048576"], db: db)
    #expect(r.status == 64)
    #expect(r.stderr.contains("--link-gbps") && r.stderr.contains("--step-ms"))
    r = try CommandRunner.run(["simulate", "--output", "-", "--experts", "4", "--top-k", "8"])
    #expect(r.status == 64)
    #expect(r.stderr.contains("--top-k"))
    // A series too short for one plan is a runtime error naming the flags.
    let trace = dir.path("t.csv")
    r = try CommandRunner.run(["simulate", "--output", trace, "--format", "csv", "--steps", "10", "--experts", "8"])
    r = try epbctl(["ingest", trace, "--series", "short"], db: db)
    r = try epbctl(
      [
        "backtest", "--series", "short", "--window", "8", "--every", "4", "--horizon", "4", "--replicas", "16",
        "--gpus", "4", "--nodes", "1", "--groups", "1",
      ], db: db)
    #expect(r.status != 0 && r.status != 64)
    #expect(r.stderr.contains("--horizon"))
  }

  @Test func sameSeedSameBytes() throws {
    let a = try CommandRunner.run(["simulate", "--output", "-", "--format", "jsonl", "--steps", "3", "--seed", "5"])
    let b = try CommandRunner.run(["simulate", "--output", "-", "--format", "jsonl", "--steps", "3", "--seed", "5"])
    #expect(a.status == 0 && a.stdout == b.stdout && !a.stdout.isEmpty)
  }
}

import EPBTestSupport
import Foundation
import Testing

@Suite struct RobustCommandTests {
  /// On the bundled DeepSeek-V3 decode dump (one step), hierarchical `deepseek` and `seed`
  /// (EPLB's greedy packing) peak above the no-replication placement in 10 of 58 layers, as
  /// issue 18 measured; `plan` lists them in `above_no_replication_layers` and says so on
  /// stderr. `robust` never does (empty list, no note).
  @Test func planNamesTheLayersAboveNoReplication() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let dump = examples.appendingPathComponent("sglang/decode_in1000out1000.json").path
    var r = try epbctl(["ingest", dump, "--series", "decode"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let topology = ["--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8"]
    for algorithm in ["deepseek", "seed", "robust"] {
      r = try epbctl(
        ["plan", "--series", "decode", "--layer", "all", "--algorithm", algorithm, "--dry-run", "--json"] + topology,
        db: db)
      #expect(r.status == 0, "\(r.stderr)")
      let above = try #require(r.jsonObject?["above_no_replication_layers"] as? [Int])
      let layers = try #require(r.jsonObject?["layers"] as? [[String: Any]])
      let counted = layers.filter { ($0["peak"] as! Double) > ($0["no_replication_peak"] as! Double) }
      #expect(above == counted.map { $0["layer"] as! Int })
      #expect(above.count == (algorithm == "robust" ? 0 : 10), "\(algorithm)")
      #expect(r.stderr.contains("above the no-replication placement") == (algorithm != "robust"))
    }
  }

  /// On a seeded simulated trace with drift, bursts and noise, `robust` holds up better on the
  /// steps after each window than `deepseek` and `seed`, for a short and a long window.
  @Test func robustBeatsEPLBOnTheStepsThatFollow() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let trace = dir.path("sim.npy")
    var r = try CommandRunner.run([
      "simulate", "--output", trace, "--format", "npy", "--steps", "700", "--layers", "4", "--experts", "64",
      "--seed", "11",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(["ingest", trace, "--series", "sim"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(
      [
        "backtest", "--series", "sim", "--window", "100", "--window", "300", "--every", "100", "--horizon", "100",
        "--algorithm", "deepseek", "--algorithm", "seed", "--algorithm", "robust", "--replicas", "80", "--gpus", "8",
        "--nodes", "2", "--groups", "8", "--json", "--no-timeline",
      ], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let configs = try #require(r.jsonObject?["configs"] as? [[String: Any]])
    func realized(_ algorithm: String, _ window: Int) -> Double {
      configs.first { $0["algorithm"] as? String == algorithm && $0["window"] as? Int == window }?[
        "realized_balancedness_mean"] as? Double ?? .nan
    }
    for window in [100, 300] {
      #expect(realized("robust", window) > realized("deepseek", window), "window \(window): \(configs)")
      #expect(realized("robust", window) > realized("eplb-divisor", window), "window \(window)")
    }
  }

  /// On the six bundled DeepSeek-V3 workloads, each held out in turn and planned from the
  /// other five (window 5, so five scenarios), `robust` realizes a higher mean balancedness on
  /// the held-out workload than `deepseek` and `seed`, with both policies
  /// (`Benchmarks/robust_backtest.sh` prints the same folds).
  @Test func robustHoldsUpOnAnUnseenRealWorkload() throws {
    let dumps = try FileManager.default.contentsOfDirectory(atPath: examples.appendingPathComponent("sglang").path)
      .filter { $0.hasSuffix(".json") }.sorted()
      .map { examples.appendingPathComponent("sglang/\($0)").path }
    #expect(dumps.count == 6)
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    var sums: [String: [String: Double]] = [:]  // policy → algorithm → Σ over folds
    for (k, heldOut) in dumps.enumerated() {
      let r = try epbctl(["ingest"] + dumps.filter { $0 != heldOut } + [heldOut, "--series", "fold\(k)"], db: db)
      #expect(r.status == 0, "\(r.stderr)")
      for policy in ["hierarchical", "global"] {
        let r = try epbctl(
          [
            "backtest", "--series", "fold\(k)", "--window", "5", "--every", "1", "--horizon", "1", "--algorithm",
            "deepseek", "--algorithm", "seed", "--algorithm", "robust", "--replicas", "288", "--gpus", "32",
            "--nodes", "4", "--groups", "8", "--policy", policy, "--json", "--no-timeline",
          ], db: db)
        #expect(r.status == 0, "\(r.stderr)")
        let configs = try #require(r.jsonObject?["configs"] as? [[String: Any]])
        #expect(configs.allSatisfy { $0["points"] as? Int == 1 }, "one plan per fold: \(configs)")
        for c in configs {
          let algorithm = try #require(c["algorithm"] as? String)
          sums[policy, default: [:]][algorithm, default: 0] += try #require(c["realized_balancedness_mean"] as? Double)
        }
      }
    }
    for policy in ["hierarchical", "global"] {
      let s = try #require(sums[policy])
      #expect(s["robust"]! > s["deepseek"]!, "\(policy): \(s)")
      #expect(s["robust"]! > s["eplb-divisor"]!, "\(policy): \(s)")
    }
  }
}

import EPBTestSupport
import Foundation
import Testing

@Suite struct RobustCommandTests {
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
      #expect(realized("robust", window) > realized("seed", window), "window \(window)")
    }
  }
}

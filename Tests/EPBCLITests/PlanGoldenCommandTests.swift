import EPBTestSupport
import Foundation
import Testing

/// `epbctl plan` gives eplb.py's placements end to end, from the bundled prefill statistics
/// through ingest, the window and the store: the expectation is the golden cases of those
/// statistics, produced by DeepSeek's eplb.py and the seed's code (`Tests/Fixtures/golden`).
/// The planner is portable Swift (no vector kernels), so ARM and x86 machines run the same code.
@Suite struct PlanGoldenCommandTests {
  static let cases: [(golden: String, policy: String)] = [
    ("sglang_prefill_in1024_r288_g8_n4_gpu32", "hierarchical"),
    ("sglang_prefill_in1024_r288_global_gpu32", "global"),
  ]

  @Test(arguments: ["deepseek", "eplb-divisor"], [0, 1])
  func planPlansWhatEPLBPlans(algorithm: String, caseIndex: Int) throws {
    let (name, policy) = Self.cases[caseIndex]
    let golden = try Golden.load(name)
    let expected = try #require(golden.expected.result(algorithm))
    let layerIDs = try #require(golden.input.layerIDs)
    let dir = try TemporaryDirectory()
    let db = dir.path("p.sqlite")
    #expect(try epbctl(["ingest", prefillFile], db: db).status == 0)
    do {
      let result = try epbctl(
        [
          "plan", "--layer", "all", "--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8",
          "--policy", policy, "--algorithm", algorithm, "--no-base", "--dry-run", "--json",
        ], db: db)
      #expect(result.status == 0, "\(result.stderr)")
      let layers = try #require(result.jsonObject?["layers"] as? [[String: Any]])
      #expect(layers.count == layerIDs.count)
      var mismatched: [Int] = []
      for layer in layers {
        let id = try #require(layer["layer"] as? Int)
        let row = try #require(layerIDs.firstIndex(of: id))
        if layer["phy2log"] as? [Int] != expected.phy2log[row] { mismatched.append(id) }
      }
      #expect(mismatched == [], "\(algorithm), \(policy): layers differ from eplb.py")
    }
  }
}

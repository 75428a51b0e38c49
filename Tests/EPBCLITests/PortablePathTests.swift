import EPBTestSupport
import Foundation
import Testing

/// The planner's portable path (`EPBCTL_NO_SIMD=1`: what ARM and Apple-silicon machines run)
/// and its vector path give eplb.py's placements, end to end through `epbctl plan`.
///
/// The expectation is independent of both paths: the golden cases of the bundled prefill
/// statistics, produced by DeepSeek's eplb.py and the seed's code (`Tests/Fixtures/golden`).
@Suite struct PortablePathTests {
  static let cases: [(golden: String, policy: String)] = [
    ("sglang_prefill_in1024_r288_g8_n4_gpu32", "hierarchical"),
    ("sglang_prefill_in1024_r288_global_gpu32", "global"),
  ]

  @Test(arguments: ["deepseek", "seed"], [0, 1])
  func bothPathsPlanWhatEPLBPlans(algorithm: String, caseIndex: Int) throws {
    let (name, policy) = Self.cases[caseIndex]
    let golden = try Golden.load(name)
    let expected = try #require(golden.expected.result(algorithm))
    let layerIDs = try #require(golden.input.layerIDs)
    let dir = try TemporaryDirectory()
    let db = dir.path("p.sqlite")
    #expect(try epbctl(["ingest", prefillFile], db: db).status == 0)
    for simd in ["vector", "portable"] {
      let environment = simd == "portable" ? ["EPBCTL_NO_SIMD": "1"] : [:]
      let result = try epbctl(
        [
          "plan", "--layer", "all", "--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8",
          "--policy", policy, "--algorithm", algorithm, "--no-base", "--dry-run", "--json",
        ], db: db, environment: environment)
      #expect(result.status == 0, "\(simd): \(result.stderr)")
      let layers = try #require(result.jsonObject?["layers"] as? [[String: Any]])
      #expect(layers.count == layerIDs.count)
      var mismatched: [Int] = []
      for layer in layers {
        let id = try #require(layer["layer"] as? Int)
        let row = try #require(layerIDs.firstIndex(of: id))
        if layer["phy2log"] as? [Int] != expected.phy2log[row] { mismatched.append(id) }
      }
      #expect(mismatched == [], "\(simd) path, \(algorithm), \(policy): layers differ from eplb.py")
    }
  }
}

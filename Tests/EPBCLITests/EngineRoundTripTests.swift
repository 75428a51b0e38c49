import EPBTestSupport
import Foundation
import Testing

/// Each engine's placement file, written by `export` and recorded by `ingest --placement`,
/// is the same placement: `diff` finds no slot changed and no move, with relabelling off.
@Suite struct EngineRoundTripTests {
  static let topology = ["--gpus", "32", "--nodes", "4", "--groups", "8"]

  /// Plans the bundled decode statistics with `replicas` slots and returns the database path.
  static func planned(_ dir: TemporaryDirectory, replicas: Int) throws -> String {
    let db = dir.path("rt.sqlite")
    #expect(try epbctl(["ingest", decodeFile, "--series", "dsv3"], db: db).status == 0)
    let plan = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "all", "--replicas", "\(replicas)", "--no-base"] + topology, db: db)
    #expect(plan.status == 0, "\(plan.stderr)")
    return db
  }

  @Test(arguments: [("sglang", 288), ("trtllm", 288), ("vllm-ascend", 256)])
  func exportThenImportMovesNothing(format: String, replicas: Int) throws {
    let dir = try TemporaryDirectory()
    let db = try Self.planned(dir, replicas: replicas)
    let file = dir.path("placement." + (format == "trtllm" ? "yaml" : "json"))
    let export = try epbctl(["export", "latest", "--format", format, "--output", file], db: db)
    #expect(export.status == 0, "\(export.stderr)")
    let record = try epbctl(["ingest", file, "--placement", "--series", "dsv3"] + Self.topology, db: db)
    #expect(record.status == 0, "\(format): \(record.stderr)")
    let diff = try epbctl(["diff", "latest~1", "latest", "--no-relabel", "--json"], db: db)
    #expect(diff.status == 0, "\(diff.stderr)")
    let summary = try #require(diff.jsonObject?["summary"] as? [String: Any])
    #expect(summary["slots_changed"] as? Int == 0, "\(format)")
    #expect(summary["cross_node_moves"] as? Int == 0, "\(format)")
    let layers = try #require(diff.jsonObject?["layers"] as? [[String: Any]])
    #expect(layers.count == 58, "\(format): every MoE layer of DeepSeek-V3 compared")
    let snapshots = try epbctl(["snapshots", "--json"], db: db)
    let listed = try #require(snapshots.jsonObject?["snapshots"] as? [[String: Any]])
    #expect(listed.map { $0["layers"] as? Int } == [58, 58], "\(format)")
  }

  @Test func vllmAscendExportRefusesTwoReplicasOnOneDevice() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.planned(dir, replicas: 288)
    let file = dir.path("map.json")
    let export = try epbctl(["export", "latest", "--format", "vllm-ascend", "--output", file], db: db)
    #expect(export.status != 0)
    #expect(export.stderr.contains("plan with --distinct-per-gpu"), "\(export.stderr)")
    #expect(!FileManager.default.fileExists(atPath: file))
  }

  @Test func importRefusesADeviceCountOtherThanGPUs() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.planned(dir, replicas: 256)
    let file = dir.path("map.json")
    #expect(try epbctl(["export", "latest", "--format", "vllm-ascend", "--output", file], db: db).status == 0)
    let record = try epbctl(
      ["ingest", file, "--placement", "--series", "dsv3", "--gpus", "16", "--nodes", "4", "--groups", "8"], db: db)
    #expect(record.status != 0)
    #expect(record.stderr.contains("the expert map lists 32 devices but --gpus is 16"), "\(record.stderr)")
    let snapshots = try epbctl(["snapshots", "--json"], db: db)
    #expect((snapshots.jsonObject?["snapshots"] as? [[String: Any]])?.count == 1, "nothing stored")
  }
}

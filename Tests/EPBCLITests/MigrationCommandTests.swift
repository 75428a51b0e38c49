import EPBTestSupport
import Foundation
import Testing

@Suite struct MigrationCommandTests {
  /// On the bundled data: planning the prefill window against the decode plan moves fewer
  /// expert weights than planning from scratch, with the very same per-layer peaks.
  @Test func baseMovesFewerWeightsWithTheSameBalance() throws {
    let (_, db) = try dsv3Database()
    var r = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "all", "--from", "0", "--to", "0"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "all", "--from", "1", "--to", "1", "--no-base", "--json"] + dsv3Topology,
      db: db)
    let scratch = try #require(r.jsonObject)
    r = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "all", "--from", "1", "--to", "1", "--base", "1", "--json"]
        + dsv3Topology,
      db: db)
    let based = try #require(r.jsonObject)
    #expect((based["migration"] as? [String: Any])?["base"] as? Int == 1)
    // Same peak on every layer: relabelling only permutes GPUs and slots.
    let peaksScratch = (scratch["layers"] as! [[String: Any]]).map { $0["peak"] as! Double }
    let peaksBased = (based["layers"] as! [[String: Any]]).map { $0["peak"] as! Double }
    #expect(peaksScratch.count == 58)
    for (a, b) in zip(peaksScratch, peaksBased) { #expect(abs(a - b) <= 1e-9 * a) }
    // Count the changed slots independently from the stored phy2log of snapshots 1, 2 and 3.
    func phy2log(_ id: Int) throws -> [[Int]] {
      let s = try #require(try epbctl(["show", String(id), "--json"], db: db).jsonObject)
      return (s["layers"] as! [[String: Any]]).map { $0["phy2log"] as! [Int] }
    }
    let base = try phy2log(1), plain = try phy2log(2), relabelled = try phy2log(3)
    func changed(_ x: [[Int]]) -> Int { zip(base, x).map { a, b in zip(a, b).filter { $0 != $1 }.count }.reduce(0, +) }
    #expect(changed(relabelled) < changed(plain), "relabelled \(changed(relabelled)) vs \(changed(plain))")
    // The diff counts after relabelling: B=2 relabelled against A=1 needs no more moves than B=3 as stored.
    let d2 = try #require(try epbctl(["diff", "1", "2", "--json"], db: db).jsonObject)
    let d3 = try #require(try epbctl(["diff", "1", "3", "--json", "--no-relabel"], db: db).jsonObject)
    let s2 = d2["summary"] as! [String: Any], s3 = d3["summary"] as! [String: Any]
    #expect((s3["slots_changed"] as! Int) == changed(relabelled))
    #expect((s2["slots_changed"] as! Int) <= changed(plain))
  }

  @Test func maxMovesAndMinGainNeedABase() throws {
    let (_, db) = try dsv3Database()
    var r = try epbctl(["plan", "--series", "dsv3", "--layer", "5", "--max-moves", "2"] + dsv3Topology, db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("need a base"), "\(r.stderr)")
    r = try epbctl(["plan", "--series", "dsv3", "--layer", "5", "--no-base", "--min-gain", "5"] + dsv3Topology, db: db)
    #expect(r.status == 64)
  }

  @Test func maxMovesLimitsReplicaMovesPerLayer() throws {
    let (_, db) = try dsv3Database()
    var r = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "10,20", "--from", "0", "--to", "0"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "10,20", "--from", "1", "--to", "1", "--max-moves", "3", "--json"]
        + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let json = try #require(r.jsonObject)
    let migration = try #require(json["migration"] as? [String: Any])
    #expect((migration["incremental_layers"] as? [Int]) == [10, 20])
    #expect((migration["replica_moves"] as? Int).map { $0 <= 6 } == true)
    // At most 3 slots per layer differ from the base.
    let base = try #require(try epbctl(["show", "1", "--json"], db: db).jsonObject)
    for (a, b) in zip(base["layers"] as! [[String: Any]], json["layers"] as! [[String: Any]]) {
      let pa = a["phy2log"] as! [Int], pb = b["phy2log"] as! [Int]
      #expect(zip(pa, pb).filter { $0 != $1 }.count <= 3)
    }
  }

  /// (vLLM-Ascend refuses this plan, which puts two replicas of one expert on one GPU: see
  /// EngineRoundTripTests for its export.)
  @Test(arguments: ["sglang", "trtllm", "json"])
  func exportWritesEachEngineFormat(format: String) throws {
    let (dir, db) = try dsv3Database()
    var r = try epbctl(["plan", "--series", "dsv3", "--layer", "all"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let out = dir.path("placement.out")
    r = try epbctl(["export", "latest", "--format", format, "--output", out], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let text = try String(contentsOfFile: out, encoding: .utf8)
    let snapshot = try #require(try epbctl(["show", "latest", "--json"], db: db).jsonObject)
    let layer10 = (snapshot["layers"] as! [[String: Any]]).first { $0["layer"] as? Int == 10 }!["phy2log"] as! [Int]
    switch format {
    case "sglang":
      let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
      let map = try #require(json["physical_to_logical_map"] as? [[Int]])
      #expect(json.keys.sorted() == ["physical_to_logical_map"])
      #expect(map.count == 61)
      #expect(map[0] == (0..<288).map { $0 % 256 })  // dense layer: the trivial map
      #expect(map[10] == layer10)
    case "trtllm":
      #expect(text.contains("num_slots: 288"))
      #expect(text.contains("initial_global_assignments:"))
      #expect(text.contains("10: [" + layer10.map(String.init).joined(separator: ", ") + "]"))
    default:
      let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
      #expect(json["snapshot"] as? Int == 1)
    }
  }
}

@Suite struct PlacementImportTests {
  /// A placement exported for SGLang and recorded back is the same placement: the diff between
  /// the two snapshots changes no slot and no peak.
  @Test func exportedPlacementRecordsBackUnchanged() throws {
    let (dir, db) = try dsv3Database()
    var r = try epbctl(["plan", "--series", "dsv3", "--layer", "all"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let file = dir.path("running.json")
    r = try epbctl(["export", "1", "--format", "sglang", "--output", file], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(
      ["ingest", file, "--placement", "--series", "dsv3", "--gpus", "32", "--nodes", "4", "--groups", "8", "--json"],
      db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let imported = try #require(r.jsonObject)
    #expect(imported["algorithm"] as? String == "imported")
    #expect(imported["id"] as? Int == 2)
    #expect((imported["skipped_layers"] as? [Int]) == [0, 1, 2])
    let diff = try #require(try epbctl(["diff", "1", "2", "--json", "--no-relabel"], db: db).jsonObject)
    let summary = try #require(diff["summary"] as? [String: Any])
    #expect(summary["slots_changed"] as? Int == 0)
    #expect(summary["peak_reduction_max"] as? Double == 0)
  }

  @Test func placementErrorsNameTheFileAndFlag() throws {
    let (dir, db) = try dsv3Database()
    let bad = try dir.write("bad.json", "{\"physical_to_logical_map\": [[0, 1, 300]]}")
    var r = try epbctl(["ingest", bad, "--placement", "--series", "dsv3", "--gpus", "1"], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("bad.json"), "\(r.stderr)")
    r = try epbctl(["ingest", bad, "--placement", "--series", "dsv3"], db: db)
    #expect(r.status == 64)
    #expect(r.stderr.contains("--gpus"), "\(r.stderr)")
  }
}

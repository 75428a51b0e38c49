import EPBTestSupport
import Foundation
import Testing

let dsv3Topology = ["--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8"]

/// A database with both bundled SGLang files in series `dsv3` (steps 0 and 1).
func dsv3Database() throws -> (TemporaryDirectory, String) {
  let dir = try TemporaryDirectory()
  let db = dir.path("epb.sqlite")
  let r = try epbctl(["ingest", decodeFile, prefillFile, "--series", "dsv3"], db: db)
  #expect(r.status == 0, "\(r.stderr)")
  return (dir, db)
}

@Suite struct PlanCommandTests {
  @Test(arguments: [
    (
      ["--replicas", "300", "--gpus", "32", "--nodes", "4", "--groups", "8"],
      "--replicas 300 is not a multiple of --gpus 32"
    ),
    (
      ["--replicas", "288", "--gpus", "32", "--nodes", "3", "--groups", "6"], "--gpus 32 is not a multiple of --nodes 3"
    ),
    (["--replicas", "288", "--gpus", "0", "--nodes", "4", "--groups", "8"], "--gpus must be positive"),
  ])
  func topologyFlagsAreCheckedBeforeAnyIO(flags: [String], message: String) throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("never.sqlite")
    let r = try epbctl(["plan", "--layer", "all"] + flags, db: db)
    #expect(r.status == 64)
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: db))
  }

  @Test func planStoresASnapshotInTheShowForm() throws {
    let (_, db) = try dsv3Database()
    let r = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "all", "--window", "1", "--json"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(
      keysInOrder(
        r.stdout,
        [
          "id", "series", "algorithm", "window", "from", "to", "replicas", "gpus", "nodes", "groups", "layers", "layer",
          "phy2log", "logcnt", "gpu_load", "peak", "mean", "balancedness", "no_replication_peak", "lower_bound",
          "skipped_layers", "summary", "balancedness_mean", "balancedness_weighted",
        ]), "\(r.stdout.prefix(400))")
    let json = try #require(r.jsonObject)
    // The default algorithm: `robust`, the one that wins the held-out backtests (docs/backtest.md).
    #expect(json["algorithm"] as? String == "robust")
    #expect((json["window"] as? [String: Int]) == ["from": 1, "to": 1])
    #expect((json["skipped_layers"] as? [Int]) == [0, 1, 2])
    let layers = try #require(json["layers"] as? [[String: Any]])
    #expect(layers.count == 58)
    // Check one layer independently: every slot's expert, gpu_load from phy2log/logcnt and the window's load.
    let raw =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: prefillFile))) as! [String: Any]
    let load = (raw["logical_count"] as! [[Double]])[10]
    let layer10 = try #require(layers.first { $0["layer"] as? Int == 10 })
    let phy2log = try #require(layer10["phy2log"] as? [Int])
    let logcnt = try #require(layer10["logcnt"] as? [Int])
    #expect(phy2log.count == 288 && logcnt.count == 256 && logcnt.reduce(0, +) == 288)
    var gpuLoad = Array(repeating: 0.0, count: 32)
    for (slot, e) in phy2log.enumerated() { gpuLoad[slot / 9] += load[e] / Double(logcnt[e]) }
    let reported = try #require(layer10["gpu_load"] as? [Double])
    for g in 0..<32 { #expect(abs(reported[g] - gpuLoad[g]) <= 1e-9 * gpuLoad[g]) }
    #expect(layer10["peak"] as? Double == reported.max())
    let mean = load.reduce(0, +) / 32
    #expect(abs((layer10["mean"] as! Double) - mean) <= 1e-9 * mean)
    // The snapshot is listed.
    let list = try epbctl(["snapshots", "--json"], db: db)
    #expect(
      keysInOrder(
        list.stdout,
        [
          "snapshots", "id", "series", "created_at", "algorithm", "window", "from", "to", "replicas", "gpus", "nodes",
          "groups", "layers",
        ]))
    #expect(((list.jsonObject?["snapshots"] as? [[String: Any]])?.first?["layers"] as? Int) == 58)
  }

  @Test func dryRunStoresNothing() throws {
    let (_, db) = try dsv3Database()
    let r = try epbctl(["plan", "--series", "dsv3", "--layer", "10", "--dry-run"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("not stored"))
    #expect(try sqlite(db, "SELECT COUNT(*) FROM snapshot") == "0")
  }

  @Test func showResolvesLatestAndRefusesPastTheStart() throws {
    let (_, db) = try dsv3Database()
    for window in ["0", "1"] {
      let r = try epbctl(
        ["plan", "--series", "dsv3", "--layer", "5", "--from", window, "--to", window] + dsv3Topology, db: db)
      #expect(r.status == 0, "\(r.stderr)")
    }
    var r = try epbctl(["show", "latest~1", "--json"], db: db)
    #expect(r.status == 0)
    #expect(r.jsonObject?["id"] as? Int == 1)
    r = try epbctl(["show", "latest", "--json"], db: db)
    #expect(r.jsonObject?["id"] as? Int == 2)
    r = try epbctl(["show", "latest~2"], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("only 2 snapshot(s)"), "\(r.stderr)")
    r = try epbctl(["show", "77"], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("no snapshot has id 77"), "\(r.stderr)")
  }
}

@Suite struct DiffCommandTests {
  @Test func diffEvaluatesBothPlacementsOnTheSameLoad() throws {
    let (dir, db) = try dsv3Database()
    for window in ["0", "1"] {
      let r = try epbctl(
        ["plan", "--series", "dsv3", "--layer", "all", "--from", window, "--to", window] + dsv3Topology, db: db)
      #expect(r.status == 0, "\(r.stderr)")
    }
    let html = dir.path("diff.html")
    let r = try epbctl(["diff", "1", "2", "--json", "--html", html], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(
      keysInOrder(
        r.stdout,
        [
          "from", "to", "window", "layers", "layer", "slots_changed", "moves", "same_gpu", "same_node", "cross_node",
          "replicas_added", "replicas_removed", "peak_before", "peak_after", "peak_reduction", "balancedness_before",
          "balancedness_after", "summary", "peak_reduction_mean", "peak_reduction_max", "layers_improved",
          "layers_worsened", "slots_changed", "cross_node_moves",
        ]))
    let json = try #require(r.jsonObject)
    #expect((json["window"] as? [String: Int]) == ["from": 1, "to": 1])
    // Recompute layer 20's peaks from the two stored placements and the prefill load.
    let a = try #require(try epbctl(["show", "1", "--json"], db: db).jsonObject)
    let b = try #require(try epbctl(["show", "2", "--json"], db: db).jsonObject)
    let raw =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: prefillFile))) as! [String: Any]
    let load = (raw["logical_count"] as! [[Double]])[20]
    func peak(_ snapshot: [String: Any]) -> Double {
      let layer = (snapshot["layers"] as! [[String: Any]]).first { $0["layer"] as? Int == 20 }!
      let phy2log = layer["phy2log"] as! [Int], logcnt = layer["logcnt"] as! [Int]
      var g = Array(repeating: 0.0, count: 32)
      for (s, e) in phy2log.enumerated() { g[s / 9] += load[e] / Double(logcnt[e]) }
      return g.max()!
    }
    let layer20 = try #require((json["layers"] as? [[String: Any]])?.first { $0["layer"] as? Int == 20 })
    let before = peak(a), after = peak(b)
    #expect(abs((layer20["peak_before"] as! Double) - before) <= 1e-9 * before)
    #expect(abs((layer20["peak_after"] as! Double) - after) <= 1e-9 * after)
    #expect(abs((layer20["peak_reduction"] as! Double) - (before - after) / before) <= 1e-12)
    let page = try String(contentsOfFile: html, encoding: .utf8)
    #expect(page.contains("<svg"))
    #expect(
      !page.contains("http://")
        || !page.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
  }

  @Test func mismatchedTopologyAndBadWindowsAreRefused() throws {
    let (_, db) = try dsv3Database()
    var r = try epbctl(["plan", "--series", "dsv3", "--layer", "4"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(
      [
        "plan", "--series", "dsv3", "--layer", "4", "--replicas", "320", "--gpus", "64", "--nodes", "8", "--groups",
        "8",
      ],
      db: db)
    #expect(r.status == 0, "\(r.stderr)")
    r = try epbctl(["diff", "1", "2"], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("snapshot 1") && r.stderr.contains("snapshot 2"), "\(r.stderr)")
    r = try epbctl(["diff", "1", "1", "--from", "50", "--to", "60"], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("no stored step in 50 to 60"), "\(r.stderr)")
    r = try epbctl(["diff", "1", "latest~5"], db: db)
    #expect(r.status != 0)
    #expect(r.stderr.contains("latest~5"), "\(r.stderr)")
  }
}

@Suite struct HelpTests {
  @Test(arguments: ["ingest", "series", "loads", "plan", "algorithms", "snapshots", "show", "diff"])
  func everyCommandHasHelpWithAnExample(command: String) throws {
    let r = try CommandRunner.run(["help", command])
    #expect(r.status == 0)
    #expect(r.stdout.contains("OVERVIEW:"), "\(r.stdout)")
    #expect(r.stdout.contains("Example:"), "\(command) help has no example")
  }

  @Test func algorithmsListsBoth() throws {
    let r = try CommandRunner.run(["algorithms", "--json"])
    let names = (r.jsonObject?["algorithms"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
    #expect(names?.contains("deepseek") == true && names?.contains("eplb-divisor") == true)
    // `seed` is an alias, not a second algorithm.
    #expect(names?.contains("seed") == false)
  }

  /// `--algorithm seed` (the contract's name) still plans, as `eplb-divisor`, with the same
  /// placement; a snapshot stored under `seed` by an older epbctl still shows.
  @Test func seedIsAnAliasOfEPLBDivisor() throws {
    let (_, db) = try dsv3Database()
    func plan(_ name: String) throws -> [String: Any] {
      let r = try epbctl(
        ["plan", "--series", "dsv3", "--layer", "3", "--window", "1", "--dry-run", "--json", "--algorithm", name]
          + dsv3Topology, db: db)
      #expect(r.status == 0, "\(r.stderr)")
      return try #require(r.jsonObject)
    }
    let viaAlias = try plan("seed"), viaName = try plan("eplb-divisor")
    #expect(viaAlias["algorithm"] as? String == "eplb-divisor")
    let layers = { (j: [String: Any]) in (j["layers"] as? [[String: Any]])?.first?["phy2log"] as? [Int] }
    #expect(layers(viaAlias) != nil && layers(viaAlias) == layers(viaName))
    let deepseek = try plan("deepseek")
    #expect(layers(deepseek) != layers(viaName), "the layer does not tell the two replications apart")

    var r = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "3", "--window", "1", "--algorithm", "seed"] + dsv3Topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    _ = try sqlite(db, "UPDATE snapshot SET algorithm = 'seed'")
    r = try epbctl(["show", "latest", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.jsonObject?["algorithm"] as? String == "seed")
  }

  /// The contract's peer names and the `"default"` key (`plan`'s algorithm without --algorithm).
  @Test func algorithmsListsThePeersAndTheDefault() throws {
    let r = try CommandRunner.run(["algorithms", "--json"])
    let names = (r.jsonObject?["algorithms"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
    for peer in ["flashlb", "deepseek-vec", "snake", "swift-balancer"] { #expect(names.contains(peer), "\(peer)") }
    #expect(r.jsonObject?["default"] as? String == "robust")
  }
}

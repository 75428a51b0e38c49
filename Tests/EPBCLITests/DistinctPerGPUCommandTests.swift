import EPBTestSupport
import Foundation
import Testing

/// `plan --distinct-per-gpu` end to end: the bundled decode plan (288 slots, 32 GPUs, 4 nodes,
/// 8 groups) exports to vLLM-Ascend, `show` counts repeated slots, and an impossible request is
/// refused with nothing stored.
@Suite struct DistinctPerGPUCommandTests {
  static let topology = ["--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8"]

  /// Slots that repeat an expert already on their GPU, counted from a `phy2log` here in the test
  /// (9 slots per GPU for 288 slots on 32 GPUs).
  static func repeatedSlots(_ phy2log: [Int], perGPU: Int) -> Int {
    stride(from: 0, to: phy2log.count, by: perGPU).reduce(0) { sum, start in
      let gpu = phy2log[start..<(start + perGPU)]
      return sum + gpu.count - Set(gpu).count
    }
  }

  /// vLLM-Ascend's own checks on an expert map (`vllm_ascend/eplb`, the worker's placement
  /// check): per layer, every expert on some rank (`unique(new_placement[layer]).numel()` equals
  /// the experts), and per rank no expert twice ("Replicated experts are placed on the same
  /// NPU": `new_placement_check.numel() != torch.unique(new_placement_check).numel()`). The
  /// export of the `--distinct-per-gpu` plan passes both on all 58 MoE layers, 32 devices each.
  @Test func distinctPlanExportsToVLLMAscend() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("d.sqlite")
    #expect(try epbctl(["ingest", decodeFile, "--series", "dsv3"], db: db).status == 0)
    let plan = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "all", "--no-base", "--distinct-per-gpu", "--json"] + Self.topology,
      db: db)
    #expect(plan.status == 0, "\(plan.stderr)")
    let distinct = try #require(plan.jsonObject?["distinct_per_gpu"] as? [String: Any])
    let without = try #require(distinct["peak_sum_without"] as? Double)
    let with = try #require(distinct["peak_sum_with"] as? Double)
    let layers = try #require(plan.jsonObject?["layers"] as? [[String: Any]])
    // Σ peak with the constraint is the layers' peaks as printed.
    let peaks = layers.compactMap { $0["peak"] as? Double }
    #expect(peaks.count == 58)
    #expect(abs(peaks.reduce(0, +) - with) <= 1e-6 * with)
    #expect((distinct["layers_repaired"] as? Int ?? 0) > 0, "the seed plan repeats experts in some layers")
    #expect(without > 0)
    let file = dir.path("map.json")
    let export = try epbctl(["export", "latest", "--format", "vllm-ascend", "--output", file], db: db)
    #expect(export.status == 0, "\(export.stderr)")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
    let map = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    let layerList = try #require(map["layer_list"] as? [[String: Any]])
    #expect(layerList.count == 58)
    for layer in layerList {
      let devices = try #require(layer["device_list"] as? [[String: Any]])
      #expect(devices.count == 32)
      var placed = Set<Int>()
      for device in devices {
        let experts = try #require(device["device_expert"] as? [Int])
        #expect(experts.count == 9)
        #expect(
          Set(experts).count == experts.count, "layer \(layer["layer_id"] ?? "?") device \(device["device_id"] ?? "?")")
        placed.formUnion(experts)
      }
      #expect(placed == Set(0..<256))
    }
  }

  /// `show` counts the repeated slots of a plan made without the flag (the count checked against
  /// the test's own count from `phy2log`), and says so in the table; the flag's plan has none.
  @Test func showCountsRepeatedSlots() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("d.sqlite")
    #expect(try epbctl(["ingest", decodeFile, "--series", "dsv3"], db: db).status == 0)
    #expect(
      try epbctl(["plan", "--series", "dsv3", "--layer", "all", "--no-base"] + Self.topology, db: db).status == 0)
    let show = try epbctl(["show", "latest", "--json"], db: db)
    let layers = try #require(show.jsonObject?["layers"] as? [[String: Any]])
    var total = 0
    for layer in layers {
      let counted = Self.repeatedSlots(try #require(layer["phy2log"] as? [Int]), perGPU: 9)
      #expect(layer["duplicate_slots"] as? Int == counted)
      total += counted
    }
    #expect(total > 0, "seed's plan of the decode step repeats experts on some GPUs")
    let summary = try #require(show.jsonObject?["summary"] as? [String: Any])
    #expect(summary["duplicate_slots"] as? Int == total)
    let text = try epbctl(["show", "latest"], db: db)
    #expect(text.stdout.contains("\(total) slots repeat an expert on its GPU"), "\(text.stdout)")
    #expect(text.stdout.contains("plan with --distinct-per-gpu"))

    #expect(
      try epbctl(["plan", "--series", "dsv3", "--layer", "all", "--distinct-per-gpu"] + Self.topology, db: db).status
        == 0)
    let after = try epbctl(["show", "latest", "--json"], db: db)
    #expect((after.jsonObject?["summary"] as? [String: Any])?["duplicate_slots"] as? Int == 0)
    for layer in try #require(after.jsonObject?["layers"] as? [[String: Any]]) {
      #expect(Self.repeatedSlots(try #require(layer["phy2log"] as? [Int]), perGPU: 9) == 0)
    }
  }

  /// With a base: `--min-gain 99` keeps the base (which repeats experts) on every layer, and
  /// `--max-moves 3` moves replicas of the base; either way the stored plan repeats none.
  @Test(arguments: [["--min-gain", "99"], ["--max-moves", "3"]])
  func keptOrIncrementalBaseLayersAreRepairedToo(flags: [String]) throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("d.sqlite")
    #expect(try epbctl(["ingest", decodeFile, "--series", "dsv3"], db: db).status == 0)
    #expect(
      try epbctl(["plan", "--series", "dsv3", "--layer", "all", "--no-base"] + Self.topology, db: db).status == 0)
    let plan = try epbctl(
      ["plan", "--series", "dsv3", "--layer", "all", "--distinct-per-gpu", "--json"] + flags + Self.topology, db: db)
    #expect(plan.status == 0, "\(plan.stderr)")
    for layer in try #require(plan.jsonObject?["layers"] as? [[String: Any]]) {
      #expect(Self.repeatedSlots(try #require(layer["phy2log"] as? [Int]), perGPU: 9) == 0, "\(flags)")
    }
  }

  /// One hot expert among 16 (load 1000 against 1 each) on 32 slots of 4 GPUs: EPLB gives it 17
  /// replicas (each of the 16 extra picks goes to the largest load per replica, 1000 / 16 > 1),
  /// more than the 4 GPUs: refused with exit 1, the layer, the expert and the flag named, and
  /// no snapshot stored.
  @Test func refusesMoreReplicasThanGPUs() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("d.sqlite")
    let rows = (0..<16).map { "0,0,\($0),\($0 == 0 ? 1000 : 1)" }
    let csv = "step,layer,expert,load\n" + rows.joined(separator: "\n") + "\n"
    #expect(try epbctl(["ingest", try dir.write("hot.csv", csv), "--series", "hot"], db: db).status == 0)
    let plan = try epbctl(
      [
        "plan", "--series", "hot", "--layer", "all", "--replicas", "32", "--gpus", "4", "--nodes", "1", "--groups", "1",
        "--algorithm", "deepseek", "--distinct-per-gpu",
      ], db: db)
    #expect(plan.status == 1)
    #expect(
      plan.stderr.contains(
        "layer 0: expert 0 has 17 replicas on 4 GPUs; --distinct-per-gpu needs at most one replica per GPU"),
      "\(plan.stderr)")
    let snapshots = try epbctl(["snapshots", "--json"], db: db)
    #expect((snapshots.jsonObject?["snapshots"] as? [[String: Any]])?.count == 0, "nothing stored")
  }

  /// `backtest --distinct-per-gpu` plans under the same rule. On four identical steps (the
  /// decode file's [L][E] block four times), window 2 and horizon 2, the horizon's load is the
  /// window's, so the realized balancedness is Σ load / (GPUs × Σ peak) of the distinct plan of
  /// that load, the peaks computed here from its `phy2log` and `logcnt` (a slot carries its
  /// expert's load / replicas, 9 slots per GPU).
  @Test func backtestPlansWithTheRule() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("d.sqlite")
    let decode = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: decodeFile))) as? [String: Any])
    let block = try #require(decode["logical_count"] as? [[Double]])
    let four = dir.path("four.json")
    try JSONSerialization.data(withJSONObject: ["logical_count": [block, block, block, block]])
      .write(to: URL(fileURLWithPath: four))
    #expect(try epbctl(["ingest", four, "--series", "s"], db: db).status == 0)
    let backtestArgs =
      [
        "backtest", "--series", "s", "--window", "2", "--every", "2", "--horizon", "2", "--warmup", "2",
        "--algorithm", "seed", "--no-oracle", "--json",
      ] + Self.topology
    let with = try epbctl(backtestArgs + ["--distinct-per-gpu"], db: db)
    #expect(with.status == 0, "\(with.stderr)")
    #expect((with.jsonObject?["parameters"] as? [String: Any])?["distinct_per_gpu"] as? Bool == true)
    let realized = try #require(
      (with.jsonObject?["configs"] as? [[String: Any]])?.first?["realized_balancedness_mean"] as? Double)

    let plan = try epbctl(
      ["plan", "--series", "s", "--layer", "all", "--no-base", "--distinct-per-gpu", "--algorithm", "seed", "--json"]
        + Self.topology, db: db)
    #expect(plan.status == 0, "\(plan.stderr)")
    let layers = try #require(plan.jsonObject?["layers"] as? [[String: Any]])
    var load = 0.0
    var peaks = 0.0
    for layer in layers {
      let id = try #require(layer["layer"] as? Int)
      let phy2log = try #require(layer["phy2log"] as? [Int])
      let logcnt = try #require(layer["logcnt"] as? [Int])
      #expect(Self.repeatedSlots(phy2log, perGPU: 9) == 0)
      let slot = phy2log.map { block[id][$0] / Double(logcnt[$0]) }
      peaks += stride(from: 0, to: slot.count, by: 9).map { slot[$0..<($0 + 9)].reduce(0, +) }.max()!
      load += block[id].reduce(0, +)
    }
    #expect(abs(realized - load / (32 * peaks)) < 1e-9, "\(realized) vs \(load / (32 * peaks))")

    let without = try epbctl(backtestArgs, db: db)
    #expect((without.jsonObject?["parameters"] as? [String: Any])?["distinct_per_gpu"] as? Bool == false)
    let unconstrained = try #require(
      (without.jsonObject?["configs"] as? [[String: Any]])?.first?["realized_balancedness_mean"] as? Double)
    #expect(unconstrained != realized, "seed's own plan repeats experts, so the rule changes the plan")
  }
}

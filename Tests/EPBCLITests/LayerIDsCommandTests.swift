import EPBTestSupport
import Foundation
import Testing

/// Model layer ids end to end (issue 17): a MoE-only series of DeepSeek-V3's shape, layers 3 to 60
/// (TensorRT-LLM's `layer_idx`), ingested from a `.npy` with `--first-layer 3`.
@Suite struct LayerIDsCommandTests {
  static let topology = ["--gpus", "32", "--nodes", "4", "--groups", "8"]
  static let (steps, layers, experts) = (2, 58, 256)

  /// The load of expert `e` at position `l` (model layer `l + 3`) in step `t`: never zero, so
  /// no layer is skipped, and different per layer, so a shifted layer would show.
  static func load(_ t: Int, _ l: Int, _ e: Int) -> Int32 { Int32(1 + (e * 7 + l * 13 + t * 3) % 50) }

  static func npy() -> Data {
    var values: [Int32] = []
    for t in 0..<steps {
      for l in 0..<layers {
        for e in 0..<experts { values.append(load(t, l, e)) }
      }
    }
    return npyInt32(shape: [steps, layers, experts], values: values)
  }

  /// A database holding the series `moe` (model layers 3 to 60) and, with `replicas`, a plan of
  /// every layer.
  static func database(_ dir: TemporaryDirectory, replicas: Int? = nil) throws -> String {
    let db = dir.path("layers.sqlite")
    let file = try dir.write("moe.npy", npy())
    let ingest = try epbctl(["ingest", file, "--series", "moe", "--first-layer", "3", "--json"], db: db)
    #expect(ingest.status == 0, "\(ingest.stderr)")
    #expect((ingest.jsonObject?["files"] as? [[String: Any]])?.first?["layer_ids"] as? [Int] == Array(3...60))
    if let replicas {
      let plan = try epbctl(
        ["plan", "--series", "moe", "--layer", "all", "--replicas", "\(replicas)", "--no-base"] + topology, db: db)
      #expect(plan.status == 0, "\(plan.stderr)")
    }
    return db
  }

  @Test func seriesLoadsAndPlanSpeakModelIDs() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let series = try #require(try epbctl(["series", "--json"], db: db).jsonObject?["series"] as? [[String: Any]])
    #expect(series.first?["layers"] as? Int == 58)
    #expect(series.first?["layer_ids"] as? [Int] == Array(3...60))
    // Model layer 3 is the file's first layer: Σ over both steps of load(t, 0, e).
    let loads = try #require(try epbctl(["loads", "--series", "moe", "--layer", "3", "--json"], db: db).jsonObject)
    #expect(loads["layer"] as? Int == 3)
    let expected = (0..<Self.experts).map { e in Double(Self.load(0, 0, e) + Self.load(1, 0, e)) }
    #expect((loads["loads"] as? [Double]) == expected)
    let last = try #require(try epbctl(["loads", "--series", "moe", "--layer", "60", "--json"], db: db).jsonObject)
    #expect((last["loads"] as? [Double])?.first == Double(Self.load(0, 57, 0) + Self.load(1, 57, 0)))
    let outside = try epbctl(["loads", "--series", "moe", "--layer", "0"], db: db)
    #expect(outside.status != 0)
    #expect(
      outside.stderr.contains("series 'moe' has layers 3 to 60; --layer 0 is not one of them"), "\(outside.stderr)")
    let plan = try epbctl(
      ["plan", "--series", "moe", "--layer", "3,60", "--replicas", "288", "--dry-run", "--json"] + Self.topology, db: db
    )
    #expect(plan.status == 0, "\(plan.stderr)")
    let planned = try #require(plan.jsonObject?["layers"] as? [[String: Any]])
    #expect(planned.map { $0["layer"] as? Int } == [3, 60])
  }

  @Test func exportsUseTheEnginesLayerIDs() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir, replicas: 288)
    let show = try #require(try epbctl(["show", "latest", "--json"], db: db).jsonObject)
    let shown = try #require(show["layers"] as? [[String: Any]])
    #expect(shown.map { $0["layer"] as? Int } == Array(3...60))
    let phy2log = Dictionary(uniqueKeysWithValues: shown.map { ($0["layer"] as! Int, $0["phy2log"] as! [Int]) })

    // SGLang: `[num_hidden_layers][R]`, row k = model layer k. DeepSeek-V3 has 61 hidden
    // layers; the dense rows 0 to 2 hold what `ExpertLocationMetadata.init_trivial` gives every
    // layer, arange(num_physical_experts) % num_logical_experts.
    let sglang = try epbctl(["export", "latest", "--format", "sglang"], db: db)
    #expect(sglang.status == 0, "\(sglang.stderr)")
    let map = try #require(sglang.jsonObject?["physical_to_logical_map"] as? [[Int]])
    #expect(map.count == 61)
    let trivial = (0..<288).map { $0 % 256 }
    #expect(Array(map[0..<3]) == [trivial, trivial, trivial])
    for layer in 3...60 { #expect(map[layer] == phy2log[layer], "row \(layer)") }

    // TensorRT-LLM: `initial_global_assignments` keyed by the model's MoE layer ids, each a
    // list of `num_slots` expert ids.
    let trtllm = try epbctl(["export", "latest", "--format", "trtllm"], db: db)
    #expect(trtllm.status == 0, "\(trtllm.stderr)")
    let entries = trtllm.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }
    let keys = entries.compactMap { Int($0.dropFirst(2).prefix { $0 != ":" }) }
    #expect(keys == Array(3...60))
    let first = entries.first.map {
      $0.split(separator: "[")[1].dropLast().split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces))! }
    }
    #expect(first == phy2log[3])
    #expect(trtllm.stdout.contains("num_slots: 288\n"))
  }

  @Test(arguments: [("sglang", 288), ("trtllm", 288), ("vllm-ascend", 256)])
  func exportThenImportMovesNothing(format: String, replicas: Int) throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir, replicas: replicas)
    let file = dir.path("placement." + (format == "trtllm" ? "yaml" : "json"))
    let export = try epbctl(["export", "latest", "--format", format, "--output", file], db: db)
    #expect(export.status == 0, "\(export.stderr)")
    if format == "vllm-ascend" {
      // vLLM-Ascend numbers MoE layers by their counter: model layer 3 is layer_id 0.
      let root = try #require(
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
      #expect(root["moe_layer_count"] as? Int == 58)
      let ids = (root["layer_list"] as? [[String: Any]])?.map { $0["layer_id"] as? Int }
      #expect(ids == Array(0..<58))
    }
    let record = try epbctl(["ingest", file, "--placement", "--series", "moe"] + Self.topology, db: db)
    #expect(record.status == 0, "\(format): \(record.stderr)")
    let diff = try #require(try epbctl(["diff", "latest~1", "latest", "--no-relabel", "--json"], db: db).jsonObject)
    let summary = try #require(diff["summary"] as? [String: Any])
    #expect(summary["slots_changed"] as? Int == 0, "\(format)")
    #expect(summary["cross_node_moves"] as? Int == 0, "\(format)")
    let layers = try #require(diff["layers"] as? [[String: Any]])
    #expect(layers.map { $0["layer"] as? Int } == Array(3...60), "\(format)")
  }

  /// Placements are matched to the series' model layer ids: a SGLang map needs a row for every
  /// id up to 60, TensorRT-LLM keys must be layers of the series; nothing is stored otherwise.
  @Test func placementsThatDoNotFitTheLayerIDsAreRefused() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let trivial = (0..<288).map { String($0 % 256) }.joined(separator: ", ")
    // 58 rows: the MoE layers counted from 0, as if model layer 3 were row 0.
    let rows = Array(repeating: "[" + trivial + "]", count: 58).joined(separator: ",\n")
    let sglang = try dir.write("short.json", "{\"physical_to_logical_map\": [\n" + rows + "\n]}\n")
    let short = try epbctl(["ingest", sglang, "--placement", "--series", "moe"] + Self.topology, db: db)
    #expect(short.status != 0)
    #expect(
      short.stderr.contains(
        "the placement has 58 layers (rows are model layers 0 to 57), series 'moe' has layers 3 to 60, so it needs at least 61 rows"
      ),
      "\(short.stderr)")
    let yaml = try dir.write(
      "lb.yaml", "initial_global_assignments:\n  2: [" + trivial + "]\nnum_slots: 288\nlayer_updates_per_iter: 0\n")
    let key = try epbctl(["ingest", yaml, "--placement", "--series", "moe"] + Self.topology, db: db)
    #expect(key.status != 0)
    #expect(key.stderr.contains("layer 2 is not a layer of series 'moe' (layers 3 to 60)"), "\(key.stderr)")
    let snapshots = try epbctl(["snapshots", "--json"], db: db)
    #expect((snapshots.jsonObject?["snapshots"] as? [[String: Any]])?.isEmpty == true, "nothing stored")
  }

  @Test func aLaterInputWithOtherLayerIDsIsRefused() throws {
    let dir = try TemporaryDirectory()
    let db = try Self.database(dir)
    let file = try dir.write("again.npy", npyInt32(shape: [1, 58, 256], values: Array(repeating: 1, count: 58 * 256)))
    let plain = try epbctl(["ingest", file, "--series", "moe"], db: db)
    #expect(plain.status != 0)
    #expect(
      plain.stderr.contains(
        "\(file): the input's layers are model layers 0 to 57, the series' are 3 to 60; give the input's ids with --first-layer or --layer-ids"
      ),
      "\(plain.stderr)")
    let series = try #require(try epbctl(["series", "--json"], db: db).jsonObject?["series"] as? [[String: Any]])
    #expect(series.first?["steps"] as? Int == 2, "nothing stored")
    // The same ids as a list go in.
    let listed = try epbctl(["ingest", file, "--series", "moe", "--layer-ids", "3-60"], db: db)
    #expect(listed.status == 0, "\(listed.stderr)")
  }

  /// JSON lines on stdin: per-layer lines keep their `layer`, `--layer-ids` states the layers the
  /// first batch does not hold yet; per-step lines take `--first-layer`.
  @Test func jsonLinesStreamsTakeTheFlags() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("stream.sqlite")
    let perLayer = Data("{\"step\": 0, \"layer\": 3, \"loads\": [1, 2]}\n".utf8)
    let stated = try epbctl(
      ["ingest", "-", "--format", "jsonl", "--series", "a", "--layer-ids", "3-5", "--json"], db: db, stdin: perLayer)
    #expect(stated.status == 0, "\(stated.stderr)")
    let later = Data("{\"step\": 1, \"layer\": 5, \"loads\": [3, 4]}\n".utf8)
    #expect(try epbctl(["ingest", "-", "--format", "jsonl", "--series", "a"], db: db, stdin: later).status == 0)
    let five = try #require(try epbctl(["loads", "--series", "a", "--layer", "5", "--json"], db: db).jsonObject)
    #expect(five["loads"] as? [Double] == [3, 4])
    let perStep = Data("{\"step\": 0, \"loads\": [[1, 2], [3, 4]]}\n".utf8)
    let shifted = try epbctl(
      ["ingest", "-", "--format", "jsonl", "--series", "b", "--first-layer", "7", "--json"], db: db, stdin: perStep)
    #expect(shifted.status == 0, "\(shifted.stderr)")
    let series = try #require(try epbctl(["series", "--json"], db: db).jsonObject?["series"] as? [[String: Any]])
    #expect(series.map { $0["layer_ids"] as? [Int] } == [[3, 4, 5], [7, 8]])
    let eight = try #require(try epbctl(["loads", "--series", "b", "--layer", "8", "--json"], db: db).jsonObject)
    #expect(eight["loads"] as? [Double] == [3, 4])
  }

  @Test func layerFlagsAreChecked() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("flags.sqlite")
    let npy = try dir.write("m.npy", npyInt32(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
    // An [L][E] block of 2 layers given 3 ids.
    let count = try epbctl(["ingest", npy, "--layer-ids", "3,4,5"], db: db)
    #expect(count.status != 0)
    #expect(
      count.stderr.contains("\(npy): the input has 2 layers per step and --layer-ids gives 3 layer ids"),
      "\(count.stderr)")
    // A CSV names its layers itself.
    let csv = try dir.write("m.csv", "step,layer,expert,load\n0,4,0,1\n")
    let first = try epbctl(["ingest", csv, "--first-layer", "3"], db: db)
    #expect(first.status != 0)
    #expect(
      first.stderr.contains("\(csv): --first-layer numbers the layers of an input that holds an [L][E] block"),
      "\(first.stderr)")
    // ... but --layer-ids can state the series' layers, of which it names some.
    let stated = try epbctl(["ingest", csv, "--layer-ids", "4-6", "--series", "c", "--json"], db: db)
    #expect(stated.status == 0, "\(stated.stderr)")
    let series = try #require(try epbctl(["series", "--json"], db: db).jsonObject?["series"] as? [[String: Any]])
    #expect(series.first { $0["name"] as? String == "c" }?["layer_ids"] as? [Int] == [4, 5, 6])
    // Flag errors exit 64, before any file is read.
    for (args, message) in [
      (["--layer-ids", "5,3"], "--layer-ids must be increasing"),
      (["--layer-ids", "x"], "--layer-ids takes layer ids 0 to 4095"),
      (["--first-layer", "4096"], "--first-layer must be between 0 and 4095, got 4096"),
      (["--first-layer", "1", "--layer-ids", "1"], "--first-layer and --layer-ids both number the layers"),
      (["--placement", "--gpus", "1", "--first-layer", "3"], "a placement is matched to the series' layer ids"),
    ] {
      let r = try epbctl(["ingest", npy] + args, db: db)
      #expect(r.status == 64, "\(args)")
      #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
    }
  }
}

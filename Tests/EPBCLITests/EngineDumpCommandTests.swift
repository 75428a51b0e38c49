import EPBTestSupport
import Foundation
import Testing

/// The engines' own statistics files, read directly (issue 17): SGLang recorder `.pt` dumps and
/// TensorRT-LLM's safetensors folder. The fixtures are written by the engines' libraries
/// (`torch.save`, `safetensors.torch.save_file`) in `scripts/fixtures/make_engine_fixtures.py`,
/// which also writes `expected.json`: the values computed with numpy from the same arrays.
@Suite struct EngineDumpCommandTests {
  static let fixtures = TestFiles.directory("engines")
  static let statDump = fixtures.appendingPathComponent("expert_distribution_recorder_1764000000.5.pt").path
  static let perPass = fixtures.appendingPathComponent("perpass")
  static let trtllm = fixtures.appendingPathComponent("trtllm").path

  static func expected() throws -> [String: Any] {
    let data = try Data(contentsOf: fixtures.appendingPathComponent("expected.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  static func freshDatabase() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("engines-\(UUID().uuidString).sqlite").path
  }

  /// `loads --layer L` over `steps` from..to, as doubles.
  static func loads(_ db: String, series: String, layer: Int, from: Int, to: Int) throws -> [Double] {
    let r = try epbctl(
      ["loads", "--series", series, "--layer", String(layer), "--from", String(from), "--to", String(to), "--json"],
      db: db)
    #expect(r.status == 0, "\(r.stderr)")
    return try #require(r.jsonObject?["loads"] as? [Double])
  }

  static func seriesInfo(_ db: String, _ name: String) throws -> [String: Any] {
    let r = try epbctl(["series", "--json"], db: db)
    let list = try #require(r.jsonObject?["series"] as? [[String: Any]], "\(r.stdout)")
    return try #require(list.first { $0["name"] as? String == name })
  }

  /// A stat dump is one step, the sum of its ring buffer's rows, timed by its name.
  @Test func statDumpIsOneStepTheSumOfItsRows() throws {
    let stat = try #require(try Self.expected()["stat"] as? [String: Any])
    let sum = try #require(stat["sum"] as? [[Double]])
    let db = Self.freshDatabase()
    let r = try epbctl(["ingest", Self.statDump, "--series", "s", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let info = try Self.seriesInfo(db, "s")
    #expect(info["steps"] as? Int == 1)
    #expect(info["layer_ids"] as? [Int] == [0, 1, 2])
    for layer in 0..<3 {
      #expect(try Self.loads(db, series: "s", layer: layer, from: 0, to: 0) == sum[layer])
    }
    #expect(try sqlite(db, "SELECT time FROM step") == "1764000000.5")
  }

  /// `--rows-as-steps`: the non-zero rows (0, 2 and 4 of 5) are three steps, in file order.
  @Test func rowsAsStepsTakesTheNonZeroRowsInFileOrder() throws {
    let rows = try #require((try Self.expected()["stat"] as? [String: Any])?["rows_as_steps"] as? [[[Double]]])
    #expect(rows.count == 3)
    let db = Self.freshDatabase()
    let r = try epbctl(["ingest", Self.statDump, "--series", "s", "--rows-as-steps"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try Self.seriesInfo(db, "s")["steps"] as? Int == 3)
    for (step, row) in rows.enumerated() {
      for layer in 0..<3 {
        #expect(try Self.loads(db, series: "s", layer: layer, from: step, to: step) == row[layer])
      }
    }
  }

  /// Per-pass rank files of one dump, given together or as their folder: physical counts folded
  /// with the map, ranks summed, one step per forward pass id; the same dump again is stored.
  @Test func perPassRankFilesAreSummedPerForwardPass() throws {
    let perPass = try #require(try Self.expected()["per_pass"] as? [String: Any])
    let loads = try #require(perPass["loads"] as? [[[Double]]])
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.perPass.path).sorted()
      .map { Self.perPass.appendingPathComponent($0).path }
    #expect(files.count == 2)
    let db = Self.freshDatabase()
    let r = try epbctl(["ingest"] + files + ["--series", "p"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("last_physical_to_logical_map") && r.stderr.contains("end of the run"), "\(r.stderr)")
    for (step, expected) in loads.enumerated() {
      for layer in 0..<2 {
        #expect(try Self.loads(db, series: "p", layer: layer, from: step, to: step) == expected[layer])
      }
    }
    // The folder holds the same two files: the same content, so already stored.
    let again = try epbctl(["ingest", Self.perPass.path, "--series", "p", "--json"], db: db)
    #expect(again.status == 0, "\(again.stderr)")
    #expect((again.jsonObject?["files"] as? [[String: Any]])?.first?["status"] as? String == "already-ingested")
    let folderDB = Self.freshDatabase()
    let folder = try epbctl(["ingest", Self.perPass.path, "--series", "p"], db: folderDB)
    #expect(folder.status == 0)
    // The folder is told the same: the map is the one at the end of the run (text and --json).
    #expect(
      folder.stderr.contains("note: \(Self.perPass.path): physical slots folded")
        && folder.stderr.contains("end of the run"), "\(folder.stderr)")
    #expect(
      ((again.jsonObject?["files"] as? [[String: Any]])?.first?["note"] as? String)?.contains(
        "last_physical_to_logical_map") == true)
    #expect(try Self.loads(folderDB, series: "p", layer: 1, from: 2, to: 2) == loads[2][1])
  }

  /// TensorRT-LLM's folder: ranks summed, steps = iteration ids, layers = the model's ids.
  @Test func trtllmStatisticsFolderKeepsIterationsAndLayerIDs() throws {
    let trt = try #require(try Self.expected()["trtllm"] as? [String: Any])
    let loads = try #require(trt["loads"] as? [[[Double]]])
    let db = Self.freshDatabase()
    let r = try epbctl(["ingest", Self.trtllm, "--series", "t"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let info = try Self.seriesInfo(db, "t")
    #expect(info["layer_ids"] as? [Int] == [3, 4])
    #expect(info["first_step"] as? Int == 10 && info["last_step"] as? Int == 12, "\(info)")
    for (i, step) in [10, 11, 12].enumerated() {
      for (j, layer) in [3, 4].enumerated() {
        #expect(try Self.loads(db, series: "t", layer: layer, from: step, to: step) == loads[i][j])
      }
    }
  }

  /// Each hostile input is refused naming the file and what is wrong; nothing runs (the pickles
  /// would create /tmp/epbctl-pwned) and the database keeps exactly what it had.
  @Test(arguments: [
    ("os_system.pt", "global 'posix.system'"),
    ("builtins_eval.pt", "eval' at byte"),
    ("lying_storage_size.pt", "claims 60 elements of 4 bytes, its record has 120 bytes"),
    ("offset_past_end.pt", "past the storage's 60"),
    ("zip_bomb.pt", "is compressed"),
    ("truncated.pt", "not a readable zip archive"),
    ("directory_past_end.pt", "the zip64 end record at byte 1621 is missing"),
    ("trtllm_offsets", "outside the 32 data bytes"),
    ("trtllm_dtype", "dtype F32"),
    ("trtllm_header", "header length 1099511627776"),
  ])
  func hostileInputIsRefusedAndNothingIsStored(file: String, message: String) throws {
    let marker = "/tmp/epbctl-pwned"
    try? FileManager.default.removeItem(atPath: marker)
    let db = Self.freshDatabase()
    #expect(try epbctl(["ingest", Self.statDump, "--series", "h"], db: db).status == 0)
    let before =
      try sqlite(db, "SELECT count(*), sum(length(loads)) FROM load") + (try sqlite(db, "SELECT count(*) FROM ingest"))
    let path = Self.fixtures.appendingPathComponent("hostile").appendingPathComponent(file).path
    let r = try epbctl(["ingest", path, "--series", "h"], db: db)
    #expect(r.status == 1, "\(r.stdout)")
    #expect(r.stderr.contains(file) && r.stderr.contains(message), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: marker))
    let after =
      try sqlite(db, "SELECT count(*), sum(length(loads)) FROM load") + (try sqlite(db, "SELECT count(*) FROM ingest"))
    #expect(before == after)
  }

  /// A `.pt` placement (`physical_to_logical_map`) and a per-pass dump's
  /// `last_physical_to_logical_map` are recorded as snapshots with the fixture's map, and export
  /// then re-import gives 0 changed slots.
  @Test func ptPlacementsAreRecordedAndRoundTrip() throws {
    let phy2log = try #require((try Self.expected()["placement"] as? [String: Any])?["phy2log"] as? [[Int]])
    let db = Self.freshDatabase()
    #expect(try epbctl(["ingest", Self.perPass.path, "--series", "p"], db: db).status == 0)
    let sources = [
      Self.fixtures.appendingPathComponent("placement.pt").path,
      Self.perPass.appendingPathComponent("expert_distribution_recorder_1764000001.25_1.pt").path,
    ]
    for (i, source) in sources.enumerated() {
      let r = try epbctl(["ingest", source, "--placement", "--series", "p", "--gpus", "2", "--json"], db: db)
      #expect(r.status == 0, "\(r.stderr)")
      let layers = try #require(r.jsonObject?["layers"] as? [[String: Any]])
      #expect(layers.map { $0["phy2log"] as? [Int] } == phy2log.map { $0 }, "\(r.stdout)")
      let out = FileManager.default.temporaryDirectory.appendingPathComponent("pt-\(UUID().uuidString).json").path
      #expect(
        try epbctl(["export", String(2 * i + 1), "--series", "p", "--format", "sglang", "--output", out], db: db).status
          == 0)
      #expect(try epbctl(["ingest", out, "--placement", "--series", "p", "--gpus", "2"], db: db).status == 0)
      let diff = try epbctl(
        ["diff", String(2 * i + 1), String(2 * i + 2), "--series", "p", "--no-relabel", "--json"], db: db)
      #expect((diff.jsonObject?["summary"] as? [String: Any])?["slots_changed"] as? Int == 0, "\(diff.stdout)")
    }
  }

  /// `ingest --watch DIR` ingests a dump only once it is complete (a half-written file is not
  /// read), each dump once, and a restart finds them already stored.
  @Test(.timeLimit(.minutes(1))) func watchIngestsEachCompleteDumpOnce() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let db = Self.freshDatabase()
    let dump = try Data(contentsOf: URL(fileURLWithPath: Self.statDump))

    func start() throws -> (Process, Pipe) {
      let process = try CommandRunner.start(
        ["ingest", "--watch", dir.path, "--interval", "0.2", "--series", "w", "--db", db])
      return (process, process.standardOutput as! Pipe)
    }
    func stop(_ p: (Process, Pipe)) -> [String] {
      p.0.terminate()
      p.0.waitUntilExit()
      let text = String(decoding: p.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      return text.split(separator: "\n").map(String.init)
    }
    let first = try start()
    // Half a dump, left for several looks: it must not be read.
    let a = dir.appendingPathComponent("expert_distribution_recorder_1764000100.0.pt")
    try dump.prefix(dump.count / 2).write(to: a)
    Thread.sleep(forTimeInterval: 1.2)
    let handle = try FileHandle(forWritingTo: a)
    try handle.seekToEnd()
    try handle.write(contentsOf: dump.suffix(from: dump.count / 2))
    try handle.close()
    // A later dump with other loads (the same bytes again would be already-ingested).
    let later = Self.fixtures.appendingPathComponent("expert_distribution_recorder_1764000060.0.pt")
    try Data(contentsOf: later).write(to: dir.appendingPathComponent("expert_distribution_recorder_1764000200.0.pt"))
    var waited = 0.0
    while try sqlite(db, "SELECT count(*) FROM ingest") != "2" && waited < 20 {
      Thread.sleep(forTimeInterval: 0.2)
      waited += 0.2
    }
    Thread.sleep(forTimeInterval: 0.6)
    let lines = stop(first)
    #expect(lines.count == 2 && lines.allSatisfy { $0.contains(": ingested, 1 step") }, "\(lines)")
    #expect(lines.first?.contains("1764000100.0") == true, "\(lines)")
    #expect(try sqlite(db, "SELECT count(*) FROM step") == "2")
    // Times from the names: the half-written file was stored whole, once.
    #expect(
      try sqlite(db, "SELECT time FROM step ORDER BY step").split(separator: "\n").map { Double($0) }
        == [1_764_000_100, 1_764_000_200])

    let second = try start()
    waited = 0
    Thread.sleep(forTimeInterval: 1.5)
    let again = stop(second)
    #expect(again.count == 2 && again.allSatisfy { $0.contains("already-ingested") }, "\(again)")
    #expect(try sqlite(db, "SELECT count(*) FROM step") == "2")
  }
}

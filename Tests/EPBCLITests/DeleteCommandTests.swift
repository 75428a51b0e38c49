import EPBTestSupport
import Foundation
import Testing

private let topology = ["--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8"]

/// Stores the two bundled dumps (steps 0 and 1 of series `s`, 61 layers each) and `plans` plans.
private func seeded(plans: Int) throws -> (TemporaryDirectory, String) {
  let dir = try TemporaryDirectory()
  let db = dir.path("epb.sqlite")
  try #require(try epbctl(["ingest", decodeFile, prefillFile, "--series", "s"], db: db).status == 0)
  for _ in 0..<plans {
    let r = try epbctl(["plan", "--series", "s", "--layer", "all"] + topology, db: db)
    try #require(r.status == 0, "\(r.stderr)")
  }
  return (dir, db)
}

/// Every foreign key holds (delete and prune run with the checks off, deleting children first).
private func keysHold(_ db: String) throws -> Bool { try sqlite(db, "PRAGMA foreign_key_check").isEmpty }

/// `epbctl delete` and `epbctl prune`: atomic, with --dry-run, reports, and the default base and
/// `latest~N` still right afterwards.
@Suite struct DeleteCommandTests {
  @Test func deletingTheLatestSnapshotMovesLatestAndTheDefaultBase() throws {
    let (_, db) = try seeded(plans: 3)
    // A dry run reports and changes nothing.
    var r = try epbctl(["delete", "snapshot", "latest", "--dry-run", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect((r.jsonObject?["deleted"] as? [String: Any])?["snapshots"] as? [Int] == [3])
    #expect(r.jsonObject?["dry_run"] as? Bool == true)
    #expect(try sqlite(db, "SELECT group_concat(id) FROM snapshot") == "1,2,3")

    r = try epbctl(["delete", "snapshot", "latest", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(
      keysInOrder(r.stdout, ["dry_run", "deleted", "series", "snapshots", "ingests", "steps", "loads", "database"]))
    // Snapshot 3 was planned on 2 (the default base), not the other way round: no one unbased.
    #expect(r.jsonObject?["unbased_snapshots"] as? Int == 0)
    #expect(try sqlite(db, "SELECT group_concat(id) FROM snapshot") == "1,2")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM snapshot_layer WHERE snapshot_id = 3") == "0")
    #expect(try epbctl(["show", "latest", "--json"], db: db).jsonObject?["id"] as? Int == 2)
    #expect(try epbctl(["show", "latest~1", "--json"], db: db).jsonObject?["id"] as? Int == 1)
    // The next plan's default base is the latest remaining snapshot of the topology, and it
    // does not take the deleted snapshot's id (a script may still hold "3").
    r = try epbctl(["plan", "--series", "s", "--layer", "all"] + topology, db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try sqlite(db, "SELECT id || ' ' || base_snapshot_id FROM snapshot ORDER BY id DESC LIMIT 1") == "4 2")
    // Deleting a base: the snapshot planned on it keeps its placement and forgets the base.
    r = try epbctl(["delete", "snapshot", "2", "--json"], db: db)
    #expect(r.jsonObject?["unbased_snapshots"] as? Int == 1)
    #expect(try sqlite(db, "SELECT COUNT(*) FROM snapshot_layer WHERE snapshot_id = 4") == "58")
    #expect(try sqlite(db, "SELECT base_snapshot_id IS NULL FROM snapshot WHERE id = 4") == "1")
    #expect(try keysHold(db))
    r = try epbctl(["delete", "snapshot", "9"], db: db)
    #expect(r.status == 1)
    #expect(r.stderr.contains("no snapshot '9'"), "\(r.stderr)")
  }

  @Test func deletingAnIngestByFileOrHashRemovesItsStepsAndAllowsItAgain() throws {
    let (_, db) = try seeded(plans: 0)
    let before = try sqlite(db, ".dump")
    var r = try epbctl(["delete", "ingest", "--file", decodeFile, "--dry-run"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("would delete 1 ingest, 1 step, 61 load rows"), "\(r.stdout)")
    #expect(try sqlite(db, ".dump") == before)

    r = try epbctl(["delete", "ingest", "--file", decodeFile, "--series", "s"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    // The decode dump was step 0; the prefill dump (step 1) stays.
    #expect(try sqlite(db, "SELECT group_concat(step) FROM step") == "1")
    #expect(try sqlite(db, "SELECT COUNT(*) || ' ' || MIN(step) FROM load") == "61 1")
    #expect(try keysHold(db))
    // Its content is no longer known: ingesting it again stores it (appended after step 1).
    r = try epbctl(["ingest", decodeFile, "--series", "s", "--json"], db: db)
    #expect((r.jsonObject?["files"] as? [[String: Any]])?.first?["status"] as? String == "ingested")

    let hash = try sqlite(db, "SELECT content_sha256 FROM ingest WHERE source = '\(prefillFile)'")
    r = try epbctl(["delete", "ingest", "--hash", String(hash.prefix(12)), "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect((r.jsonObject?["deleted"] as? [String: Any])?["loads"] as? Int == 61)
    #expect(try sqlite(db, "SELECT group_concat(step) FROM step") == "2")
    r = try epbctl(["delete", "ingest", "--file", "nowhere.json"], db: db)
    #expect(r.status == 1)
    #expect(r.stderr.contains("nothing to delete: no ingest was recorded from 'nowhere.json'"), "\(r.stderr)")
  }

  @Test(.enabled(if: CLIBackend.isSQLite, "measures the SQLite file"))
  func deletingASeriesTakesEverythingAndVacuumShrinksTheFile() throws {
    let (_, db) = try seeded(plans: 2)
    try #require(try epbctl(["ingest", decodeFile, "--series", "other"], db: db).status == 0)
    let r = try epbctl(["delete", "series", "s", "--vacuum", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    let deleted = try #require(r.jsonObject?["deleted"] as? [String: Any])
    #expect(deleted["series"] as? [String] == ["s"])
    #expect(deleted["snapshots"] as? [Int] == [1, 2])
    #expect(deleted["ingests"] as? Int == 2)
    #expect(deleted["steps"] as? Int == 2)
    #expect(deleted["loads"] as? Int == 122)
    let size = try #require(r.jsonObject?["database"] as? [String: Int])
    #expect(size["bytes_after"]! < size["bytes_before"]!)
    #expect(r.jsonObject?["vacuumed"] as? Bool == true)
    // The file itself shrank to the reported size (the -wal was checkpointed and truncated).
    let onDisk = try FileManager.default.attributesOfItem(atPath: db)[.size] as? Int
    #expect(onDisk == size["bytes_after"])
    #expect(try sqlite(db, "SELECT group_concat(name) FROM series") == "other")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM load") == "61")
    #expect(try keysHold(db))
  }

  @Test func pruneKeepsTheLastStepsAndWindowsStillWork() throws {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let lines = (0..<6).map { "{\"step\":\($0),\"loads\":[[\($0),1],[2,\($0)]]}\n" }.joined()
    try #require(
      try epbctl(["ingest", "-", "--format", "jsonl", "--series", "p"], db: db, stdin: Data(lines.utf8)).status == 0)
    for _ in 0..<3 {
      try #require(
        try epbctl(
          [
            "plan", "--series", "p", "--layer", "all", "--replicas", "4", "--gpus", "2", "--nodes", "1", "--groups",
            "1",
          ], db: db
        ).status == 0)
    }
    var r = try epbctl(["prune", "--keep-last", "2", "--steps", "--json"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect((r.jsonObject?["deleted"] as? [String: Any])?["steps"] as? Int == 4)
    #expect(try sqlite(db, "SELECT group_concat(step) FROM step") == "4,5")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM snapshot") == "3")  // --steps only
    // The window over what is left: layer 0 sums steps 4 and 5: [4 + 5, 1 + 1].
    r = try epbctl(["loads", "--series", "p", "--layer", "0", "--json"], db: db)
    #expect(r.jsonObject?["loads"] as? [Double] == [9, 2])
    r = try epbctl(["prune", "--keep-last", "1", "--snapshots"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try sqlite(db, "SELECT group_concat(id) FROM snapshot") == "3")
    #expect(try epbctl(["show", "latest", "--json"], db: db).jsonObject?["id"] as? Int == 3)
    #expect(try keysHold(db))
  }

  @Test func pruneOlderThanGoesByIngestTime() throws {
    let (_, db) = try seeded(plans: 1)
    // Backdate the decode ingest (step 0) and the snapshot by a year.
    _ = try sqlite(db, "UPDATE ingest SET ingested_at = '2025-01-01T00:00:00Z' WHERE source = '\(decodeFile)'")
    _ = try sqlite(db, "UPDATE snapshot SET created_at = '2025-01-01T00:00:00Z'")
    var r = try epbctl(["prune", "--older-than", "30d", "--dry-run"], db: db)
    #expect(r.stdout.contains("would delete 1 snapshot (1), 1 ingest, 1 step, 61 load rows"), "\(r.stdout)")
    r = try epbctl(["prune", "--older-than", "30d"], db: db)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try sqlite(db, "SELECT group_concat(step) FROM step") == "1")
    #expect(try sqlite(db, "SELECT COUNT(*) FROM snapshot") == "0")
    #expect(try keysHold(db))
  }

  @Test(arguments: [
    (["prune"], "prune needs one of --keep-last N or --older-than D"),
    (["prune", "--keep-last", "0", "--older-than", "1d"], "prune needs one of"),
    (["prune", "--older-than", "7x"], "--older-than expects a duration such as 90s"),
    (["prune", "--keep-last", "-1"], "--keep-last must be between 0"),
    (["delete", "ingest"], "delete ingest needs one of --file PATH or --hash SHA"),
    (["delete", "ingest", "--hash", "xyz"], "--hash must be 8 to 64 hex digits"),
    (["delete", "snapshot"], "delete snapshot needs the snapshot ID"),
    (["delete", "everything"], "everything"),
  ])
  func badFlagsExit64(args: [String], message: String) throws {
    let dir = try TemporaryDirectory()
    let r = try epbctl(args, db: dir.path("epb.sqlite"))
    #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.path("epb.sqlite")))
  }
}

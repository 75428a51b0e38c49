import EPBTestSupport
import Foundation
import Testing

/// `epbctl copy --from SRC --to DST`: what `show`, `loads` and `series` print is the same on
/// both sides afterwards, the ingest log came along, and a refused copy leaves the destination
/// as it was.
@Suite struct CopyCommandTests {
  private let topology = ["--replicas", "288", "--gpus", "32", "--nodes", "4", "--groups", "8"]

  @Test func aCopiedHistoryReadsTheSameAndRefusesARepeat() throws {
    let dir = try TemporaryDirectory()
    let from = dir.path("from.sqlite")
    let to = dir.path("to.sqlite")
    try #require(try epbctl(["ingest", decodeFile, "--series", "decode"], db: from).status == 0)
    try #require(try epbctl(["ingest", prefillFile, "--series", "prefill"], db: from).status == 0)
    for _ in 0..<2 {
      let r = try epbctl(["plan", "--series", "decode", "--layer", "all"] + topology, db: from)
      try #require(r.status == 0, "\(r.stderr)")
    }

    var r = try CommandRunner.run(["copy", "--from", from, "--to", to, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let series = try #require(r.jsonObject?["series"] as? [[String: Any]])
    #expect(series.map { $0["name"] as? String } == ["decode", "prefill"])
    // One dump is one step of 61 layers (58 MoE layers hold loads; see Examples/README.md).
    #expect(series.map { $0["ingests"] as? Int } == [1, 1])
    #expect(series.map { $0["steps"] as? Int } == [1, 1])
    #expect(series.map { $0["snapshots"] as? Int } == [2, 0])
    #expect(series.allSatisfy { ($0["digest"] as? String)?.count == 16 })
    #expect(keysInOrder(r.stdout, ["from", "to", "series", "name", "ingests", "steps", "rows", "snapshots", "digest"]))

    for command in [["series", "--json"], ["show", "latest", "--json"], ["show", "latest~1"], ["snapshots"]] {
      let a = try epbctl(command, db: from)
      let b = try epbctl(command, db: to)
      #expect(a.status == 0 && b.status == 0, "\(command): \(a.stderr) \(b.stderr)")
      #expect(a.stdout == b.stdout, "\(command)")
    }
    // The copy's ingest log knows the file.
    r = try epbctl(["ingest", decodeFile, "--series", "decode", "--json"], db: to)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("\"already-ingested\""), "\(r.stdout)")

    // Again: the destination has both series, so nothing is copied and it is unchanged.
    let before = try epbctl(["snapshots", "--json"], db: to).stdout
    r = try CommandRunner.run(["copy", "--from", from, "--to", to])
    #expect(r.status == 1)
    #expect(r.stderr.contains("already has a series named 'decode'; nothing was copied"), "\(r.stderr)")
    #expect(try epbctl(["snapshots", "--json"], db: to).stdout == before)

    r = try CommandRunner.run(["copy", "--from", from, "--to", from])
    #expect(r.status == 64, "\(r.stderr)")
    r = try CommandRunner.run(["copy", "--from", from, "--to", dir.path("other.sqlite"), "--series", "nope"])
    #expect(r.status == 1)
    #expect(r.stderr.contains("nope"), "\(r.stderr)")
  }
}

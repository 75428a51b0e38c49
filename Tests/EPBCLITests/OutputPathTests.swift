import EPBTestSupport
import Foundation
import Testing

/// `show --html`, `diff --html`, `backtest --html` and `export --output` check their path
/// before any work and say what is wrong in plain words (issue 21).
@Suite struct OutputPathTests {
  /// A database with one small simulated series (40 steps × 2 layers × 16 experts) and two snapshots.
  static func seeded() throws -> (TemporaryDirectory, String) {
    let dir = try TemporaryDirectory()
    let db = dir.path("epb.sqlite")
    let trace = dir.path("sim.npy")
    try #require(
      try CommandRunner.run(
        ["simulate", "--output", trace, "--format", "npy", "--steps", "40", "--layers", "2", "--experts", "16"]
      ).status == 0)
    try #require(try epbctl(["ingest", trace], db: db).status == 0)
    for window in ["10", "20"] {
      let r = try epbctl(
        [
          "plan", "--layer", "all", "--replicas", "16", "--gpus", "4", "--nodes", "1", "--groups", "1", "--window",
          window,
        ],
        db: db)
      try #require(r.status == 0, "\(r.stderr)")
    }
    return (dir, db)
  }

  static let commands: [(args: [String], flag: String)] = [
    (["show", "latest", "--html"], "--html"),
    (["diff", "1", "2", "--html"], "--html"),
    (["export", "latest", "--format", "sglang", "--output"], "--output"),
    (
      [
        "backtest", "--window", "10", "--every", "10", "--horizon", "10", "--algorithm", "deepseek", "--replicas", "16",
        "--gpus", "4", "--nodes", "1", "--groups", "1", "--html",
      ], "--html"
    ),
  ]

  @Test func badOutputPathsAreRefusedBeforeTheWorkInPlainWords() throws {
    let (dir, db) = try Self.seeded()
    let file = try dir.write("plain.txt", "x")
    let cases: [(path: String, message: String)] = [
      (dir.url.path, "\(dir.url.path) is a folder; give a file name, such as \(dir.url.path)/"),
      (dir.path("missing/out.html"), "the folder \(dir.path("missing")) does not exist; create it first"),
      (file + "/out.html", "\(file) is a file, not a folder"),
    ]
    for (args, flag) in Self.commands {
      for (path, message) in cases {
        let r = try epbctl(args + [path], db: db)
        #expect(r.status == 1, "\(args) \(path): \(r.status) \(r.stderr)")
        #expect(r.stderr.contains("\(flag) \(path)"), "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain"), "\(r.stderr)")
        // Before the work: nothing printed (backtest printed its whole table, then failed).
        #expect(r.stdout.isEmpty, "\(args): \(r.stdout)")
      }
      // A good path still works, and a probe leaves no file behind when the command fails later.
      let good = dir.path("ok-\(args[0]).out")
      let r = try epbctl(args + [good], db: db)
      #expect(r.status == 0, "\(args): \(r.stderr)")
      #expect(FileManager.default.fileExists(atPath: good))
    }
  }

  /// A folder the user cannot write: root can write anywhere, so the command runs as `nobody`.
  @Test(
    .enabled(if: getuid() == 0, "runs epbctl as nobody"), .enabled(if: CLIBackend.isSQLite, "a SQLite file's folder"))
  func unwritableFolderIsNamed() throws {
    let (dir, db) = try Self.seeded()
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.url.path)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: db)
    let target = dir.path("nobody.html")
    let r = try CommandRunner.run(
      ["show", "latest", "--html", target, "--db", db],
      prefix: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
    #expect(r.status == 1)
    #expect(
      r.stderr.contains(
        "cannot write --html \(target): permission denied (check the permissions of the folder \(dir.url.path))"),
      "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: target))
  }
}

import EPBEngines
import Foundation
import GRDB
import Testing

@testable import EPBStore
@testable import EPBStorePostgres

@Suite struct MigrationsTests {
  /// The repository root, from this file's path (Tests/EPBStoreTests/…).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  @Test func generatedFileIsUpToDate() throws {
    let folder = Self.root.appendingPathComponent("migrations")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
      .sorted()
    #expect(files.map { String($0.dropLast(4)) } == SQLiteStore.knownMigrations, "run scripts/generate-migrations.sh")
    for (file, migration) in zip(files, SQLiteStore.migrations) {
      let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
      #expect(
        text.trimmingCharacters(in: .whitespacesAndNewlines)
          == migration.sql.trimmingCharacters(in: .whitespacesAndNewlines),
        "\(file) differs from the embedded copy; run scripts/generate-migrations.sh")
    }
  }

  /// The PostgreSQL schema's migrations (`migrations/postgres/`), embedded the same way.
  @Test func postgresGeneratedFileIsUpToDate() throws {
    let folder = Self.root.appendingPathComponent("migrations/postgres")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }
      .sorted()
    #expect(!files.isEmpty)
    #expect(
      files.map { String($0.dropLast(4)) } == PostgresSchema.knownMigrations, "run scripts/generate-migrations.sh")
    for (file, migration) in zip(files, PostgresSchema.migrations) {
      let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
      #expect(
        text.trimmingCharacters(in: .whitespacesAndNewlines)
          == migration.sql.trimmingCharacters(in: .whitespacesAndNewlines),
        "\(file) differs from the embedded copy; run scripts/generate-migrations.sh")
    }
  }

  @Test func migrationsAreNumberedInOrder() {
    let ids = SQLiteStore.knownMigrations
    #expect(ids == ids.sorted())
    for (i, id) in ids.enumerated() {
      #expect(id.hasPrefix(String(format: "%04d_", i + 1)))
    }
  }

  @Test func freshDatabaseHasEveryMigration() throws {
    let store = try SQLiteStore.inMemory()
    #expect(try store.appliedMigrations() == SQLiteStore.knownMigrations)
  }

  @Test func newerDatabaseIsRefusedAndLeftUntouched() throws {
    let path = try TempDir().file("newer.sqlite")
    _ = try SQLiteStore.open(path: path, create: true)
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_future')") }
    try queue.close()
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(throws: StoreError.newerSchema(path: path, unknown: ["9999_future"])) {
      try SQLiteStore.open(path: path, create: true)
    }
    let after = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(before == after)
  }

  @Test func dataSeededAtVersionOneSurvivesLaterMigrations() throws {
    let path = try TempDir().file("v1.sqlite")
    // Build a database at the first migration only, with one series and one load row.
    var migrator = DatabaseMigrator()
    let first = SQLiteStore.migrations[0]
    migrator.registerMigration(first.identifier) { db in try db.execute(sql: first.sql) }
    let queue = try DatabaseQueue(path: path)
    try migrator.migrate(queue)
    try queue.write { db in
      try db.execute(sql: "INSERT INTO series (name, layers, experts, created_at) VALUES ('old', 1, 2, 'x')")
      try db.execute(
        sql: """
          INSERT INTO ingest (series_id, source, content_sha256, format, steps, rows, total_load, ingested_at)
          VALUES (1, 'f', 'h', 'csv', 1, 1, 3, 'x')
          """)
      try db.execute(sql: "INSERT INTO step (series_id, step) VALUES (1, 0)")
      // int32 little-endian [1, 2]
      try db.execute(
        sql:
          "INSERT INTO load (series_id, step, layer, total, ingest_id, encoding, loads) VALUES (1, 0, 0, 3, 1, 1, ?)",
        arguments: [Data([1, 0, 0, 0, 2, 0, 0, 0])])
    }
    try queue.close()
    let store = try SQLiteStore.open(path: path, create: false)
    #expect(try store.appliedMigrations() == SQLiteStore.knownMigrations)
    let window = try store.windowLoad(series: "old", window: WindowSpec())
    #expect(window.loads.values == [1, 2])
  }

  @Test func corruptFileIsRefusedWithItsName() throws {
    let path = try TempDir().file("corrupt.sqlite")
    try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
    do {
      _ = try SQLiteStore.open(path: path, create: true)
      Issue.record("a corrupt file was opened")
    } catch {
      guard case .notADatabase(let p, _) = error else {
        Issue.record("unexpected error \(error)")
        return
      }
      #expect(p == path)
      #expect(error.description.contains(path))
    }
  }

  @Test func missingDatabaseIsNotCreatedByReaders() throws {
    let path = try TempDir().file("absent.sqlite")
    #expect(throws: StoreError.missingDatabase(path: path)) { try SQLiteStore.open(path: path, create: false) }
    #expect(!FileManager.default.fileExists(atPath: path))
  }
}

/// A temporary folder removed when the process ends (tests are short-lived).
struct TempDir {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("epbctl-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> String { url.appendingPathComponent(name).path }
}

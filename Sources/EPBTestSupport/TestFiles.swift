import Foundation

/// Finds the files the tests read, all inside the repository.
///
/// Test data lives under `Tests/Fixtures/` (outside every target folder, so SwiftPM does not
/// treat it as sources) and the bundled examples under `Examples/`. Paths are found from the
/// caller's `#filePath`, so the tests pass in any clone, wherever it is.
public enum TestFiles {
  /// The repository root: the nearest folder above `filePath` that holds `Package.swift`.
  ///
  /// Stops the test run with a message if there is none (a test must never pass because its
  /// input is missing).
  public static func repositoryRoot(filePath: String = #filePath) -> URL {
    var dir = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while dir.path != "/" {
      if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
        return dir
      }
      dir = dir.deletingLastPathComponent()
    }
    fatalError("no Package.swift above \(filePath): the tests must run from a checkout of the repository")
  }

  /// `<repo>/Tests/Fixtures/<name>`.
  public static func directory(_ name: String, filePath: String = #filePath) -> URL {
    repositoryRoot(filePath: filePath).appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
  }

  /// `<repo>/<relativePath>`, e.g. `Examples/sglang/prefill_in1024.json`.
  public static func repositoryFile(_ relativePath: String, filePath: String = #filePath) -> URL {
    repositoryRoot(filePath: filePath).appendingPathComponent(relativePath)
  }

  /// The bytes of `<repo>/<relativePath>`; throws (failing the test) when the file is missing.
  public static func bytes(_ relativePath: String, filePath: String = #filePath) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: repositoryFile(relativePath, filePath: filePath)))
  }
}

import Foundation

/// Runs the built `epbctl` binary as a child process, for tests that check what users see.
public struct CommandResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String

  /// stdout parsed as a JSON object (nil when it is not one).
  public var jsonObject: [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
  }
}

public enum CommandRunner {
  /// The repository root, from this file's path (Sources/EPBTestSupport/…).
  public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The `epbctl` binary next to the test bundle (SwiftPM puts products in one folder).
  public static let binary: URL = {
    var candidates: [URL] = []
    let arg0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = arg0.deletingLastPathComponent()
    for _ in 0..<4 {
      candidates.append(dir.appendingPathComponent("epbctl"))
      dir = dir.deletingLastPathComponent()
    }
    candidates.append(repositoryRoot.appendingPathComponent(".build/debug/epbctl"))
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
  }()

  /// Runs `epbctl arguments…` in `directory`, feeding `stdin`, and waits for it.
  ///
  /// - parameter environment: added to a clean environment (PATH and HOME kept; no EPBCTL_DB).
  /// - parameter prefix: a command to run epbctl under (e.g. `setpriv …`), its arguments first.
  @discardableResult
  public static func run(
    _ arguments: [String], in directory: URL? = nil, stdin: Data? = nil, environment: [String: String] = [:],
    prefix: [String] = []
  ) throws -> CommandResult {
    let process = try start(arguments, in: directory, environment: environment, prefix: prefix)
    if let stdin {
      let pipe = process.standardInput as! Pipe
      pipe.fileHandleForWriting.write(stdin)
      try pipe.fileHandleForWriting.close()
    } else {
      try (process.standardInput as! Pipe).fileHandleForWriting.close()
    }
    let (outData, errData) = readToEnd(process)
    return CommandResult(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  /// Reads a started process's stdout and stderr pipes to the end, then waits for it to exit.
  /// Both pipes are read before waiting, so a large output cannot block the child.
  static func readToEnd(_ process: Process) -> (stdout: Data, stderr: Data) {
    let outPipe = process.standardOutput as! Pipe
    let errPipe = process.standardError as! Pipe
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      errData = errPipe.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (outData, errData)
  }

  /// Starts `epbctl arguments…` without waiting; stdin, stdout and stderr are pipes.
  ///
  /// In the CLI suite's PostgreSQL pass, database paths become PostgreSQL URLs (`CLIBackend`).
  public static func start(
    _ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:], prefix: [String] = []
  ) throws -> Process {
    let (arguments, environment) = try CLIBackend.redirect(arguments, environment: environment, directory: directory)
    let process = Process()
    if prefix.isEmpty {
      process.executableURL = binary
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: prefix[0])
      process.arguments = Array(prefix.dropFirst()) + [binary.path] + arguments
    }
    var env: [String: String] = [:]
    for key in ["PATH", "HOME", "TMPDIR"] {
      if let value = ProcessInfo.processInfo.environment[key] { env[key] = value }
    }
    env.merge(environment) { $1 }
    process.environment = env
    if let directory { process.currentDirectoryURL = directory }
    process.standardInput = Pipe()
    process.standardOutput = Pipe()
    process.standardError = Pipe()
    try process.run()
    return process
  }
}

/// A temporary folder for one test.
public struct TemporaryDirectory: Sendable {
  public let url: URL

  public init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("epbctl-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// The path of `name` inside the folder.
  public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// Writes `text` to `name` and returns its path.
  @discardableResult
  public func write(_ name: String, _ text: String) throws -> String {
    try write(name, Data(text.utf8))
  }

  /// Writes `data` to `name` and returns its path.
  @discardableResult
  public func write(_ name: String, _ data: Data) throws -> String {
    let p = path(name)
    try data.write(to: URL(fileURLWithPath: p))
    return p
  }
}

import EPBEngines
import EPBReport
import Foundation

/// Writes command output: results to stdout, diagnostics to stderr.
enum Output {
  static func json(_ value: JSONValue) {
    print(value.render(pretty: true))
  }

  /// Writes `text` to the file a flag named (atomically), and says so on stderr.
  ///
  /// - throws: `CommandError` naming the flag and the file when it cannot be written.
  static func write(_ text: String, to path: String, flag: String, note: String? = nil) throws {
    try checkWritable(path, flag: flag)
    do {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw CommandError("cannot write \(flag) \(path): \(explain(errno: (error as NSError).underlyingErrno ?? EIO))")
    }
    diagnostic("wrote \(path)" + (note.map { " (\($0))" } ?? ""))
  }

  /// Throws unless a file can be written at `path`: checked before a command does its work, so
  /// that `--html DIR` or a missing folder fails at once, in plain words, not after a long run.
  ///
  /// Probes by opening the file for appending (creating it, then removing it again, when it
  /// did not exist): that answers for permissions, read-only mounts and root alike, and leaves
  /// an existing file as it was.
  ///
  /// - throws: `CommandError` naming the flag, the path and what is wrong: a folder, a missing
  ///   or non-folder parent, no permission, a read-only file system.
  static func checkWritable(_ path: String, flag: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      let example = (path as NSString).appendingPathComponent(flag == "--html" ? "report.html" : "placement.json")
      throw CommandError("\(flag) \(path) is a folder; give a file name, such as \(example)")
    }
    let parent = (path as NSString).deletingLastPathComponent
    let folder = parent.isEmpty ? "." : parent
    if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
      throw CommandError("cannot write \(flag) \(path): the folder \(folder) does not exist; create it first")
    }
    if !isDirectory.boolValue {
      throw CommandError("cannot write \(flag) \(path): \(folder) is a file, not a folder")
    }
    let existed = FileManager.default.fileExists(atPath: path)
    let fd = open(path, O_WRONLY | O_APPEND | (existed ? 0 : O_CREAT | O_EXCL), 0o644)
    if fd < 0 {
      let code = errno
      let whose = code == EACCES || code == EPERM ? (existed ? "the file" : "the folder \(folder)") : nil
      throw CommandError(
        "cannot write \(flag) \(path): \(explain(errno: code))"
          + (whose.map { " (check the permissions of \($0))" } ?? ""))
    }
    close(fd)
    if !existed { unlink(path) }
  }

  /// Plain words for the errors a file write meets.
  static func explain(errno code: Int32) -> String {
    switch code {
    case EACCES, EPERM: return "permission denied"
    case EROFS: return "the file system is read-only"
    case ENOSPC: return "the disk is full"
    case EISDIR: return "it is a folder"
    case ENOENT: return "its folder does not exist"
    case ENOTDIR: return "a part of its path is a file, not a folder"
    default: return String(cString: strerror(code))
    }
  }

  static func diagnostic(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// True when stderr is a terminal (progress bars and colour only then).
  static var stderrIsTerminal: Bool { isatty(2) == 1 }
}

/// A runtime problem found by a command itself (not a flag problem, which is a `ValidationError`).
struct CommandError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

extension NSError {
  /// The POSIX error under a Foundation file error, if any.
  var underlyingErrno: Int32? {
    if domain == NSPOSIXErrorDomain { return Int32(code) }
    return (userInfo[NSUnderlyingErrorKey] as? NSError)?.underlyingErrno
  }
}

import EPBTestSupport
import Foundation
import Testing

/// The bundled examples.
let examples = CommandRunner.repositoryRoot.appendingPathComponent("Examples")
let decodeFile = examples.appendingPathComponent("sglang/decode_in1000out1000.json").path
let prefillFile = examples.appendingPathComponent("sglang/prefill_in1024.json").path
let vllmFile = examples.appendingPathComponent("vllm_trace.json").path

/// Runs epbctl against the database `db`.
@discardableResult
func epbctl(_ args: [String], db: String, stdin: Data? = nil, environment: [String: String] = [:]) throws
  -> CommandResult
{
  try CommandRunner.run(args + ["--db", db], stdin: stdin, environment: environment)
}

/// A `.npy` v1 file of little-endian int32 values with `shape`.
func npyInt32(shape: [Int], values: [Int32]) -> Data {
  let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
  var header = "{'descr': '<i4', 'fortran_order': False, 'shape': \(shapeText), }"
  while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
  header += "\n"
  var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
  let length = UInt16(header.utf8.count)
  data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
  data.append(contentsOf: Array(header.utf8))
  for v in values {
    withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
  }
  return data
}

/// SQL on the test's database through the sqlite3 shell (installed by .ci/run), trimmed; in the
/// PostgreSQL pass (`CLIBackend`) on the database standing for `db`, through psql, with
/// SQLite's `group_concat(x)` read as `string_agg(x, ',' ORDER BY x)`.
func sqlite(_ db: String, _ sql: String) throws -> String {
  if let admin = CLIBackend.postgres {
    let url = try CLIBackend.url(for: db, admin: admin, directory: nil)
    switch sql {
    // The server enforces every foreign key on every statement (SQLite only while the pragma is
    // on), and has no file to check page by page: what the pragmas ask holds by construction.
    case "PRAGMA foreign_key_check": return ""
    case "PRAGMA integrity_check": return "ok"
    case ".dump": return try CLIBackend.dump(url)
    default: break
    }
    let portable = sql.replacing(/group_concat\((\w+)\)/) { "string_agg((\($0.1))::text, ',' ORDER BY \($0.1))" }
    return try CLIBackend.psql(url, portable)
  }
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
  process.arguments = [db, sql]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let out = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The positions of `keys` in `text` are increasing: the JSON keys come in this order.
func keysInOrder(_ text: String, _ keys: [String]) -> Bool {
  var from = text.startIndex
  for key in keys {
    guard let r = text.range(of: "\"\(key)\"", range: from..<text.endIndex) else { return false }
    from = r.upperBound
  }
  return true
}

import Foundation

/// Where a history lives, as `--db` or `$EPBCTL_DB` names it: a SQLite file (any plain path,
/// `:memory:`), or a PostgreSQL database
/// (`postgres://user[:password]@host[:port]/database[?sslmode=…]`, or `postgresql://`).
public enum StoreLocation: Sendable, Equatable {
  case sqlite(path: String)
  case postgres(PostgresLocation)

  /// Reads `text`: a `postgres://` or `postgresql://` URL is PostgreSQL, anything else a path.
  ///
  /// - parameter environment: where `PGPASSWORD`, `PGPASSFILE` and `HOME` are read, for a URL
  ///   without a password.
  /// - throws: `StoreError.badLocation` for a URL that names no user or database, has a bad
  ///   port, or an `sslmode` libpq does not know.
  public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
    throws(StoreError)
  {
    let lower = text.lowercased()
    guard lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") else {
      self = .sqlite(path: text)
      return
    }
    self = .postgres(try PostgresLocation(url: text, environment: environment))
  }
}

/// A PostgreSQL database and how to reach it, parsed from a URL as libpq reads one.
///
/// `postgres://user[:password]@host[:port]/database[?sslmode=…&host=/socket/dir]`: percent
/// escapes are decoded in every part; `host` in the query (or a host that is a path,
/// `%2Ftmp%2Fpg`) names the folder of a Unix socket instead. Without a password in the URL, it
/// comes from `PGPASSWORD`, else from the password file (`PGPASSFILE`, else `~/.pgpass`; lines
/// `host:port:database:user:password` with `*` wildcards and `\:` escapes, first match wins,
/// ignored unless only its owner can read it, as libpq does).
public struct PostgresLocation: Sendable, Equatable {
  /// TLS as libpq's `sslmode` asks for it.
  public enum SSLMode: String, Sendable, Equatable, CaseIterable {
    /// No TLS.
    case disable
    /// TLS if the server offers it, without checking its certificate (libpq's default).
    case prefer
    /// TLS or fail, without checking the certificate (as libpq's `require`).
    case require
    /// TLS, the certificate checked against the trusted roots, not the host name.
    case verifyCA = "verify-ca"
    /// TLS, the certificate and the host name checked.
    case verifyFull = "verify-full"
  }

  public var user: String
  public var password: String?
  /// The server's host name or address; nil with `socketFolder`.
  public var host: String?
  public var port: Int
  /// The folder of the server's Unix socket (`.s.PGSQL.<port>` in it), instead of TCP.
  public var socketFolder: String?
  public var database: String
  public var sslMode: SSLMode

  public init(
    user: String, password: String? = nil, host: String? = "localhost", port: Int = 5432,
    socketFolder: String? = nil, database: String, sslMode: SSLMode = .prefer
  ) {
    self.user = user
    self.password = password
    self.host = host
    self.port = port
    self.socketFolder = socketFolder
    self.database = database
    self.sslMode = sslMode
  }

  /// The URL without its password, for messages.
  public var redacted: String {
    let server = socketFolder.map { "[\($0)]" } ?? host ?? "localhost"
    return "postgres://\(user)@\(server):\(port)/\(database)"
  }

  /// Parses `url` (see the type's description).
  ///
  /// - throws: `StoreError.badLocation` naming what is wrong.
  public init(url: String, environment: [String: String]) throws(StoreError) {
    func bad(_ detail: String) -> StoreError {
      .badLocation(location: Self.redact(url), detail: detail)
    }
    guard let schemeEnd = url.range(of: "://") else { throw bad("expected postgres://user@host/database") }
    var rest = String(url[schemeEnd.upperBound...])
    var query: [String: String] = [:]
    if let q = rest.firstIndex(of: "?") {
      for pair in rest[rest.index(after: q)...].split(separator: "&") where !pair.isEmpty {
        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let key = parts[0].removingPercentEncoding,
          let value = parts[1].removingPercentEncoding
        else { throw bad("the query part '\(pair)' is not key=value") }
        query[key] = value
      }
      rest = String(rest[..<q])
    }
    guard let slash = rest.firstIndex(of: "/") else { throw bad("the URL names no database (…/database)") }
    let authority = String(rest[..<slash])
    guard let database = String(rest[rest.index(after: slash)...]).removingPercentEncoding, !database.isEmpty
    else { throw bad("the URL names no database (…/database)") }
    guard let at = authority.lastIndex(of: "@") else { throw bad("the URL names no user (postgres://user@host/…)") }
    let userInfo = authority[..<at]
    var hostPort = String(authority[authority.index(after: at)...])
    let userParts = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    guard let user = userParts[0].removingPercentEncoding, !user.isEmpty else {
      throw bad("the URL names no user (postgres://user@host/…)")
    }
    let password = userParts.count == 2 ? userParts[1].removingPercentEncoding : nil
    var port = 5432
    if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
      let text = hostPort[hostPort.index(after: colon)...]
      guard let p = Int(text), (1...65535).contains(p) else { throw bad("port '\(text)' is not in 1…65535") }
      port = p
      hostPort = String(hostPort[..<colon])
    }
    if let p = query["port"] {
      guard let value = Int(p), (1...65535).contains(value) else { throw bad("port '\(p)' is not in 1…65535") }
      port = value
    }
    var host: String? = hostPort.removingPercentEncoding.map {
      $0.hasPrefix("[") && $0.hasSuffix("]") ? String($0.dropFirst().dropLast()) : $0
    }
    if host?.isEmpty ?? true { host = "localhost" }
    var socketFolder: String?
    if let h = query["host"] ?? host, h.hasPrefix("/") {
      socketFolder = h
      host = nil
    } else if let h = query["host"] {
      host = h
    }
    var sslMode = SSLMode.prefer
    if let mode = query["sslmode"] {
      guard let m = SSLMode(rawValue: mode) else {
        throw bad(
          "sslmode '\(mode)' is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))"
            + " (allow is not supported)")
      }
      sslMode = m
    }
    if socketFolder != nil { sslMode = .disable }
    self.init(
      user: user, password: password, host: host, port: port, socketFolder: socketFolder, database: database,
      sslMode: sslMode)
    if self.password == nil {
      self.password = environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 } ?? passwordFromFile(environment)
    }
  }

  /// The first matching line of the password file, if the file exists and only its owner can
  /// read it.
  func passwordFromFile(_ environment: [String: String]) -> String? {
    let file =
      environment["PGPASSFILE"] ?? environment["HOME"].map { $0 + "/.pgpass" }
      ?? (NSHomeDirectory() + "/.pgpass")
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
      let mode = attributes[.posixPermissions] as? Int, mode & 0o077 == 0,
      let text = try? String(contentsOfFile: file, encoding: .utf8)
    else { return nil }
    return Self.password(
      inPassFile: text, host: socketFolder ?? host ?? "localhost", port: port, database: database, user: user)
  }

  /// The password of the first line of a `.pgpass` text that matches (libpq's rules: fields
  /// `host:port:database:user:password`, `*` matches anything, `\` escapes `:` and `\`, `#`
  /// starts a comment line; a socket connection matches the host `localhost`).
  public static func password(inPassFile text: String, host: String, port: Int, database: String, user: String)
    -> String?
  {
    let hostName = host.hasPrefix("/") ? "localhost" : host
    for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
      var fields: [String] = [""]
      var escaped = false
      for c in line {
        if escaped {
          fields[fields.count - 1].append(c)
          escaped = false
        } else if c == "\\" {
          escaped = true
        } else if c == ":" && fields.count < 5 {
          fields.append("")
        } else {
          fields[fields.count - 1].append(c)
        }
      }
      guard fields.count == 5 else { continue }
      let wanted = [hostName, String(port), database, user]
      if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
    }
    return nil
  }

  /// `url` with the password, if any, replaced by `***`.
  static func redact(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].firstIndex(of: "@")
    else { return url }
    let userInfo = url[schemeEnd.upperBound..<at]
    guard let colon = userInfo.firstIndex(of: ":") else { return url }
    return String(url[..<colon]) + ":***" + String(url[at...])
  }
}

/// A byte-level JSON reader specialised for objects holding nested arrays of loads.
///
/// It reads loads straight into a flat `[Double]` (no intermediate nested arrays, no `Any`),
/// skips values it is not asked for generically, and reports syntax errors with line and column.
/// The cursor borrows the bytes: it must not outlive the buffer it was made from.
struct JSONCursor {
  let base: UnsafePointer<UInt8>
  let end: Int
  var pos: Int
  let source: String
  /// For JSON lines: the 1-based line the bytes are; errors then report `.line(lineNumber)`.
  let lineNumber: Int?

  /// A cursor over `buffer`, which must not be empty.
  init(_ buffer: UnsafeRawBufferPointer, source: String, lineNumber: Int? = nil) {
    base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
    end = buffer.count
    pos = 0
    self.source = source
    self.lineNumber = lineNumber
    if end >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { pos = 3 }
  }

  // MARK: Errors

  /// A syntax error at byte `offset` (default: the cursor).
  @inline(never)
  func syntaxError(_ message: String, at offset: Int? = nil, code: ParseError.Code = .malformed) -> ParseError {
    let offset = min(offset ?? pos, end)
    if let lineNumber {
      return ParseError(
        source: source, location: .line(lineNumber), code: code,
        message: "column \(offset + 1): \(message)")
    }
    var line = 1
    var lineStart = 0
    for i in 0..<offset where base[i] == 0x0A {
      line += 1
      lineStart = i + 1
    }
    return ParseError(
      source: source, location: .position(offset: offset, line: line, column: offset - lineStart + 1),
      code: code, message: message)
  }

  /// An error about the element at `indices` (for JSON lines: reported on the line, the indices
  /// rendered after `name`).
  @inline(never)
  func elementError(_ indices: [Int], name: String, code: ParseError.Code, _ message: String) -> ParseError {
    if let lineNumber {
      let path = name + indices.map { "[\($0)]" }.joined()
      return ParseError(
        source: source, location: .line(lineNumber), code: code,
        message: path.isEmpty ? message : "\(path): \(message)")
    }
    return ParseError(
      source: source, location: indices.isEmpty ? .file : .element(indices), code: code,
      message: message)
  }

  /// Describes the byte at the cursor for "got …" messages.
  func describeCurrent() -> String {
    guard pos < end else { return "end of input" }
    let c = base[pos]
    if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
    return "byte 0x\(String(c, radix: 16))"
  }

  // MARK: Tokens

  @inline(__always)
  mutating func skipWhitespace() {
    while pos < end {
      let c = base[pos]
      if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
    }
  }

  /// The byte at the cursor after whitespace, or nil at the end.
  @inline(__always)
  mutating func peek() -> UInt8? {
    skipWhitespace()
    return pos < end ? base[pos] : nil
  }

  /// Consumes `byte` after whitespace.
  /// - throws: `ParseError.Code.malformed` naming `context` when another byte is there.
  mutating func expect(_ byte: UInt8, _ context: String) throws(ParseError) {
    skipWhitespace()
    guard pos < end, base[pos] == byte else {
      throw syntaxError("expected '\(Character(Unicode.Scalar(byte)))' \(context), got \(describeCurrent())")
    }
    pos += 1
  }

  /// Checks that only whitespace remains.
  mutating func expectEnd() throws(ParseError) {
    skipWhitespace()
    if pos < end { throw syntaxError("unexpected \(describeCurrent()) after the JSON value") }
  }

  /// Reads a string at the cursor (which must be at `"`), decoding escapes.
  mutating func readString() throws(ParseError) -> String {
    let open = pos
    pos += 1
    let start = pos
    var hasEscape = false
    while true {
      guard pos < end else { throw syntaxError("unterminated string", at: open) }
      let c = base[pos]
      if c == UInt8(ascii: "\"") { break }
      if c < 0x20 { throw syntaxError("control character in string") }
      if c == UInt8(ascii: "\\") {
        hasEscape = true
        pos += 1
        guard pos < end else { throw syntaxError("unterminated string", at: open) }
      }
      pos += 1
    }
    let raw = UnsafeBufferPointer(start: base + start, count: pos - start)
    pos += 1
    if !hasEscape { return String(decoding: raw, as: UTF8.self) }
    return try unescape(raw, at: start)
  }

  private func unescape(_ raw: UnsafeBufferPointer<UInt8>, at offset: Int) throws(ParseError) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(raw.count)
    func hex(at j: Int) throws(ParseError) -> UInt32 {
      guard j + 4 <= raw.count else { throw syntaxError("bad \\u escape", at: offset + j - 2) }
      var value: UInt32 = 0
      for k in j..<(j + 4) {
        guard let digit = Character(Unicode.Scalar(raw[k])).hexDigitValue else {
          throw syntaxError("bad \\u escape", at: offset + j - 2)
        }
        value = value * 16 + UInt32(digit)
      }
      return value
    }
    var i = 0
    while i < raw.count {
      let c = raw[i]
      if c != UInt8(ascii: "\\") {
        bytes.append(c)
        i += 1
        continue
      }
      let escaped = raw[i + 1]
      switch escaped {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escaped)
      case UInt8(ascii: "b"): bytes.append(0x08)
      case UInt8(ascii: "f"): bytes.append(0x0C)
      case UInt8(ascii: "n"): bytes.append(0x0A)
      case UInt8(ascii: "r"): bytes.append(0x0D)
      case UInt8(ascii: "t"): bytes.append(0x09)
      case UInt8(ascii: "u"):
        var value = try hex(at: i + 2)
        i += 6
        if value >= 0xD800 && value < 0xDC00, i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"),
          raw[i + 1] == UInt8(ascii: "u")
        {
          let low = try hex(at: i + 2)
          if low >= 0xDC00 && low < 0xE000 {
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            i += 6
          }
        }
        bytes.append(contentsOf: String(Unicode.Scalar(value) ?? "\u{FFFD}").utf8)
        continue
      default:
        throw syntaxError("bad escape '\\\(Character(Unicode.Scalar(escaped)))'", at: offset + i)
      }
      i += 2
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Skips one JSON value of any type, checking its syntax.
  /// - throws: `ParseError.Code.malformed` at the first syntax error.
  mutating func skipValue(depth: Int = 0) throws(ParseError) {
    guard depth < IngestLimits.maxJSONDepth else {
      throw syntaxError(
        "JSON nested more than \(IngestLimits.maxJSONDepth) levels deep; expected loads, "
          + "not deeply nested values", code: .tooLarge)
    }
    skipWhitespace()
    guard pos < end else { throw syntaxError("expected a value, got end of input") }
    switch base[pos] {
    case UInt8(ascii: "{"):
      var first = true
      pos += 1
      while try nextKey(first: &first) != nil { try skipValue(depth: depth + 1) }
    case UInt8(ascii: "["):
      var first = true
      pos += 1
      while try nextElement(first: &first) { try skipValue(depth: depth + 1) }
    case UInt8(ascii: "\""):
      _ = try readString()
    case UInt8(ascii: "t"): try skipLiteral("true")
    case UInt8(ascii: "f"): try skipLiteral("false")
    case UInt8(ascii: "n"): try skipLiteral("null")
    default: try skipNumber()
    }
  }

  private mutating func skipLiteral(_ word: String) throws(ParseError) {
    let n = word.utf8.count
    guard pos + n <= end, word.utf8.enumerated().allSatisfy({ base[pos + $0.offset] == $0.element }) else {
      throw syntaxError("expected a value, got \(describeCurrent())")
    }
    pos += n
  }

  /// Skips a number of any sign and size, checking its grammar; returns its text.
  /// - throws: `malformed` when the cursor is not at a JSON number.
  @discardableResult
  mutating func skipNumber() throws(ParseError) -> String {
    let start = pos
    var i = pos
    func digits() -> Int {
      let first = i
      while i < end, base[i] &- 48 < 10 { i += 1 }
      return i - first
    }
    if i < end, base[i] == UInt8(ascii: "-") { i += 1 }
    let intStart = i
    let intDigits = digits()
    guard intDigits > 0, !(intDigits > 1 && base[intStart] == UInt8(ascii: "0")) else {
      throw syntaxError("expected a value, got \(describeCurrent())")
    }
    if i < end, base[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() > 0 else { throw syntaxError("expected a digit after '.'", at: i) }
    }
    if i < end, base[i] | 0x20 == UInt8(ascii: "e") {
      i += 1
      if i < end, base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+") { i += 1 }
      guard digits() > 0 else { throw syntaxError("expected a digit in the exponent", at: i) }
    }
    pos = i
    return String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
  }

  /// Iterates an object's keys: call after `{` with `first = true`; returns the next key (the
  /// cursor then after its `:`), or nil after the closing `}`.
  mutating func nextKey(first: inout Bool) throws(ParseError) -> String? {
    skipWhitespace()
    guard pos < end else { throw syntaxError("expected '}' or a key, got end of input") }
    if base[pos] == UInt8(ascii: "}") {
      pos += 1
      return nil
    }
    if !first {
      guard base[pos] == UInt8(ascii: ",") else {
        throw syntaxError("expected ',' or '}' in object, got \(describeCurrent())")
      }
      pos += 1
      skipWhitespace()
    }
    first = false
    guard pos < end, base[pos] == UInt8(ascii: "\"") else {
      throw syntaxError("expected a key string, got \(describeCurrent())")
    }
    let key = try readString()
    try expect(UInt8(ascii: ":"), "after object key")
    skipWhitespace()
    return key
  }

  /// Iterates an array's elements: call after `[` with `first = true`; returns true when an
  /// element follows (the cursor at it), false after the closing `]`.
  mutating func nextElement(first: inout Bool) throws(ParseError) -> Bool {
    skipWhitespace()
    guard pos < end else { throw syntaxError("expected ']' or a value, got end of input") }
    if base[pos] == UInt8(ascii: "]") {
      pos += 1
      return false
    }
    if !first {
      guard base[pos] == UInt8(ascii: ",") else {
        throw syntaxError("expected ',' or ']' in array, got \(describeCurrent())")
      }
      pos += 1
      skipWhitespace()
      // Callers read the element's first byte at once, so the cursor never stops at the end.
      guard pos < end else { throw syntaxError("expected a value after ',' in array, got end of input") }
    }
    first = false
    return true
  }

  // MARK: Numbers

  /// Reads one load (finite, non-negative, at most 2^53) at the cursor.
  /// - throws: `invalidLoad`/`inexactLoad` at `indices` (named `name` in JSON lines).
  @inline(__always)
  mutating func readLoad(_ indices: @autoclosure () -> [Int], name: String) throws(ParseError) -> Double {
    guard pos < end else { throw syntaxError("expected a number, got end of input") }
    do {
      return try scanLoad(base, &pos, end)
    } catch {
      throw loadError(error, indices(), name: name)
    }
  }

  @inline(never)
  func loadError(_ issue: LoadIssue, _ indices: [Int], name: String) -> ParseError {
    if case .malformed = issue.kind {
      return syntaxError(issue.message(in: base), at: issue.start)
    }
    return elementError(indices, name: name, code: issue.code, issue.message(in: base))
  }

  /// Describes the JSON type of the value at the cursor, for "got …" messages.
  func describeValueType() -> String {
    guard pos < end else { return "end of input" }
    switch base[pos] {
    case UInt8(ascii: "\""): return "a string"
    case UInt8(ascii: "["): return "an array"
    case UInt8(ascii: "{"): return "an object"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
    case UInt8(ascii: "n"): return "null"
    default: return describeCurrent()
    }
  }

  /// True when the cursor is at `null` (which it then consumes).
  mutating func skipNull() -> Bool {
    guard pos + 4 <= end, base[pos] == UInt8(ascii: "n"), base[pos + 1] == UInt8(ascii: "u"),
      base[pos + 2] == UInt8(ascii: "l"), base[pos + 3] == UInt8(ascii: "l")
    else { return false }
    pos += 4
    return true
  }

  /// Reads a non-negative integer (a step or layer number) at the cursor.
  /// - throws: `invalidIndex` naming `what` at `indices` when it is negative, fractional, above
  ///   2^53 or not a number; `malformed` on bad number syntax.
  mutating func readIndex(_ what: String, at indices: [Int]) throws(ParseError) -> Int {
    let c = pos < end ? base[pos] : 0
    guard c == UInt8(ascii: "-") || c &- 48 < 10 else {
      throw elementError(
        indices, name: "", code: .invalidIndex,
        "\(what) must be a non-negative integer, got \(describeValueType())")
    }
    let text = try skipNumber()
    if text.hasPrefix("-") {
      throw elementError(
        indices, name: "", code: .invalidIndex,
        "\(what) \(text) is negative; expected a non-negative integer")
    }
    guard text.utf8.allSatisfy({ $0 &- 48 < 10 }) else {
      throw elementError(
        indices, name: "", code: .invalidIndex,
        "\(what) \(text) is not an integer; expected a non-negative integer")
    }
    guard text.utf8.count <= 16, let value = Int(text), value <= 1 << 53 else {
      throw elementError(
        indices, name: "", code: .invalidIndex,
        "\(what) \(text) is too large; expected a non-negative integer up to 2^53")
    }
    return value
  }

  /// Reads a finite number of any sign (a time in seconds) at the cursor; `null` reads as nil.
  /// - throws: `invalidIndex` when it is not a finite number; `malformed` on bad syntax.
  mutating func readTime(at indices: [Int]) throws(ParseError) -> Double? {
    if skipNull() { return nil }
    let c = pos < end ? base[pos] : 0
    guard c == UInt8(ascii: "-") || c &- 48 < 10 else {
      throw elementError(
        indices, name: "", code: .invalidIndex,
        "time must be a number of seconds, got \(describeValueType())")
    }
    let text = try skipNumber()
    guard let value = Double(text), value.isFinite else {
      throw elementError(indices, name: "", code: .invalidIndex, "time \(text) is not a finite number of seconds")
    }
    return value
  }
}

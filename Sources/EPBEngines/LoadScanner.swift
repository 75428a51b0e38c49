/// What is wrong with one load token, with the token's byte range for the message.
struct LoadIssue: Error {
  enum Kind {
    case negative
    case notFinite
    case tooLarge
    /// A JSON value of another type: the argument says which (`a string`, `null`, …).
    case notANumber(String)
    /// Not a number token at all; the argument says why.
    case malformed(String)
  }

  var kind: Kind
  /// Byte offsets of the offending token, `start..<end`.
  var start: Int
  var end: Int

  /// The message for a token whose text is `token`, without location.
  func message(token: String) -> String {
    switch kind {
    case .negative: return "load \(token) is negative; \(loadExpectation)"
    case .notFinite: return "load \(token) is not finite; \(loadExpectation)"
    case .tooLarge:
      return "load \(token) is too large to be exact; expected at most 2^53 = 9007199254740992"
    case .notANumber(let what): return "\(loadExpectation), got \(what)"
    case .malformed(let why): return "malformed number '\(token)': \(why)"
    }
  }

  /// The message for the token in `base[start..<end]`.
  func message(in base: UnsafePointer<UInt8>) -> String {
    let length = min(end - start, 60)
    let token = String(decoding: UnsafeBufferPointer(start: base + start, count: max(length, 0)), as: UTF8.self)
    return message(token: token)
  }

  var code: ParseError.Code {
    switch kind {
    case .tooLarge: return .inexactLoad
    case .malformed: return .malformed
    case .notANumber: return .invalidLoad
    case .negative, .notFinite: return .invalidLoad
    }
  }
}

/// Exact powers of ten representable in a `Double`, 10^0 ... 10^22.
private let exactPowersOfTen: [Double] = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private let twoToThe53: UInt64 = 1 << 53

@inline(__always)
private func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }

/// Scans one load written with the JSON number grammar at `base[pos]` and moves `pos` past it.
///
/// Integers of up to 19 digits are accumulated exactly (the hot path); other numbers are
/// correctly rounded (Clinger's fast path when exact, else the standard library's `strtod`).
/// `-0` reads as `0`. Letters are scanned as a token so `NaN`, `Infinity`, `-inf` report as
/// non-finite loads.
/// - throws: `LoadIssue` when the value is negative, non-finite, above 2^53, of another JSON type,
///   or not a number; `pos` is then unspecified.
@inline(__always)
func scanLoad(_ base: UnsafePointer<UInt8>, _ pos: inout Int, _ end: Int) throws(LoadIssue) -> Double {
  let start = pos
  var i = pos
  if base[i] == UInt8(ascii: "-") {
    return try scanLoadSlow(base, &pos, end)
  }
  var d = base[i] &- 48
  guard d < 10 else { throw nonNumberIssue(base, start, end) }
  var m: UInt64 = 0
  if d == 0 {
    i += 1
  } else {
    var digits = 0
    while true {
      m = m &* 10 &+ UInt64(d)
      digits += 1
      i += 1
      if i == end { break }
      d = base[i] &- 48
      if d >= 10 { break }
      if digits == 19 { return try scanLoadSlow(base, &pos, end) }
    }
  }
  if i < end {
    let c = base[i]
    if c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e") || isDigit(c) {
      return try scanLoadSlow(base, &pos, end)
    }
  }
  pos = i
  if m > twoToThe53 { throw LoadIssue(kind: .tooLarge, start: start, end: i) }
  return Double(m)
}

/// The general path of `scanLoad`: signs, fractions, exponents, long mantissas.
@inline(never)
func scanLoadSlow(_ base: UnsafePointer<UInt8>, _ pos: inout Int, _ end: Int) throws(LoadIssue) -> Double {
  let start = pos
  var i = pos
  var negative = false
  if base[i] == UInt8(ascii: "-") {
    negative = true
    i += 1
  }
  guard i < end, isDigit(base[i]) else {
    if i < end, base[i] | 0x20 >= UInt8(ascii: "a"), base[i] | 0x20 <= UInt8(ascii: "z") {
      throw nonNumberIssue(base, start, end)
    }
    throw LoadIssue(kind: .malformed("expected a digit"), start: start, end: min(i + 1, end))
  }
  var mantissa: UInt64 = 0
  var significant = 0
  var exponent = 0
  var truncated = false
  if base[i] == UInt8(ascii: "0") {
    i += 1
    if i < end, isDigit(base[i]) {
      throw LoadIssue(kind: .malformed("leading zeros are not allowed"), start: start, end: tokenEnd(base, i, end))
    }
  } else {
    while i < end, isDigit(base[i]) {
      let d = UInt64(base[i] &- 48)
      if significant < 19 {
        mantissa = mantissa * 10 + d
        significant += 1
      } else {
        exponent += 1
        if d != 0 { truncated = true }
      }
      i += 1
    }
  }
  if i < end, base[i] == UInt8(ascii: ".") {
    i += 1
    guard i < end, isDigit(base[i]) else {
      throw LoadIssue(kind: .malformed("expected a digit after '.'"), start: start, end: tokenEnd(base, i, end))
    }
    while i < end, isDigit(base[i]) {
      let d = UInt64(base[i] &- 48)
      if mantissa == 0 && d == 0 {
        exponent -= 1
      } else if significant < 19 {
        mantissa = mantissa * 10 + d
        significant += 1
        exponent -= 1
      } else if d != 0 {
        truncated = true
      }
      i += 1
    }
  }
  if i < end, base[i] | 0x20 == UInt8(ascii: "e") {
    i += 1
    var exponentNegative = false
    if i < end, base[i] == UInt8(ascii: "-") || base[i] == UInt8(ascii: "+") {
      exponentNegative = base[i] == UInt8(ascii: "-")
      i += 1
    }
    guard i < end, isDigit(base[i]) else {
      throw LoadIssue(kind: .malformed("expected a digit in the exponent"), start: start, end: tokenEnd(base, i, end))
    }
    var e = 0
    while i < end, isDigit(base[i]) {
      if e < 100_000 { e = e * 10 + Int(base[i] &- 48) }
      i += 1
    }
    exponent += exponentNegative ? -e : e
  }
  pos = i
  if mantissa == 0 { return 0 }
  if negative { throw LoadIssue(kind: .negative, start: start, end: i) }
  if !truncated {
    while exponent < 0 && mantissa % 10 == 0 {
      mantissa /= 10
      exponent += 1
    }
    if exponent == 0 {
      if mantissa > twoToThe53 { throw LoadIssue(kind: .tooLarge, start: start, end: i) }
      return Double(mantissa)
    }
    if mantissa <= twoToThe53 && exponent > 0 && exponent <= 22 {
      let value = Double(mantissa) * exactPowersOfTen[exponent]
      if value > Double(twoToThe53) { throw LoadIssue(kind: .tooLarge, start: start, end: i) }
      return value
    }
    if mantissa <= twoToThe53 && exponent < 0 && exponent >= -22 {
      return Double(mantissa) / exactPowersOfTen[-exponent]
    }
  }
  let text = String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
  let value = Double(text) ?? .infinity
  if !value.isFinite { throw LoadIssue(kind: .notFinite, start: start, end: i) }
  if value > Double(twoToThe53) { throw LoadIssue(kind: .tooLarge, start: start, end: i) }
  return value
}

/// The end of a run of characters that could belong to a number or word token, from `i`.
private func tokenEnd(_ base: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
  var j = i
  while j < end {
    let c = base[j]
    let lower = c | 0x20
    if isDigit(c) || (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || c == UInt8(ascii: ".")
      || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
    {
      j += 1
    } else {
      break
    }
  }
  return max(j, min(i + 1, end))
}

/// Classifies a token that does not start with a digit.
@inline(never)
private func nonNumberIssue(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> LoadIssue {
  let tokenEnd = tokenEnd(base, start, end)
  let token = String(decoding: UnsafeBufferPointer(start: base + start, count: tokenEnd - start), as: UTF8.self)
  var word = token.lowercased()
  if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
  if ["nan", "inf", "infinity"].contains(word) {
    return LoadIssue(kind: .notFinite, start: start, end: tokenEnd)
  }
  switch base[start] {
  case UInt8(ascii: "\""): return LoadIssue(kind: .notANumber("a string"), start: start, end: start + 1)
  case UInt8(ascii: "["): return LoadIssue(kind: .notANumber("an array"), start: start, end: start + 1)
  case UInt8(ascii: "{"): return LoadIssue(kind: .notANumber("an object"), start: start, end: start + 1)
  default: break
  }
  if token == "null" || token == "true" || token == "false" {
    return LoadIssue(kind: .notANumber(token), start: start, end: tokenEnd)
  }
  return LoadIssue(kind: .notANumber("'\(token)'"), start: start, end: tokenEnd)
}

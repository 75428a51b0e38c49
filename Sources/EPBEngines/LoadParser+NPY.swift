extension LoadParser {
  /// Parses a NumPy `.npy` file (format versions 1, 2 and 3) of shape `[T, L, E]` or `[L, E]`.
  ///
  /// Supported dtypes: signed and unsigned integers of 1, 2, 4 and 8 bytes and floats of 2, 4
  /// and 8 bytes, little- or big-endian (big-endian is byte-swapped), in C or Fortran order
  /// (Fortran order is transposed). Steps are relative, `layers = L`.
  /// - throws: `ParseError`: `malformed` for a bad magic or header literal (at `.byteOffset`),
  ///   `missingKey` for a header without `descr`, `fortran_order` or `shape`, `unsupportedDType`
  ///   for bool, complex, object, string, datetime and structured dtypes, `wrongShape` for other
  ///   ranks, `empty` for a zero-sized array, `truncated` when the data is shorter than the shape
  ///   needs (and `malformed` when longer), `invalidLoad`/`inexactLoad` at `.element`.
  static func parseNPY(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) -> LoadBatch {
    let header = try NPYHeader(bytes, source: source)
    let shape = header.shape
    func fail(_ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: .file, code: code, message: message)
    }
    let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    guard shape.count == 2 || shape.count == 3 else {
      throw fail(.wrongShape, "array has shape \(shapeText); expected [T, L, E] or [L, E]")
    }
    var count = 1
    for dimension in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow else {
        throw fail(
          .tooLarge,
          "shape \(shapeText) holds more loads than epbctl accepts (at most "
            + "\(IngestLimits.maxLoads) per file)")
      }
      count = product
    }
    guard count > 0 else { throw fail(.empty, "array of shape \(shapeText) holds no loads") }
    // Limits before anything is allocated: the header alone decides them.
    guard count <= IngestLimits.maxLoads else {
      throw fail(
        .tooLarge,
        "shape \(shapeText) holds \(count) loads; epbctl accepts at most "
          + "\(IngestLimits.maxLoads) per file: split it into several files")
    }
    guard shape[shape.count - 2] <= IngestLimits.maxLayers, shape[shape.count - 1] <= IngestLimits.maxExperts else {
      throw fail(
        .tooLarge,
        "shape \(shapeText) has more than \(IngestLimits.maxLayers) layers or "
          + "\(IngestLimits.maxExperts) experts, the most epbctl accepts")
    }
    let (needed, overflow) = count.multipliedReportingOverflow(by: header.itemSize)
    let present = bytes.count - header.dataOffset
    guard !overflow, present >= needed else {
      throw fail(
        .truncated,
        "data is truncated: shape \(shapeText) of \(header.descr) needs \(needed) bytes "
          + "after the \(header.dataOffset)-byte header, but \(present) are present")
    }
    guard present == needed else {
      throw fail(
        .malformed,
        "\(present - needed) unexpected bytes after the data of shape \(shapeText) "
          + "(\(needed) bytes of \(header.descr))")
    }
    let data = bytes.baseAddress! + header.dataOffset
    var values = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
      header.convert(data, count: count, into: buffer.baseAddress!)
      initialized = count
    }
    // `badIndex` is in storage order; map it to the C-order element index for the message.
    func elementIndex(_ storageIndex: Int) -> [Int] {
      var rest = storageIndex
      var index = [Int](repeating: 0, count: shape.count)
      let axes = header.fortranOrder ? Array(shape.indices) : shape.indices.reversed()
      for axis in axes {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
      }
      return index
    }
    if let bad = header.firstInvalid(data, values, count: count) {
      let value = header.describe(data, at: bad)
      let location = ParseError.Location.element(elementIndex(bad))
      if (values[bad].isFinite && values[bad] > maxExactLoad) || header.exceedsExact(data, at: bad) {
        throw ParseError(
          source: source, location: location, code: .inexactLoad,
          message: "load \(value) is too large to be exact; expected at most 2^53 = 9007199254740992")
      }
      let problem = values[bad].isFinite ? "is negative" : "is not finite"
      throw ParseError(
        source: source, location: location, code: .invalidLoad,
        message: "load \(value) \(problem); \(loadExpectation)")
    }
    if header.fortranOrder && shape.count > 1 { values = transposeFortran(values, shape: shape) }

    let experts = shape[shape.count - 1]
    let layers = shape[shape.count - 2]
    let steps = shape.count == 3 ? shape[0] : 1
    var rows: [LoadRow] = []
    rows.reserveCapacity(steps * layers)
    for step in 0..<steps {
      for layer in 0..<layers { rows.append(LoadRow(step: step, layer: layer)) }
    }
    return LoadBatch(layers: layers, experts: experts, rows: rows, values: values, stepsAreRelative: true)
  }

  /// Reorders column-major `values` of `shape` into row-major order.
  private static func transposeFortran(_ values: [Double], shape: [Int]) -> [Double] {
    var out = [Double](repeating: 0, count: values.count)
    if shape.count == 2 {
      let (rows, columns) = (shape[0], shape[1])
      for r in 0..<rows {
        for c in 0..<columns { out[r * columns + c] = values[r + rows * c] }
      }
    } else {
      let (d0, d1, d2) = (shape[0], shape[1], shape[2])
      for i in 0..<d0 {
        for j in 0..<d1 {
          for k in 0..<d2 { out[(i * d1 + j) * d2 + k] = values[i + d0 * (j + d1 * k)] }
        }
      }
    }
    return out
  }
}

/// A parsed `.npy` header: dtype, order, shape and where the data starts.
struct NPYHeader {
  enum Kind { case signed, unsigned, float }

  var descr: String
  var kind: Kind
  var itemSize: Int
  var bigEndian: Bool
  var fortranOrder: Bool
  var shape: [Int]
  var dataOffset: Int

  /// Reads the magic, version, header length and the header's Python dict literal.
  /// - throws: `ParseError` as `LoadParser.parseNPY` documents.
  init(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) {
    func fail(_ offset: Int, _ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: .byteOffset(offset), code: code, message: message)
    }
    let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    guard bytes.count >= 6, Array(bytes[0..<6]) == magic else {
      throw fail(0, .malformed, "not a .npy file: expected the magic \\x93NUMPY")
    }
    guard bytes.count >= 10 else {
      throw fail(6, .truncated, "header is truncated: expected at least 10 bytes, got \(bytes.count)")
    }
    let major = bytes[6]
    let headerStart: Int
    let headerLength: Int
    switch major {
    case 1:
      headerStart = 10
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
    case 2, 3:
      guard bytes.count >= 12 else {
        throw fail(6, .truncated, "header is truncated: expected at least 12 bytes, got \(bytes.count)")
      }
      headerStart = 12
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
    default:
      throw fail(6, .malformed, "unsupported .npy format version \(major).\(bytes[7]); expected 1, 2 or 3")
    }
    guard bytes.count >= headerStart + headerLength else {
      throw fail(
        headerStart, .truncated,
        "header is truncated: expected \(headerLength) bytes, "
          + "got \(bytes.count - headerStart)")
    }
    dataOffset = headerStart + headerLength
    let text = String(decoding: bytes[headerStart..<dataOffset], as: UTF8.self)
    var literal = PythonLiteralReader(text: Array(text.unicodeScalars), offset: headerStart)
    let dict: [String: PythonLiteralReader.Value]
    do {
      dict = try literal.readDict()
    } catch {
      throw fail(error.offset, .malformed, "bad .npy header \(text.prefix(120).debugDescription): \(error.message)")
    }
    guard case .string(let descr)? = dict["descr"] else {
      if case .list? = dict["descr"] {
        throw fail(headerStart, .unsupportedDType, "structured dtypes are not supported; expected a numeric array")
      }
      throw fail(headerStart, .missingKey, "header has no descr string")
    }
    guard case .bool(let fortran)? = dict["fortran_order"] else {
      throw fail(headerStart, .missingKey, "header has no fortran_order True/False")
    }
    guard case .tuple(let shape)? = dict["shape"] else {
      throw fail(headerStart, .missingKey, "header has no shape tuple")
    }
    self.descr = descr
    self.fortranOrder = fortran
    self.shape = shape

    let scalars = Array(descr.unicodeScalars)
    guard scalars.count >= 2 else { throw fail(headerStart, .unsupportedDType, "unknown dtype '\(descr)'") }
    var order = "|" as Unicode.Scalar
    var rest = scalars[...]
    if "<>|=".unicodeScalars.contains(scalars[0]) {
      order = scalars[0]
      rest = scalars.dropFirst()
    }
    let kindCode = rest.first!
    let size = Int(String(String.UnicodeScalarView(rest.dropFirst()))) ?? 0
    let numeric = "supported dtypes are int8-64, uint8-64, float16-64; save the loads with .astype(np.int64)"
    switch (kindCode, size) {
    case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
    case ("u", 1), ("u", 2), ("u", 4), ("u", 8): kind = .unsigned
    case ("f", 2), ("f", 4), ("f", 8): kind = .float
    case ("b", _), ("?", _):
      throw fail(headerStart, .unsupportedDType, "bool dtype '\(descr)' cannot hold loads; \(numeric)")
    case ("c", _): throw fail(headerStart, .unsupportedDType, "complex dtype '\(descr)' is not supported; \(numeric)")
    case ("O", _):
      throw fail(
        headerStart, .unsupportedDType,
        "object dtype '\(descr)' (pickled Python objects) is not supported; \(numeric)")
    case ("S", _), ("U", _), ("a", _):
      throw fail(headerStart, .unsupportedDType, "string dtype '\(descr)' is not supported; \(numeric)")
    case ("M", _), ("m", _):
      throw fail(headerStart, .unsupportedDType, "datetime dtype '\(descr)' is not supported; \(numeric)")
    case ("V", _): throw fail(headerStart, .unsupportedDType, "void dtype '\(descr)' is not supported; \(numeric)")
    default: throw fail(headerStart, .unsupportedDType, "dtype '\(descr)' is not supported; \(numeric)")
    }
    itemSize = size
    bigEndian = order == ">"
  }

  /// Converts `count` items at `data` (storage order) into doubles, byte-swapping big-endian data.
  func convert(_ data: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Double>) {
    switch (kind, itemSize) {
    case (.signed, 1): convertIntegers(Int8.self, data, count, out)
    case (.signed, 2): convertIntegers(Int16.self, data, count, out)
    case (.signed, 4): convertIntegers(Int32.self, data, count, out)
    case (.signed, 8): convertIntegers(Int64.self, data, count, out)
    case (.unsigned, 1): convertIntegers(UInt8.self, data, count, out)
    case (.unsigned, 2): convertIntegers(UInt16.self, data, count, out)
    case (.unsigned, 4): convertIntegers(UInt32.self, data, count, out)
    case (.unsigned, 8): convertIntegers(UInt64.self, data, count, out)
    case (.float, 2):
      for i in 0..<count { out[i] = halfToDouble(load(UInt16.self, data, i)) + 0 }
    case (.float, 4):
      for i in 0..<count { out[i] = Double(Float(bitPattern: load(UInt32.self, data, i))) + 0 }
    default:
      for i in 0..<count { out[i] = Double(bitPattern: load(UInt64.self, data, i)) + 0 }
    }
  }

  @inline(__always)
  private func load<T: FixedWidthInteger>(_ type: T.Type, _ data: UnsafeRawPointer, _ i: Int) -> T {
    let raw = data.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)
    return bigEndian ? T(bigEndian: raw) : T(littleEndian: raw)
  }

  private func convertIntegers<T: FixedWidthInteger>(
    _ type: T.Type, _ data: UnsafeRawPointer, _ count: Int, _ out: UnsafeMutablePointer<Double>
  ) {
    let size = MemoryLayout<T>.size
    if bigEndian {
      for i in 0..<count { out[i] = Double(T(bigEndian: data.loadUnaligned(fromByteOffset: i * size, as: T.self))) }
    } else {
      for i in 0..<count { out[i] = Double(T(littleEndian: data.loadUnaligned(fromByteOffset: i * size, as: T.self))) }
    }
  }

  /// The storage index of the first load that is negative, non-finite or above 2^53, or nil.
  func firstInvalid(_ data: UnsafeRawPointer, _ values: [Double], count: Int) -> Int? {
    if itemSize == 8 && kind != .float {
      // Doubles round 2^53 + 1 down to 2^53; check the integers themselves.
      for i in 0..<count where exceedsExact(data, at: i) || values[i] < 0 { return i }
      return nil
    }
    var ok = true
    values.withUnsafeBufferPointer { buffer in
      for v in buffer { ok = ok && (v >= 0 && v <= maxExactLoad) }
    }
    if ok { return nil }
    return values.firstIndex { !($0 >= 0 && $0 <= maxExactLoad) }
  }

  /// Whether the 64-bit integer at storage index `i` is above 2^53.
  func exceedsExact(_ data: UnsafeRawPointer, at i: Int) -> Bool {
    guard itemSize == 8 else { return false }
    switch kind {
    case .signed: return load(Int64.self, data, i) > 1 << 53
    case .unsigned: return load(UInt64.self, data, i) > 1 << 53
    case .float: return false
    }
  }

  /// The item at storage index `i` as text, exactly as stored.
  func describe(_ data: UnsafeRawPointer, at i: Int) -> String {
    switch (kind, itemSize) {
    case (.signed, 8): return String(load(Int64.self, data, i))
    case (.unsigned, 8): return String(load(UInt64.self, data, i))
    case (.float, 2): return describeLoad(halfToDouble(load(UInt16.self, data, i)))
    case (.float, 4): return describeLoad(Double(Float(bitPattern: load(UInt32.self, data, i))))
    case (.float, _): return describeLoad(Double(bitPattern: load(UInt64.self, data, i)))
    default:
      var value = 0.0
      convert(data + i * itemSize, count: 1, into: &value)
      return describeLoad(value)
    }
  }
}

/// Converts IEEE 754 binary16 bits to a `Double` (portable: `Float16` is not on every platform).
func halfToDouble(_ bits: UInt16) -> Double {
  let sign = (bits & 0x8000) != 0 ? -1.0 : 1.0
  let exponent = Int((bits >> 10) & 0x1F)
  let fraction = Double(bits & 0x3FF)
  switch exponent {
  case 0: return sign * fraction * 0x1p-24
  case 31: return fraction == 0 ? sign * .infinity : .nan
  default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
  }
}

/// Reads the Python dict literal of a `.npy` header: strings, `True`/`False`, integers, tuples
/// of integers, and lists (only to recognise structured dtypes).
struct PythonLiteralReader {
  enum Value {
    case string(String)
    case bool(Bool)
    case int(Int)
    case tuple([Int])
    case list
  }

  struct Failure: Error {
    var offset: Int
    var message: String
  }

  let text: [Unicode.Scalar]
  /// The byte offset of `text` in the file, for messages (the header is ASCII in practice).
  let offset: Int
  var i = 0

  init(text: [Unicode.Scalar], offset: Int) {
    self.text = text
    self.offset = offset
  }

  func failure(_ message: String) -> Failure { Failure(offset: offset + i, message: message) }

  mutating func skipSpace() {
    while i < text.count && (text[i] == " " || text[i] == "\n" || text[i] == "\t" || text[i] == "\r") { i += 1 }
  }

  mutating func expect(_ c: Unicode.Scalar) throws(Failure) {
    skipSpace()
    guard i < text.count, text[i] == c else { throw failure("expected '\(c)'") }
    i += 1
  }

  mutating func readDict() throws(Failure) -> [String: Value] {
    try expect("{")
    var dict: [String: Value] = [:]
    while true {
      skipSpace()
      if i < text.count && text[i] == "}" { break }
      guard case .string(let key) = try readValue() else { throw failure("expected a string key") }
      try expect(":")
      dict[key] = try readValue()
      skipSpace()
      if i < text.count && text[i] == "," {
        i += 1
        continue
      }
      skipSpace()
      guard i < text.count, text[i] == "}" else { throw failure("expected ',' or '}'") }
    }
    i += 1
    return dict
  }

  mutating func readValue() throws(Failure) -> Value {
    skipSpace()
    guard i < text.count else { throw failure("expected a value") }
    let c = text[i]
    if c == "'" || c == "\"" {
      i += 1
      let start = i
      while i < text.count && text[i] != c { i += 1 }
      guard i < text.count else { throw failure("unterminated string") }
      i += 1
      return .string(String(String.UnicodeScalarView(text[start..<(i - 1)])))
    }
    if c == "(" || c == "[" {
      let close: Unicode.Scalar = c == "(" ? ")" : "]"
      i += 1
      var items: [Int] = []
      var isList = c == "["
      while true {
        skipSpace()
        if i < text.count && text[i] == close { break }
        switch try readValue() {
        case .int(let n): items.append(n)
        default: isList = true
        }
        skipSpace()
        if i < text.count && text[i] == "," {
          i += 1
        } else if !(i < text.count && text[i] == close) {
          throw failure("expected ',' or '\(close)'")
        }
      }
      i += 1
      return isList ? .list : .tuple(items)
    }
    let start = i
    while i < text.count
      && (text[i].properties.isAlphabetic || ("0"..."9").contains(text[i]) || text[i] == "_"
        || text[i] == "-")
    {
      i += 1
    }
    let word = String(String.UnicodeScalarView(text[start..<i]))
    if word == "True" { return .bool(true) }
    if word == "False" { return .bool(false) }
    var digits = Substring(word)
    if digits.hasSuffix("L") { digits.removeLast() }
    if let n = Int(digits), n >= 0 { return .int(n) }
    i = start
    throw failure("unexpected '\(word.isEmpty ? String(c) : word)'")
  }
}

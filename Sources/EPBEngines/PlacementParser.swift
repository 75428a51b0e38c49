import EPBPlanner

/// A placement read back from a serving engine's file: one `LayerPlacement` per layer.
public struct PlacementBatch: Sendable, Equatable {
  /// Layers in the file (`L`); `placements[l]` is layer `l`.
  public var layers: Int
  /// Logical experts per layer (`E`): as given, or the largest id + 1.
  public var experts: Int
  /// Physical slots per layer (`R`).
  public var replicas: Int
  /// `[L]`, each with `phy2log [R]` and `logcnt [E]`.
  public var placements: [LayerPlacement]

  public init(layers: Int, experts: Int, replicas: Int, placements: [LayerPlacement]) {
    self.layers = layers
    self.experts = experts
    self.replicas = replicas
    self.placements = placements
  }
}

/// Reads a placement in SGLang's `--init-expert-location` form, so a running placement can be
/// recorded as a snapshot (`epbctl ingest --placement FILE`).
public enum PlacementParser {
  /// Parses `{"physical_to_logical_map": [[R ints] per layer]}` (other keys are ignored), the
  /// JSON that SGLang reads into `ExpertLocationMetadata.init_by_mapping` and `epbctl export
  /// --format sglang` writes.
  ///
  /// - parameter experts: the series' logical expert count; nil infers it as the largest expert
  ///   id + 1 over all layers (then an expert above every id in the file cannot be detected as
  ///   missing: pass the count when known).
  /// - returns: `L` placements in file order, layer `l` for row `l`.
  /// - throws: `ParseError` with `source` and, where it applies, `.element([l])` or
  ///   `.element([l, r])`: `missingKey` without (or with two) `physical_to_logical_map`;
  ///   `wrongShape` when it is not a `[L][R]` array of arrays (or a row is not an array);
  ///   `empty` for `[]` or an empty row; `ragged` when a row's length differs from the first;
  ///   `invalidIndex` for an id that is negative, fractional, not a number, or not below `experts`;
  ///   `missingExpert` when a layer has no replica of some expert `0..<E`; `malformed` for JSON
  ///   syntax errors (with line and column).
  public static func parseSGLang(_ bytes: [UInt8], source: String, experts: Int? = nil) throws(ParseError)
    -> PlacementBatch
  {
    if bytes.isEmpty || bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
      throw ParseError(source: source, location: .file, code: .empty, message: "file is empty; expected a placement")
    }
    let result = bytes.withUnsafeBytes { raw in
      Result { () throws(ParseError) -> PlacementBatch in try parseSGLang(raw, source: source, experts: experts) }
    }
    return try result.get()
  }

  /// `parseSGLang(_:source:experts:)` on a buffer, which must not be empty.
  static func parseSGLang(_ bytes: UnsafeRawBufferPointer, source: String, experts: Int?) throws(ParseError)
    -> PlacementBatch
  {
    let key = "physical_to_logical_map"
    var cursor = JSONCursor(bytes, source: source)
    guard cursor.peek() == UInt8(ascii: "{") else {
      throw cursor.syntaxError(
        "expected a JSON object with key \(key), got \(cursor.describeValueType())",
        code: .wrongShape)
    }
    cursor.pos += 1
    var rows: [[Int]]? = nil
    var first = true
    while let name = try cursor.nextKey(first: &first) {
      guard name == key else {
        try cursor.skipValue()
        continue
      }
      if rows != nil { throw cursor.syntaxError("key \(key) appears twice", code: .missingKey) }
      rows = try readMap(&cursor, key: key)
    }
    try cursor.expectEnd()
    guard let rows else {
      throw ParseError(
        source: source, location: .file, code: .missingKey,
        message: "no key \(key); expected SGLang's {\"\(key)\": [[…R]…L]} "
          + "(a file with logical_count holds loads: ingest it without --placement)")
    }
    return try batch(rows: rows, source: source, experts: experts)
  }

  /// The placements of `rows` (`[L][R]` logical expert ids), validated: ids below `experts`
  /// (or `IngestLimits.maxExperts`), every expert with a replica in every layer.
  static func batch(rows: [[Int]], source: String, experts: Int?) throws(ParseError) -> PlacementBatch {
    // An id beyond the limit would size every layer's logcnt: refuse it before allocating.
    for (l, row) in rows.enumerated() {
      if let r = row.firstIndex(where: { $0 >= IngestLimits.maxExperts }) {
        throw ParseError(
          source: source, location: .element([l, r]), code: .tooLarge,
          message: "expert \(row[r]) is too large; epbctl accepts expert ids below "
            + "\(IngestLimits.maxExperts)")
      }
    }
    let maxID = rows.lazy.flatMap { $0 }.max() ?? -1
    let count = experts ?? (maxID + 1)
    var placements: [LayerPlacement] = []
    placements.reserveCapacity(rows.count)
    for (l, row) in rows.enumerated() {
      var logcnt = [Int](repeating: 0, count: count)
      for (r, e) in row.enumerated() {
        guard e < count else {
          throw ParseError(
            source: source, location: .element([l, r]), code: .invalidIndex,
            message: "expert \(e) is not below the \(count) logical experts")
        }
        logcnt[e] += 1
      }
      if let missing = logcnt.firstIndex(of: 0) {
        throw ParseError(
          source: source, location: .element([l]), code: .missingExpert,
          message: "expert \(missing) has no replica; every expert 0 to \(count - 1) needs at least one slot")
      }
      placements.append(LayerPlacement(physicalToLogical: row, logicalCount: logcnt))
    }
    return PlacementBatch(layers: rows.count, experts: count, replicas: rows[0].count, placements: placements)
  }

  /// Reads the `[L][R]` array of expert ids at the cursor.
  private static func readMap(_ cursor: inout JSONCursor, key: String) throws(ParseError) -> [[Int]] {
    guard cursor.pos < cursor.end, cursor.base[cursor.pos] == UInt8(ascii: "[") else {
      throw cursor.elementError(
        [], name: "", code: .wrongShape,
        "\(key) must be an [L][R] array of expert ids, got \(cursor.describeValueType())")
    }
    cursor.pos += 1
    var rows: [[Int]] = []
    var first = true
    while try cursor.nextElement(first: &first) {
      let l = rows.count
      guard cursor.pos < cursor.end, cursor.base[cursor.pos] == UInt8(ascii: "[") else {
        throw cursor.elementError(
          [l], name: "", code: .wrongShape,
          "expected an array of expert ids (one per slot), got \(cursor.describeValueType())")
      }
      cursor.pos += 1
      var row: [Int] = []
      row.reserveCapacity(rows.first?.count ?? 0)
      var inner = true
      while try cursor.nextElement(first: &inner) {
        if let width = rows.first?.count, row.count == width {
          throw cursor.elementError(
            [l], name: "", code: .ragged,
            "layer has more than \(width) slots; expected \(width) like the first layer")
        }
        if cursor.pos < cursor.end, cursor.base[cursor.pos] == UInt8(ascii: "[") {
          throw cursor.elementError(
            [l, row.count], name: "", code: .wrongShape,
            "expected an expert id, got an array; \(key) is [L][R]")
        }
        row.append(try cursor.readIndex("expert id", at: [l, row.count]))
      }
      if row.isEmpty {
        throw cursor.elementError([l], name: "", code: .empty, "layer has no slots; expected one expert id per slot")
      }
      if let width = rows.first?.count, row.count != width {
        throw cursor.elementError(
          [l], name: "", code: .ragged,
          "layer has \(plural(row.count, "slot")); expected \(width) like the first layer")
      }
      rows.append(row)
    }
    if rows.isEmpty {
      throw cursor.elementError([], name: "", code: .empty, "\(key) is empty; expected [L][R] expert ids")
    }
    return rows
  }
}

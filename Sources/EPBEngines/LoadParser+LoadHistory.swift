extension LoadParser {
  /// Parses a load history (`InputFormat.loadHistory`, the EPLB evaluation dataset of the ADRS /
  /// OpenEvolve work, recorded from vLLM): a JSON object whose `load_history` is a list of entries,
  /// each `{"logical_expert_load": [L][E], "step": S?, "time": seconds?}` (`timestamp` is accepted
  /// for `time`; `null` means absent). Other keys are ignored.
  ///
  /// Each entry is one step of L rows. With `step` on every entry the steps are explicit; with
  /// `step` on none they are relative (`0..<T` in list order).
  /// - throws: `ParseError`: `missingKey` without `load_history` or an entry without
  ///   `logical_expert_load`, `mixedSteps` when only some entries have `step`, `duplicate` for a
  ///   repeated step, `invalidIndex` for a bad step or time, and as `parseSGLang` for the loads;
  ///   element locations are `[t]`, `[t][l]`, `[t][l][e]` with `t` the entry index.
  static func parseLoadHistory(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) -> LoadBatch {
    var cursor = JSONCursor(bytes, source: source)
    guard cursor.peek() == UInt8(ascii: "{") else {
      throw cursor.syntaxError(
        "expected a JSON object with key load_history, got \(cursor.describeValueType())",
        code: .wrongShape)
    }
    cursor.pos += 1
    var shape = JSONCursor.DenseShape()
    var values: [Double] = []
    var entries: [(step: Int?, time: Double?)] = []
    var seen = false
    var first = true
    while let key = try cursor.nextKey(first: &first) {
      guard key == "load_history" else {
        try cursor.skipValue()
        continue
      }
      if seen { throw cursor.syntaxError("key load_history appears twice", code: .missingKey) }
      seen = true
      guard cursor.pos < cursor.end, cursor.base[cursor.pos] == UInt8(ascii: "[") else {
        throw cursor.elementError(
          [], name: "", code: .wrongShape,
          "load_history must be a list of entries, got \(cursor.describeValueType())")
      }
      let start = cursor.pos
      cursor.pos += 1
      var firstEntry = true
      while try cursor.nextElement(first: &firstEntry) {
        entries.append(try readVLLMEntry(&cursor, index: entries.count, values: &values, shape: &shape))
        if entries.count == 1 {
          cursor.reserveForRemaining(&values, perItemBytes: cursor.pos - start, perItemValues: values.count)
        }
      }
    }
    try cursor.expectEnd()
    guard seen else {
      throw ParseError(
        source: source, location: .file, code: .missingKey,
        message: "no key load_history; expected {\"load_history\": [{\"logical_expert_load\": …}]}")
    }
    guard !entries.isEmpty else {
      throw ParseError(source: source, location: .file, code: .empty, message: "load_history is empty; expected loads")
    }
    let explicit = entries[0].step != nil
    var firstEntryOfStep: [Int: Int] = [:]
    var rows: [LoadRow] = []
    rows.reserveCapacity(entries.count * shape.layers)
    for (t, entry) in entries.enumerated() {
      guard (entry.step != nil) == explicit else {
        throw ParseError(
          source: source, location: .element([t]), code: .mixedSteps,
          message: "entry \(explicit ? "has no" : "has a") step but entry 0 "
            + "\(explicit ? "has one" : "has none")"
            + "; give step on every entry or on none")
      }
      let step = entry.step ?? t
      if explicit {
        if let other = firstEntryOfStep.updateValue(t, forKey: step) {
          throw ParseError(
            source: source, location: .element([t]), code: .duplicate,
            message: "step \(step) appears again; first in entry \(other)")
        }
      }
      for layer in 0..<shape.layers { rows.append(LoadRow(step: step, layer: layer, time: entry.time)) }
    }
    return LoadBatch(
      layers: shape.layers, experts: shape.experts, rows: rows, values: values,
      stepsAreRelative: !explicit)
  }

  private static func readVLLMEntry(
    _ cursor: inout JSONCursor, index t: Int, values: inout [Double], shape: inout JSONCursor.DenseShape
  ) throws(ParseError) -> (step: Int?, time: Double?) {
    guard cursor.base[cursor.pos] == UInt8(ascii: "{") else {
      throw cursor.elementError(
        [t], name: "", code: .wrongShape,
        "load_history entry must be an object, got \(cursor.describeValueType())")
    }
    cursor.pos += 1
    var step: Int?
    var time: Double?
    var timeKey: String?
    var hasLoads = false
    var first = true
    while let key = try cursor.nextKey(first: &first) {
      switch key {
      case "logical_expert_load":
        if hasLoads {
          throw cursor.elementError([t], name: "", code: .missingKey, "key logical_expert_load appears twice")
        }
        hasLoads = true
        try cursor.readMatrix(into: &values, shape: &shape, prefix: [t], name: "")
      case "step":
        if !cursor.skipNull() { step = try cursor.readIndex("step", at: [t]) }
      case "time", "timestamp":
        if let value = try cursor.readTime(at: [t]) {
          if let timeKey, timeKey != key {
            throw cursor.elementError([t], name: "", code: .invalidIndex, "both time and timestamp given; give one")
          }
          time = value
          timeKey = key
        }
      default:
        try cursor.skipValue()
      }
    }
    guard hasLoads else {
      throw cursor.elementError([t], name: "", code: .missingKey, "load_history entry has no logical_expert_load")
    }
    return (step, time)
  }
}

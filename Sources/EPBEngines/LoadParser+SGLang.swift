extension LoadParser {
  /// Parses SGLang's expert-distribution dump: a JSON object whose `logical_count` is `[L][E]`
  /// (one step) or `[T][L][E]`, tokens routed to each logical expert. Other keys are ignored.
  ///
  /// Steps are relative (`0..<T`), `layers = L`.
  /// - throws: `ParseError`: `missingKey` without (or with two) `logical_count`, `wrongShape` for
  ///   another nesting depth, `empty`, `ragged`, `invalidLoad`, `inexactLoad`, `malformed`.
  static func parseSGLang(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) -> LoadBatch {
    var cursor = JSONCursor(bytes, source: source)
    guard cursor.peek() == UInt8(ascii: "{") else {
      throw cursor.syntaxError(
        "expected a JSON object with key logical_count, got \(cursor.describeValueType())",
        code: .wrongShape)
    }
    cursor.pos += 1
    var shape = JSONCursor.DenseShape()
    var values: [Double] = []
    var steps = -1
    var first = true
    while let key = try cursor.nextKey(first: &first) {
      guard key == "logical_count" else {
        try cursor.skipValue()
        continue
      }
      if steps >= 0 {
        throw cursor.syntaxError("key logical_count appears twice", code: .missingKey)
      }
      switch cursor.arrayDepth() {
      case 3: steps = try cursor.readCube(into: &values, shape: &shape, name: "logical_count")
      case 2:
        try cursor.readMatrix(into: &values, shape: &shape, prefix: [], name: "logical_count")
        steps = 1
      case 0:
        throw cursor.elementError(
          [], name: "", code: .wrongShape,
          "logical_count must be an [L][E] or [T][L][E] array, "
            + "got \(cursor.describeValueType())")
      case 1:
        var probe = cursor
        probe.pos += 1
        if probe.peek() == UInt8(ascii: "]") {
          throw cursor.elementError(
            [], name: "", code: .empty,
            "logical_count is empty; expected [L][E] or [T][L][E] loads")
        }
        throw cursor.elementError(
          [], name: "", code: .wrongShape,
          "logical_count is 1-dimensional; expected [L][E] or [T][L][E] loads")
      default:
        throw cursor.elementError(
          [], name: "", code: .wrongShape,
          "logical_count has \(cursor.arrayDepth()) dimensions; expected [L][E] or [T][L][E]")
      }
    }
    try cursor.expectEnd()
    guard steps >= 0 else {
      throw ParseError(
        source: source, location: .file, code: .missingKey,
        message: "no key logical_count; expected SGLang's {\"logical_count\": [[…E]…L]} "
          + "(or use --format)")
    }
    var rows: [LoadRow] = []
    rows.reserveCapacity(steps * shape.layers)
    for step in 0..<steps {
      for layer in 0..<shape.layers { rows.append(LoadRow(step: step, layer: layer)) }
    }
    return LoadBatch(layers: shape.layers, experts: shape.experts, rows: rows, values: values, stepsAreRelative: true)
  }
}

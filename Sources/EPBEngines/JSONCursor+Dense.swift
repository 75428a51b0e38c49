import EPBPlanner

/// Reading dense `[E]`, `[L][E]` and `[T][L][E]` arrays of loads into a flat buffer.
extension JSONCursor {
  /// The shape learned from the first row and first step; later ones must match.
  struct DenseShape {
    /// Experts per row, 0 until the first row is read.
    var experts = 0
    /// Layers per step, 0 until the first step is read.
    var layers = 0
  }

  /// The number of `[` that open the value at the cursor before its first non-array element:
  /// 1 for `[1, 2]`, 2 for `[[1]]`, 3 for `[[[1]]]`; also counts `[]` and `[[]]` by their brackets.
  func arrayDepth() -> Int {
    var i = pos
    var depth = 0
    while i < end {
      let c = base[i]
      if c == UInt8(ascii: "[") {
        depth += 1
      } else if !(c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) {
        break
      }
      i += 1
    }
    return depth
  }

  /// Reads the `[E]` row at the cursor, appending its loads to `values`.
  ///
  /// `shape.experts` is learned from the first row (0 before); later rows must match it.
  /// `prefix` is the element index of the row (`[t][l]`, `[l]`, or `[]`), `name` the array's
  /// name for JSON-lines messages.
  /// - throws: `wrongShape` when the value is not an array, `ragged` when the expert count differs,
  ///   `empty` for `[]`, `invalidLoad`/`inexactLoad` for a bad load, `malformed` on syntax errors.
  @inline(__always)
  mutating func readRow(
    into values: inout [Double], shape: inout DenseShape, prefix: [Int], name: String
  ) throws(ParseError) {
    guard pos < end, base[pos] == UInt8(ascii: "[") else {
      throw elementError(
        prefix, name: name, code: .wrongShape,
        "expected an array of loads (one per expert), got \(describeValueType())")
    }
    pos += 1
    skipWhitespace()
    let expected = shape.experts
    var count = 0
    if pos < end && base[pos] == UInt8(ascii: "]") {
      pos += 1
    } else {
      while true {
        if count == expected && expected > 0 {
          throw elementError(
            prefix, name: name, code: .ragged,
            "row has more than \(expected) experts; expected \(expected) like the first row")
        }
        guard pos < end else { throw syntaxError("expected a number, got end of input") }
        if count == IngestLimits.maxExperts {
          throw elementError(
            prefix, name: name, code: .tooLarge,
            "row has more than \(IngestLimits.maxExperts) experts; epbctl accepts at most "
              + "\(IngestLimits.maxExperts)")
        }
        let value: Double
        do {
          value = try scanLoad(base, &pos, end)
        } catch {
          throw loadError(error, prefix + [count], name: name)
        }
        values.append(value)
        count += 1
        guard pos < end else { throw syntaxError("expected ',' or ']' in array, got end of input") }
        var c = base[pos]
        if c == UInt8(ascii: ",") {
          pos += 1
          if pos < end && base[pos] == 0x20 { pos += 1 }
          if pos < end && base[pos] <= 0x20 { skipWhitespace() }
          continue
        }
        if c <= 0x20 {
          skipWhitespace()
          c = pos < end ? base[pos] : 0
          if c == UInt8(ascii: ",") {
            pos += 1
            skipWhitespace()
            continue
          }
        }
        if c == UInt8(ascii: "]") {
          pos += 1
          break
        }
        throw syntaxError("expected ',' or ']' in array, got \(describeCurrent())")
      }
    }
    if values.count > IngestLimits.maxLoads { throw IngestLimits.tooManyLoads(Int.max, source: source) }
    if expected == 0 {
      if count == 0 {
        throw elementError(prefix, name: name, code: .empty, "row is empty; expected one load per expert")
      }
      shape.experts = count
    } else if count != expected {
      throw elementError(
        prefix, name: name, code: .ragged,
        "row has \(plural(count, "expert")); expected \(expected) like the first row")
    }
  }

  /// Reads the `[L][E]` matrix at the cursor (one step), appending `L * E` loads to `values`.
  ///
  /// `shape.layers` is learned from the first matrix; later ones must match.
  /// - throws: as `readRow`; `ragged` when the layer count differs, `empty` for `[]`.
  mutating func readMatrix(
    into values: inout [Double], shape: inout DenseShape, prefix: [Int], name: String
  ) throws(ParseError) {
    guard pos < end, base[pos] == UInt8(ascii: "[") else {
      throw elementError(
        prefix, name: name, code: .wrongShape,
        "expected an array of layers (each an array of loads), got \(describeValueType())")
    }
    pos += 1
    let expected = shape.layers
    var layers = 0
    var first = true
    while try nextElement(first: &first) {
      if layers == expected && expected > 0 {
        throw elementError(
          prefix, name: name, code: .ragged,
          "step has more than \(expected) layers; expected \(expected) like the first step")
      }
      if layers == IngestLimits.maxLayers {
        throw elementError(
          prefix, name: name, code: .tooLarge,
          "step has more than \(IngestLimits.maxLayers) layers; epbctl accepts at most "
            + "\(IngestLimits.maxLayers)")
      }
      if pos < end && base[pos] != UInt8(ascii: "[") {
        throw elementError(
          prefix + [layers], name: name, code: .wrongShape,
          "expected an array of loads (one per expert), got \(describeValueType())")
      }
      try readRow(into: &values, shape: &shape, prefix: prefix + [layers], name: name)
      layers += 1
    }
    if expected == 0 {
      if layers == 0 {
        throw elementError(prefix, name: name, code: .empty, "step is empty; expected one array of loads per layer")
      }
      shape.layers = layers
    } else if layers != expected {
      throw elementError(
        prefix, name: name, code: .ragged,
        "step has \(plural(layers, "layer")); expected \(expected) like the first step")
    }
  }

  /// Reads the `[T][L][E]` array at the cursor, appending `T * L * E` loads to `values`.
  /// - returns: T, the number of steps.
  /// - throws: as `readMatrix`; `empty` for `[]`.
  mutating func readCube(into values: inout [Double], shape: inout DenseShape, name: String) throws(ParseError) -> Int {
    guard pos < end, base[pos] == UInt8(ascii: "[") else {
      throw elementError([], name: name, code: .wrongShape, "expected an array of steps, got \(describeValueType())")
    }
    let start = pos
    pos += 1
    var steps = 0
    var first = true
    while try nextElement(first: &first) {
      try readMatrix(into: &values, shape: &shape, prefix: [steps], name: name)
      steps += 1
      if steps == 1 {
        reserveForRemaining(&values, perItemBytes: pos - start, perItemValues: values.count)
      }
    }
    if steps == 0 {
      throw elementError([], name: name, code: .empty, "no steps; expected [T][L][E] loads")
    }
    return steps
  }

  /// Reserves room for the items that likely follow, estimated from the size of the first.
  func reserveForRemaining(_ values: inout [Double], perItemBytes: Int, perItemValues: Int) {
    guard perItemBytes > 0 else { return }
    let remaining = (end - pos) / perItemBytes + 1
    let estimate = values.count + remaining.multipliedReportingOverflow(by: perItemValues).partialValue
    if estimate > values.capacity && estimate < (1 << 31) { values.reserveCapacity(estimate + estimate / 16) }
  }
}

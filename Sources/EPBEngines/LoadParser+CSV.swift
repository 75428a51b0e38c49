extension LoadParser {
  /// Parses long-form CSV: a header `step,layer,expert,load`, then one line per (step, layer,
  /// expert) in any order.
  ///
  /// Tolerated: a UTF-8 byte-order mark, CRLF line ends, a missing final newline, blank lines,
  /// spaces and tabs around fields, and a header in any letter case. Not supported: quoted
  /// fields, other separators, other or extra columns. `step`, `layer` and `expert` are
  /// non-negative integers (digits only); `load` is a number (`12`, `12.0`, `0.5`, `1e3`).
  /// E = largest expert + 1; every (step, layer) present must give every expert `0..<E` exactly
  /// once. Rows are in order of first appearance; steps are explicit; `layers` is nil.
  /// - throws: `ParseError`: `wrongHeader` (line 1), `malformed` for a wrong field count,
  ///   `invalidIndex`, `invalidLoad`, `inexactLoad` (each at `.line(n)`), `duplicate` at the second
  ///   line naming the first, `missingExpert` at `.stepLayer`, `empty` without data lines.
  static func parseCSV(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) -> LoadBatch {
    if let batch = try parseCSVDense(bytes, source: source) { return batch }
    return try parseCSVRecords(bytes, source: source)
  }

  /// `parseCSV` for a valid input, in about 8 bytes per load: each value goes straight into the
  /// batch's `values`, laid out `[rows][stride]` with a stride that doubles when a larger
  /// expert id appears (re-laid out then, amortized O(1) per load), NaN marking a cell not yet
  /// given (loads are finite). Capacity is reserved from the first lines' mean length.
  ///
  /// Returns nil for an input that is not valid in a way the records path must explain (a
  /// duplicate, a missing expert, or so sparse that the grid would outgrow the records): that
  /// path parses it again and throws its exact error, so errors are those of
  /// `parseCSVRecords`. Field errors are thrown here, in line order, as that path would.
  ///
  /// (The records path keeps row, expert, line and value per record: 20 bytes per load, up to
  /// twice that while its arrays grow, then 12 more for the grid: a 100 MB CSV of 6.25 M loads
  /// peaked at 317 MiB.)
  static func parseCSVDense(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) -> LoadBatch? {
    let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    let count = bytes.count
    var reader = CSVReader(base: base, end: count, source: source)
    if count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { reader.pos = 3 }
    let (headerStart, headerEnd) = reader.nextLine()
    let header = String(
      decoding: UnsafeBufferPointer(start: base + headerStart, count: min(headerEnd - headerStart, 256)),
      as: UTF8.self)
    let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
      String($0.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()).lowercased()
    }
    guard headerEnd - headerStart <= 256, names == ["step", "layer", "expert", "load"] else { return nil }

    var rowOfKey: [RowKey: Int] = [:]
    var rows: [LoadRow] = []
    var values: [Double] = []
    var stride = 0
    var records = 0
    var lastKey = RowKey(step: -1, layer: -1)
    var lastRow = -1
    var maxExpert = -1
    var reserved = false
    let dataStart = reader.pos
    while reader.pos < count {
      let (start, end) = reader.nextLine()
      let line = reader.line
      if end - start > IngestLimits.maxCSVLineBytes { return nil }
      var fields: [(Int, Int)] = []
      fields.reserveCapacity(4)
      var fieldStart = start
      var blank = true
      for i in start..<end {
        let c = base[i]
        if c == UInt8(ascii: ",") {
          fields.append((fieldStart, i))
          fieldStart = i + 1
          blank = false
        } else if c != 0x20 && c != 0x09 {
          blank = false
        }
      }
      if blank { continue }
      fields.append((fieldStart, end))
      guard fields.count == 4 else { return nil }
      let step = try reader.index("step", fields[0])
      let layer = try reader.index("layer", fields[1])
      let expert = try reader.index("expert", fields[2])
      let value = try reader.load(fields[3])
      guard expert < IngestLimits.maxExperts, layer < IngestLimits.maxLayers, records < IngestLimits.maxLoads else {
        return nil
      }
      if expert >= stride {
        // Re-lay out the grid with a stride that fits `expert` (doubling), row by row from the last.
        let newStride = max(expert + 1, stride * 2)
        guard rows.count.multipliedReportingOverflow(by: newStride).partialValue <= 2 * records + (1 << 20) else {
          return nil
        }
        var grown = [Double](repeating: .nan, count: rows.count * newStride)
        for r in rows.indices {
          for e in 0..<stride { grown[r * newStride + e] = values[r * stride + e] }
        }
        values = grown
        stride = newStride
      }
      let key = RowKey(step: step, layer: layer)
      if key != lastKey {
        if let row = rowOfKey[key] {
          lastRow = row
        } else {
          lastRow = rows.count
          rowOfKey[key] = lastRow
          rows.append(LoadRow(step: step, layer: layer))
          // A valid grid has at most stride / experts < 2 cells per record (plus the row begun).
          guard values.count + stride <= 2 * records + 2 * stride + (1 << 20) else { return nil }
          if !reserved && line > 2_000 {
            // Reserve for the whole file from the mean line length so far (+10 %).
            let perLine = max(1, reader.pos - dataStart) / max(1, line - 1)
            values.reserveCapacity(min(IngestLimits.maxLoads, count / perLine + count / perLine / 10) + stride)
            reserved = true
          }
          values.append(contentsOf: repeatElement(.nan, count: stride))
        }
        lastKey = key
      }
      let cell = lastRow * stride + expert
      if !values[cell].isNaN { return nil }  // a duplicate: the records path names both lines
      values[cell] = value
      records += 1
      maxExpert = max(maxExpert, expert)
    }
    guard records > 0 else { return nil }
    let experts = maxExpert + 1
    if stride != experts {
      // Compact `[rows][stride]` to `[rows][experts]` in place (each row moves down, never over
      // a row not yet moved).
      for r in rows.indices {
        for e in 0..<experts { values[r * experts + e] = values[r * stride + e] }
      }
      values.removeLast(values.count - rows.count * experts)
    }
    if values.contains(where: \.isNaN) { return nil }  // a missing expert
    return LoadBatch(layers: nil, experts: experts, rows: rows, values: values, stepsAreRelative: false)
  }

  /// `parseCSV` keeping every record before laying out the grid, so that it can name both lines
  /// of a duplicate and the first missing expert (see `parseCSVDense`).
  private static func parseCSVRecords(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) -> LoadBatch {
    let base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    let count = bytes.count
    var reader = CSVReader(base: base, end: count, source: source)
    if count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { reader.pos = 3 }

    // Header.
    let (headerStart, headerEnd) = reader.nextLine()
    if headerEnd - headerStart > IngestLimits.maxCSVLineBytes {
      throw ParseError(
        source: source, location: .line(1), code: .wrongHeader,
        message: "expected header step,layer,expert,load, got a line of "
          + IngestLimits.describe(bytes: headerEnd - headerStart))
    }
    let header = String(
      decoding: UnsafeBufferPointer(start: base + headerStart, count: headerEnd - headerStart),
      as: UTF8.self)
    let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
      String($0.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()).lowercased()
    }
    guard names == ["step", "layer", "expert", "load"] else {
      throw ParseError(
        source: source, location: .line(1), code: .wrongHeader,
        message: "expected header step,layer,expert,load, got '\(header.prefix(80))'")
    }

    // Records.
    var rowOfKey: [RowKey: Int] = [:]
    var rows: [LoadRow] = []
    var rowFirstLine: [Int] = []
    var recordRow: [Int32] = []
    var recordExpert: [Int32] = []
    var recordLine: [Int32] = []
    var recordValue: [Double] = []
    var maxExpert = -1
    var lastKey = RowKey(step: -1, layer: -1)
    var lastRow = -1
    while reader.pos < count {
      let (start, end) = reader.nextLine()
      let line = reader.line
      if end - start > IngestLimits.maxCSVLineBytes {
        throw ParseError(
          source: source, location: .line(line), code: .tooLarge,
          message: "line is \(IngestLimits.describe(bytes: end - start)) long; a CSV line holds "
            + "step,layer,expert,load and epbctl accepts at most "
            + "\(IngestLimits.describe(bytes: IngestLimits.maxCSVLineBytes))")
      }
      var fields: [(Int, Int)] = []
      fields.reserveCapacity(4)
      var fieldStart = start
      var blank = true
      for i in start..<end {
        let c = base[i]
        if c == UInt8(ascii: ",") {
          fields.append((fieldStart, i))
          fieldStart = i + 1
          blank = false
        } else if c != 0x20 && c != 0x09 {
          blank = false
        }
      }
      if blank { continue }
      fields.append((fieldStart, end))
      guard fields.count == 4 else {
        throw ParseError(
          source: source, location: .line(line), code: .malformed,
          message: "expected 4 fields step,layer,expert,load, got \(fields.count)")
      }
      let step = try reader.index("step", fields[0])
      let layer = try reader.index("layer", fields[1])
      let expert = try reader.index("expert", fields[2])
      let value = try reader.load(fields[3])
      guard expert < IngestLimits.maxExperts else {
        throw ParseError(
          source: source, location: .line(line), code: .tooLarge,
          message: "expert \(expert) is too large; epbctl accepts expert ids below "
            + "\(IngestLimits.maxExperts)")
      }
      guard layer < IngestLimits.maxLayers else {
        throw ParseError(
          source: source, location: .line(line), code: .tooLarge,
          message: "layer \(layer) is too large; epbctl accepts layer ids below \(IngestLimits.maxLayers)")
      }
      guard recordValue.count < IngestLimits.maxLoads else {
        throw IngestLimits.tooManyLoads(Int.max, source: source)
      }
      let key = RowKey(step: step, layer: layer)
      if key != lastKey {
        if let row = rowOfKey[key] {
          lastRow = row
        } else {
          lastRow = rows.count
          rowOfKey[key] = lastRow
          rows.append(LoadRow(step: step, layer: layer))
          rowFirstLine.append(line)
        }
        lastKey = key
      }
      recordRow.append(Int32(truncatingIfNeeded: lastRow))
      recordExpert.append(Int32(expert))
      recordLine.append(Int32(truncatingIfNeeded: line))
      recordValue.append(value)
      maxExpert = max(maxExpert, expert)
    }
    guard !recordValue.isEmpty else {
      throw ParseError(
        source: source, location: .file, code: .empty,
        message: "no data lines; expected lines step,layer,expert,load after the header")
    }

    // Assembly: every (step, layer) needs each expert 0..<E exactly once.
    let experts = maxExpert + 1
    let (cells, overflow) = rows.count.multipliedReportingOverflow(by: experts)
    func duplicateError(_ second: Int, _ first: Int32) -> ParseError {
      let row = rows[Int(recordRow[second])]
      return ParseError(
        source: source, location: .line(Int(recordLine[second])), code: .duplicate,
        message: "step \(row.step), layer \(row.layer), expert \(recordExpert[second]) given again; "
          + "first at line \(first)")
    }
    func missingError(row: Int, expert: Int) -> ParseError {
      ParseError(
        source: source, location: .stepLayer(step: rows[row].step, layer: rows[row].layer),
        code: .missingExpert,
        message: "expert \(expert) is missing (this step and layer first appear at line "
          + "\(rowFirstLine[row])); "
          + "expected every expert 0..\(experts - 1), as the largest expert id is \(experts - 1)")
    }
    guard !overflow, cells <= recordValue.count else {
      // Some cell must be missing; find duplicates first (by line), then the first gap.
      let order = recordValue.indices.sorted {
        (recordRow[$0], recordExpert[$0], recordLine[$0]) < (recordRow[$1], recordExpert[$1], recordLine[$1])
      }
      var duplicate: (second: Int, first: Int32)?
      for k in 1..<max(order.count, 1) {
        let a = order[k - 1]
        let b = order[k]
        if recordRow[a] == recordRow[b] && recordExpert[a] == recordExpert[b] {
          if duplicate == nil || recordLine[b] < recordLine[duplicate!.second] { duplicate = (b, recordLine[a]) }
        }
      }
      if let duplicate { throw duplicateError(duplicate.second, duplicate.first) }
      var k = 0
      for row in rows.indices {
        var expected: Int32 = 0
        while k < order.count && recordRow[order[k]] == Int32(truncatingIfNeeded: row) {
          if recordExpert[order[k]] != expected { throw missingError(row: row, expert: Int(expected)) }
          expected += 1
          k += 1
        }
        if Int(expected) < experts { throw missingError(row: row, expert: Int(expected)) }
      }
      preconditionFailure("CSV cell count exceeds records, yet nothing is missing")
    }
    var lineOfCell = [Int32](repeating: 0, count: cells)
    var values = [Double](repeating: 0, count: cells)
    for r in recordValue.indices {
      let cell = Int(recordRow[r]) * experts + Int(recordExpert[r])
      if lineOfCell[cell] != 0 { throw duplicateError(r, lineOfCell[cell]) }
      lineOfCell[cell] = recordLine[r]
      values[cell] = recordValue[r]
    }
    if let cell = lineOfCell.firstIndex(of: 0) {
      throw missingError(row: cell / experts, expert: cell % experts)
    }
    return LoadBatch(layers: nil, experts: experts, rows: rows, values: values, stepsAreRelative: false)
  }
}

/// A (step, layer) key.
struct RowKey: Hashable {
  var step: Int
  var layer: Int
}

/// Line splitting and field parsing for `parseCSV`.
private struct CSVReader {
  let base: UnsafePointer<UInt8>
  let end: Int
  let source: String
  var pos = 0
  /// The 1-based number of the line last returned by `nextLine`.
  var line = 0

  init(base: UnsafePointer<UInt8>, end: Int, source: String) {
    self.base = base
    self.end = end
    self.source = source
  }

  /// The next line's byte range without its `\n` or `\r\n`.
  mutating func nextLine() -> (Int, Int) {
    let start = pos
    var i = pos
    while i < end && base[i] != 0x0A { i += 1 }
    pos = min(i + 1, end)
    line += 1
    var lineEnd = i
    if lineEnd > start && base[lineEnd - 1] == 0x0D { lineEnd -= 1 }
    return (start, lineEnd)
  }

  func trimmed(_ field: (Int, Int)) -> (Int, Int) {
    var (start, end) = field
    while start < end && (base[start] == 0x20 || base[start] == 0x09) { start += 1 }
    while end > start && (base[end - 1] == 0x20 || base[end - 1] == 0x09) { end -= 1 }
    return (start, end)
  }

  func text(_ field: (Int, Int)) -> String {
    String(decoding: UnsafeBufferPointer(start: base + field.0, count: min(field.1 - field.0, 60)), as: UTF8.self)
  }

  func error(_ code: ParseError.Code, _ message: String) -> ParseError {
    ParseError(source: source, location: .line(line), code: code, message: message)
  }

  /// A non-negative integer field (digits only, at most 2^53).
  /// - throws: `invalidIndex` naming `what`.
  func index(_ what: String, _ raw: (Int, Int)) throws(ParseError) -> Int {
    let field = trimmed(raw)
    guard field.0 < field.1 else { throw error(.invalidIndex, "\(what) is empty; expected a non-negative integer") }
    var value = 0
    for i in field.0..<field.1 {
      let d = base[i] &- 48
      guard d < 10 else {
        let text = text(field)
        if base[field.0] == UInt8(ascii: "-"), Double(text) != nil {
          throw error(.invalidIndex, "\(what) \(text) is negative; expected a non-negative integer")
        }
        throw error(.invalidIndex, "\(what) '\(text)' is not a non-negative integer")
      }
      value = value &* 10 &+ Int(d)
      if value > 1 << 53 || i - field.0 > 16 {
        throw error(.invalidIndex, "\(what) \(text(field)) is too large; expected a non-negative integer up to 2^53")
      }
    }
    return value
  }

  /// A load field: finite, non-negative, at most 2^53.
  /// - throws: `invalidLoad` or `inexactLoad`.
  func load(_ raw: (Int, Int)) throws(ParseError) -> Double {
    let field = trimmed(raw)
    guard field.0 < field.1 else { throw error(.invalidLoad, "load is empty; \(loadExpectation)") }
    var pos = field.0
    do {
      let value = try scanLoad(base, &pos, field.1)
      if pos == field.1 { return value }
    } catch {
      switch error.kind {
      case .malformed, .notANumber: break
      case .negative, .notFinite, .tooLarge: throw self.error(error.code, error.message(token: text(field)))
      }
    }
    // Not JSON number syntax: accept what strtod accepts of the plain decimal forms (`.5`, `+3`, `1.`).
    let text = text(field)
    let plain = text.utf8.allSatisfy { ($0 &- 48 < 10) || "+-.eE".utf8.contains($0) }
    guard plain, let value = Double(text) else {
      throw error(.invalidLoad, "\(loadExpectation), got '\(text)'")
    }
    if value < 0 { throw error(.invalidLoad, "load \(text) is negative; \(loadExpectation)") }
    if !value.isFinite { throw error(.invalidLoad, "load \(text) is not finite; \(loadExpectation)") }
    if value > maxExactLoad {
      throw error(.inexactLoad, "load \(text) is too large to be exact; expected at most 2^53 = 9007199254740992")
    }
    return value + 0
  }
}

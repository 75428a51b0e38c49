/// Decodes JSON lines one line at a time, so that a live process can pipe loads in and the
/// pipeline can commit batches as they come.
///
/// Each non-blank line is one object in one of two forms, the same on every line:
/// - `{"step": S, "layer": L, "loads": [E loads]}`: one (step, layer) per line;
/// - `{"step": S, "loads": [[E loads] × L]}`: one step per line, all layers.
///
/// `time` (or `timestamp`), seconds since 1970, is optional; other keys are ignored. `step` must
/// be on every line or on none; without it (only in the second form) each line is the next
/// relative step, counted from 0 again in each batch that `takeBatch()` returns (each batch is
/// appended after the series' last step when it is stored). Experts, and in the second form
/// layers, are fixed by the first line. A (step, layer) given twice is refused even across batches.
///
/// Example:
/// ```swift
/// var decoder = JSONLinesDecoder(source: "-")
/// try decoder.append(line: Array(#"{"step": 0, "layer": 0, "loads": [1, 2]}"#.utf8), lineNumber: 1)
/// let batch = decoder.takeBatch()  // 1 row, 2 experts
/// ```
/// After a thrown error the line is not applied (earlier lines stay); callers that ingest a file
/// whole or not at all discard the decoder.
public struct JSONLinesDecoder: Sendable {
  private enum Form: Equatable {
    case perLayer
    case perStep
  }

  /// The file name for messages (`-` for stdin).
  public let source: String
  private var shape = JSONCursor.DenseShape()
  private var form: Form?
  private var hasSteps: Bool?
  private var firstLineNumber = 0
  private var rows: [LoadRow] = []
  private var values: [Double] = []
  private var relativeStep = 0
  private var firstLineOf: [RowKey: Int] = [:]
  private var pending: [UInt8] = []
  private var nextLineNumber = 1

  /// A decoder whose errors name `source`.
  public init(source: String) {
    self.source = source
  }

  /// Experts per row, fixed by the first line; nil before it.
  public var experts: Int? { shape.experts > 0 ? shape.experts : nil }

  /// Rows decoded since the last `takeBatch()`.
  public var pendingRowCount: Int { rows.count }

  /// Decodes one line (without its line end; a trailing `\r` and blank lines are fine).
  ///
  /// - parameter line: the bytes of the line.
  /// - parameter lineNumber: its 1-based number, for messages.
  /// - throws: `ParseError` at `.line(lineNumber)`: `malformed`, `wrongShape` (not an object, a
  ///   form other than the first line's, loads of the wrong rank), `missingKey` (no `loads`),
  ///   `mixedSteps`, `duplicate`, `ragged`, `empty`, `invalidIndex`, `invalidLoad`, `inexactLoad`.
  public mutating func append(line: UnsafeRawBufferPointer, lineNumber: Int) throws(ParseError) {
    if line.count > IngestLimits.maxJSONLineBytes { throw Self.lineTooLong(line.count, source, lineNumber) }
    guard line.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A) }) else { return }
    let valueCount = values.count
    let savedShape = shape
    do {
      try decode(line, lineNumber: lineNumber)
    } catch {
      values.removeLast(values.count - valueCount)
      shape = savedShape
      throw error
    }
  }

  /// Decodes one line; see `append(line:lineNumber:)` on a buffer.
  public mutating func append(line: [UInt8], lineNumber: Int) throws(ParseError) {
    let result = line.withUnsafeBytes { raw in
      Result { () throws(ParseError) in try append(line: raw, lineNumber: lineNumber) }
    }
    try result.get()
  }

  /// Feeds a chunk of a stream (any split, e.g. a pipe read), decoding every complete line in it;
  /// lines are numbered from 1 across chunks. Call `finish()` at the end of the stream.
  /// - throws: as `append(line:lineNumber:)`.
  public mutating func feed(_ chunk: [UInt8]) throws(ParseError) {
    var start = 0
    while let newline = chunk[start...].firstIndex(of: 0x0A) {
      if pending.isEmpty {
        let result = chunk.withUnsafeBytes { raw in
          Result { () throws(ParseError) in
            try append(line: UnsafeRawBufferPointer(rebasing: raw[start..<newline]), lineNumber: nextLineNumber)
          }
        }
        try result.get()
      } else {
        pending.append(contentsOf: chunk[start..<newline])
        let line = pending
        pending.removeAll(keepingCapacity: true)
        try append(line: line, lineNumber: nextLineNumber)
      }
      nextLineNumber += 1
      start = newline + 1
    }
    if pending.count + (chunk.count - start) > IngestLimits.maxJSONLineBytes {
      throw Self.lineTooLong(Int.max, source, nextLineNumber)
    }
    pending.append(contentsOf: chunk[start...])
  }

  /// Decodes what `feed` holds of a last line without a line end.
  /// - throws: as `append(line:lineNumber:)`.
  public mutating func finish() throws(ParseError) {
    guard !pending.isEmpty else { return }
    let line = pending
    pending.removeAll()
    try append(line: line, lineNumber: nextLineNumber)
    nextLineNumber += 1
  }

  /// The error for a line of `length` bytes, longer than `IngestLimits.maxJSONLineBytes`.
  package static func lineTooLong(_ length: Int, _ source: String, _ lineNumber: Int) -> ParseError {
    let size = length == Int.max ? "longer than that" : IngestLimits.describe(bytes: length)
    return ParseError(
      source: source, location: .line(lineNumber), code: .tooLarge,
      message: "line is \(size); epbctl accepts JSON lines of at most "
        + "\(IngestLimits.describe(bytes: IngestLimits.maxJSONLineBytes)): put one step per line")
  }

  /// Returns the rows decoded since the last call and starts a new batch.
  ///
  /// The batch has `layers = L` in the `[L][E]` form, nil in the per-layer form; relative steps
  /// count from 0 in each batch.
  public mutating func takeBatch() -> LoadBatch {
    let batch = LoadBatch(
      layers: form == .perStep ? shape.layers : nil, experts: shape.experts, rows: rows,
      values: values, stepsAreRelative: hasSteps == false)
    rows.removeAll(keepingCapacity: true)
    values.removeAll(keepingCapacity: true)
    relativeStep = 0
    return batch
  }

  private mutating func decode(_ line: UnsafeRawBufferPointer, lineNumber: Int) throws(ParseError) {
    var cursor = JSONCursor(line, source: source, lineNumber: lineNumber)
    guard cursor.peek() == UInt8(ascii: "{") else {
      throw cursor.elementError(
        [], name: "", code: .wrongShape,
        "expected a JSON object {\"step\", \"loads\", …}, got \(cursor.describeValueType())")
    }
    cursor.pos += 1
    var step: Int?
    var layer: Int?
    var time: Double?
    var loadsForm: Form?
    var layersInLine = 0
    var first = true
    while let key = try cursor.nextKey(first: &first) {
      switch key {
      case "step":
        if !cursor.skipNull() { step = try cursor.readIndex("step", at: []) }
      case "layer":
        if !cursor.skipNull() {
          let id = try cursor.readIndex("layer", at: [])
          guard id < IngestLimits.maxLayers else {
            throw cursor.elementError(
              [], name: "", code: .tooLarge,
              "layer \(id) is too large; epbctl accepts layer ids below \(IngestLimits.maxLayers)")
          }
          layer = id
        }
      case "time", "timestamp":
        if let value = try cursor.readTime(at: []) { time = value }
      case "loads":
        if loadsForm != nil { throw cursor.elementError([], name: "", code: .missingKey, "key loads appears twice") }
        if cursor.arrayDepth() >= 2 {
          loadsForm = .perStep
          let before = values.count
          try cursor.readMatrix(into: &values, shape: &shape, prefix: [], name: "loads")
          layersInLine = (values.count - before) / shape.experts
        } else {
          loadsForm = .perLayer
          try cursor.readRow(into: &values, shape: &shape, prefix: [], name: "loads")
          layersInLine = 1
        }
      default:
        try cursor.skipValue()
      }
    }
    try cursor.expectEnd()
    func fail(_ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: .line(lineNumber), code: code, message: message)
    }
    guard let loadsForm else { throw fail(.missingKey, "no key loads; expected {\"step\": S, \"loads\": [...]}") }
    if layer != nil && loadsForm == .perStep {
      throw fail(.wrongShape, "with \"layer\", loads must be one layer's [E] loads, got an [L][E] array")
    }
    if layer == nil && loadsForm == .perLayer {
      throw fail(
        .wrongShape,
        "without \"layer\", loads must be [L][E] (every layer of the step), got [E]; "
          + "add \"layer\" to give one layer per line")
    }
    let describeForm = { (form: Form) in
      form == .perLayer ? "{\"step\", \"layer\", \"loads\": [E]}" : "{\"step\", \"loads\": [L][E]}"
    }
    if let form, form != loadsForm {
      throw fail(
        .wrongShape,
        "line uses the form \(describeForm(loadsForm)) but line \(firstLineNumber) uses "
          + "\(describeForm(form)); use one form throughout")
    }
    if let hasSteps, hasSteps != (step != nil) {
      throw fail(
        .mixedSteps,
        "line \(hasSteps ? "has no" : "has a") step but line \(firstLineNumber) "
          + "\(hasSteps ? "has one" : "has none"); give step on every line or on none")
    }
    if step == nil && loadsForm == .perLayer {
      throw fail(.mixedSteps, "lines with \"layer\" need a \"step\" to tell which layers belong together")
    }
    if form == nil {
      form = loadsForm
      hasSteps = step != nil
      firstLineNumber = lineNumber
    }
    let resolvedStep: Int
    if let step {
      resolvedStep = step
      let key = RowKey(step: step, layer: layer ?? -1)
      if let other = firstLineOf[key] {
        let what = layer.map { "step \(step), layer \($0)" } ?? "step \(step)"
        throw fail(.duplicate, "\(what) appears again; first at line \(other)")
      }
      firstLineOf[key] = lineNumber
    } else {
      resolvedStep = relativeStep
      relativeStep += 1
    }
    if let layer {
      rows.append(LoadRow(step: resolvedStep, layer: layer, time: time))
    } else {
      for l in 0..<layersInLine { rows.append(LoadRow(step: resolvedStep, layer: l, time: time)) }
    }
  }
}

extension LoadParser {
  /// Parses a whole JSON-lines input with `JSONLinesDecoder` (see there for the forms).
  /// - throws: as `JSONLinesDecoder.append(line:lineNumber:)`; `empty` when no line has loads.
  static func parseJSONLines(_ bytes: UnsafeRawBufferPointer, source: String) throws(ParseError) -> LoadBatch {
    var decoder = JSONLinesDecoder(source: source)
    var start = 0
    var lineNumber = 1
    while start < bytes.count {
      let newline = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
      try decoder.append(line: UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), lineNumber: lineNumber)
      start = newline + 1
      lineNumber += 1
    }
    guard decoder.pendingRowCount > 0 else {
      throw ParseError(source: source, location: .file, code: .empty, message: "no lines with loads")
    }
    return decoder.takeBatch()
  }
}

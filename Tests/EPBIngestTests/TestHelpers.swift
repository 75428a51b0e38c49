import EPBIngest
import EPBStore

@testable import EPBEngines

/// Parses `text` as `format`, returning the batch or the error.
func parse(_ text: String, _ format: InputFormat, source: String = "t") -> Result<LoadBatch, ParseError> {
  parse(Array(text.utf8), format, source: source)
}

/// Parses `bytes` as `format`, returning the batch or the error.
func parse(_ bytes: [UInt8], _ format: InputFormat, source: String = "t") -> Result<LoadBatch, ParseError> {
  Result { () throws(ParseError) in try LoadParser.parse(bytes, format: format, source: source) }
}

extension Result {
  /// The success value, or nil.
  var value: Success? {
    if case .success(let value) = self { return value }
    return nil
  }

  /// The failure, or nil.
  var error: Failure? {
    if case .failure(let error) = self { return error }
    return nil
  }
}

/// Little-endian bytes of fixed-width integers.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// Big-endian bytes of fixed-width integers.
func bigEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
  values.flatMap { value in withUnsafeBytes(of: value.bigEndian) { Array($0) } }
}

import Foundation

/// The little-endian vector encodings of the `load.loads` column (see migrations/0001).
///
/// Each row takes the smallest exact encoding: `uint8` (3) or `uint16` (4) when every value is
/// an integer below 2^8 or 2^16 (per-step token counts usually are), `int32` (1) below 2^31,
/// else `float64` (2), which holds every finite load exactly.
package enum LoadCodec {
  static let int32: Int = 1
  static let float64: Int = 2
  static let uint8: Int = 3
  static let uint16: Int = 4

  /// Bytes per value of `encoding`, nil for an unknown encoding.
  static func width(_ encoding: Int) -> Int? {
    switch encoding {
    case uint8: return 1
    case uint16: return 2
    case int32: return 4
    case float64: return 8
    default: return nil
    }
  }

  /// Encodes one row, `[experts]`, choosing the smallest exact encoding.
  static func encode(_ values: ArraySlice<Double>) -> (encoding: Int, blob: Data) {
    var bytes: [UInt8] = []
    let encoding = encode(values, into: &bytes)
    return (encoding, Data(bytes))
  }

  /// Encodes one row into `bytes` (replacing its content) and returns the encoding.
  static func encode(_ values: ArraySlice<Double>, into bytes: inout [UInt8]) -> Int {
    var integral = true
    var largest = 0.0
    for v in values {
      if v != v.rounded(.towardZero) || v < 0 { integral = false }
      largest = max(largest, v)
    }
    let encoding: Int
    if integral && largest <= 255 {
      encoding = uint8
    } else if integral && largest <= 65_535 {
      encoding = uint16
    } else if integral && largest <= 2_147_483_647 {
      encoding = int32
    } else {
      encoding = float64
    }
    let width = width(encoding)!
    bytes.removeAll(keepingCapacity: true)
    bytes.append(contentsOf: repeatElement(0, count: values.count * width))
    bytes.withUnsafeMutableBytes { raw in
      switch encoding {
      case uint8: store(values, into: raw) { UInt8($0) }
      case uint16: store(values, into: raw) { UInt16($0).littleEndian }
      case int32: store(values, into: raw) { Int32($0).littleEndian }
      default: store(values, into: raw) { $0.bitPattern.littleEndian }
      }
    }
    return encoding
  }

  /// Writes `convert(values[i])` at `raw + i · size(T)` for every i (one loop per width, the
  /// choice made once per row).
  @inline(__always)
  private static func store<T: FixedWidthInteger>(
    _ values: ArraySlice<Double>, into raw: UnsafeMutableRawBufferPointer, _ convert: (Double) -> T
  ) {
    var offset = 0
    for v in values {
      raw.storeBytes(of: convert(v), toByteOffset: offset, as: T.self)
      offset += MemoryLayout<T>.size
    }
  }

  /// Adds `weight ×` the decoded row to `into` (`[experts]`).
  ///
  /// - returns: false when the encoding is unknown or the blob's length does not match it and
  ///   `into.count`.
  static func accumulate(
    _ blob: UnsafeRawBufferPointer, encoding: Int, weight: Double, into: UnsafeMutableBufferPointer<Double>
  ) -> Bool {
    let n = into.count
    guard let width = width(encoding), blob.count == n * width else { return false }
    guard n > 0 else { return true }
    let out = UnsafeMutableRawPointer(into.baseAddress!)
    let raw = blob.baseAddress!
    switch encoding {
    case uint8: accumulate(raw, count: n, into: out, weight: weight, as: UInt8.self)
    case uint16: accumulate(raw, count: n, into: out, weight: weight, as: UInt16.self)
    case int32: accumulate(raw, count: n, into: out, weight: weight, as: Int32.self)
    default:
      for i in 0..<n {
        into[i] +=
          weight * Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
      }
    }
    return true
  }

  /// `into[i] += weight · T(little-endian at raw + i·size)` for i < count, eight lanes at a time
  /// (SIMD loads from the unaligned blob, converted to Double), then the tail one by one.
  @inline(__always)
  private static func accumulate<T: FixedWidthInteger & SIMDScalar>(
    _ raw: UnsafeRawPointer, count: Int, into out: UnsafeMutableRawPointer, weight: Double, as: T.Type
  ) {
    let size = MemoryLayout<T>.size
    var i = 0
    #if _endian(little)
      let w = SIMD8<Double>(repeating: weight)
      while i + 8 <= count {
        let lanes = raw.loadUnaligned(fromByteOffset: i * size, as: SIMD8<T>.self)
        let sum = out.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self) + w * SIMD8<Double>(lanes)
        out.storeBytes(of: sum, toByteOffset: i * 8, as: SIMD8<Double>.self)
        i += 8
      }
    #endif
    while i < count {
      let v = T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self))
      out.storeBytes(
        of: out.load(fromByteOffset: i * 8, as: Double.self) + weight * Double(v), toByteOffset: i * 8, as: Double.self)
      i += 1
    }
  }

  /// Decodes one row into a new array (for tests and exports).
  package static func decode(_ blob: Data, encoding: Int, experts: Int) -> [Double]? {
    var out = Array(repeating: 0.0, count: experts)
    let ok = blob.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer { accumulate(raw, encoding: encoding, weight: 1, into: $0) }
    }
    return ok ? out : nil
  }
}

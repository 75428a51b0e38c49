import Foundation

/// The little-endian vector encodings of the `load.loads` column.
///
/// `int32` (encoding 1) holds rows whose every value is an integer in 0...2^31−1, 4 bytes per
/// expert; `float64` (encoding 2) holds every other finite load exactly, 8 bytes per expert.
enum LoadCodec {
  static let int32: Int = 1
  static let float64: Int = 2

  /// Encodes one row, `[experts]`, choosing the smallest exact encoding.
  static func encode(_ values: ArraySlice<Double>) -> (encoding: Int, blob: Data) {
    let fitsInt32 = values.allSatisfy { $0 >= 0 && $0 <= 2_147_483_647 && $0 == $0.rounded(.towardZero) }
    if fitsInt32 {
      var data = Data(count: values.count * 4)
      data.withUnsafeMutableBytes { raw in
        for (i, v) in values.enumerated() {
          raw.storeBytes(of: Int32(v).littleEndian, toByteOffset: i * 4, as: Int32.self)
        }
      }
      return (int32, data)
    }
    var data = Data(count: values.count * 8)
    data.withUnsafeMutableBytes { raw in
      for (i, v) in values.enumerated() {
        raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 8, as: UInt64.self)
      }
    }
    return (float64, data)
  }

  /// Adds `weight ×` the decoded row to `into` (`[experts]`).
  ///
  /// - returns: false when the blob's length does not match the encoding and `into.count`.
  static func accumulate(
    _ blob: UnsafeRawBufferPointer, encoding: Int, weight: Double, into: UnsafeMutableBufferPointer<Double>
  ) -> Bool {
    let n = into.count
    switch encoding {
    case int32:
      guard blob.count == n * 4 else { return false }
      if weight == 1 {
        for i in 0..<n {
          into[i] += Double(Int32(littleEndian: blob.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
        }
      } else {
        for i in 0..<n {
          into[i] += weight * Double(Int32(littleEndian: blob.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
        }
      }
      return true
    case float64:
      guard blob.count == n * 8 else { return false }
      for i in 0..<n {
        let bits = UInt64(littleEndian: blob.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
        into[i] += weight * Double(bitPattern: bits)
      }
      return true
    default:
      return false
    }
  }

  /// Decodes one row into a new array (for tests and exports).
  static func decode(_ blob: Data, encoding: Int, experts: Int) -> [Double]? {
    var out = Array(repeating: 0.0, count: experts)
    let ok = blob.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer { accumulate(raw, encoding: encoding, weight: 1, into: $0) }
    }
    return ok ? out : nil
  }
}

import Foundation

/// A file written by `torch.save`: a zip archive (entries stored, not compressed) holding
/// `<top>/data.pkl` (the pickled object), `<top>/data/<key>` (one raw storage per key),
/// `<top>/byteorder` (`little`) and `<top>/version`; `<top>` is any folder name.
///
/// Reading is bounded and executes nothing: the zip is read by `StoredZip`, only stored
/// entries are accepted (a compressed entry could be a zip bomb; `torch.save` never compresses),
/// the pickle goes through `RestrictedUnpickler`, and every tensor is checked against its
/// storage record's real size before a value is read.
package struct TorchArchive {
  /// The unpickled object, tensors not yet read.
  let root: PickleValue
  let source: String
  private let records: [String: ArraySlice<UInt8>]
  /// The zip entries of `records`, for their checksums.
  private let entries: [String: StoredZip.Entry]

  /// Most entries an archive may have (a dump has a few per tensor).
  static let maxEntries = 1 << 16

  /// True when `bytes` starts like a zip archive (a local file header).
  static func looksLikeZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
  }

  /// Opens the archive in `bytes` (the content of `source`).
  ///
  /// - throws: `ParseError` naming `source`: not a zip (or a truncated one), a compressed or
  ///   oversized entry, no `data.pkl`, a big-endian archive, a refused pickle.
  package init(_ bytes: [UInt8], source: String) throws(ParseError) {
    self.source = source
    func fail(_ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: .file, code: code, message: message)
    }
    let zip: StoredZip
    do {
      zip = try StoredZip(bytes, maxEntries: Self.maxEntries)
    } catch {
      throw fail(.malformed, "not a readable zip archive (torch.save writes one): \(error.message)")
    }
    var records: [String: ArraySlice<UInt8>] = [:]
    var entries: [String: StoredZip.Entry] = [:]
    var pickle: String?
    for entry in zip.entries {
      let path = entry.name
      guard path.utf8.count <= 1024 else { throw fail(.malformed, "a zip entry name of \(path.utf8.count) bytes") }
      let parts = path.split(separator: "/", omittingEmptySubsequences: false)
      guard parts.count >= 2 else { continue }
      let inner = parts.dropFirst().joined(separator: "/")
      guard inner == "data.pkl" || inner == "byteorder" || inner.hasPrefix("data/") else { continue }
      if inner == "data.pkl" {
        guard pickle == nil else { throw fail(.malformed, "two data.pkl entries ('\(pickle!)', '\(path)')") }
        pickle = path
      }
      records[inner] = bytes[entry.data]
      entries[inner] = entry
      // The storages' checksums are checked when they are read (`values`), beside the conversion.
      if !inner.hasPrefix("data/") {
        do {
          try StoredZip.verify(entry, data: bytes[entry.data])
        } catch {
          throw fail(.malformed, error.message)
        }
      }
    }
    guard let pickleBytes = records["data.pkl"] else {
      throw fail(.missingKey, "no data.pkl in the archive; expected a torch.save file")
    }
    if let order = records["byteorder"], String(decoding: order, as: UTF8.self) != "little" {
      throw fail(
        .unsupportedDType, "the archive's byteorder is '\(String(decoding: order, as: UTF8.self))'; expected little")
    }
    var unpickler = RestrictedUnpickler(Array(pickleBytes))
    do {
      root = try unpickler.load()
    } catch {
      throw fail(.malformed, "data.pkl: \(error.message)")
    }
    self.records = records
    self.entries = entries
  }

  /// The values of `tensor` in row-major order, as `Double` (every stored integer dtype up to
  /// 2^53 is exact), with its shape.
  ///
  /// - parameter name: the tensor's place in the object, for messages (`logical_count`).
  /// - throws: `ParseError`: the storage record is missing or its size is not `numel × width`,
  ///   the view reaches past the storage, a value is negative, not finite or above 2^53.
  func values(of tensor: TorchTensorRef, name: String) throws(ParseError) -> (shape: [Int], values: [Double]) {
    func fail(_ code: ParseError.Code, _ message: String) -> ParseError {
      ParseError(source: source, location: .file, code: code, message: "\(name): \(message)")
    }
    let storage = tensor.storage
    guard let data = records["data/\(storage.key)"] else {
      throw fail(.missingKey, "storage '\(storage.key)' is not in the archive")
    }
    let width = storage.dtype.width
    let (bytes, overflow) = storage.numel.multipliedReportingOverflow(by: width)
    guard !overflow, bytes == data.count else {
      throw fail(
        .truncated,
        "storage '\(storage.key)' claims \(storage.numel) elements of \(width) bytes, its record has \(data.count) bytes"
      )
    }
    var count = 1
    var last = tensor.offset
    for (n, s) in zip(tensor.size, tensor.stride) {
      let (c, o1) = count.multipliedReportingOverflow(by: n)
      guard !o1, c <= IngestLimits.maxLoads else {
        throw fail(.tooLarge, "shape \(tensor.size) holds more than \(IngestLimits.maxLoads) values")
      }
      count = c
      if n > 0 {
        let (reach, o2) = (n - 1).multipliedReportingOverflow(by: s)
        guard !o2 else { throw fail(.malformed, "stride \(tensor.stride) overflows") }
        last += reach
      }
    }
    guard count == 0 || last < storage.numel else {
      throw fail(
        .truncated,
        "shape \(tensor.size), stride \(tensor.stride) at offset \(tensor.offset) reach element \(last), past the storage's \(storage.numel)"
      )
    }
    // The storage's checksum: a large one on another thread while this one converts the values
    // (a thread costs more than checking a small one here).
    let entry = entries["data/\(storage.key)"]!
    let checksum =
      data.count >= 1 << 20
      ? Background { StoredZip.crc32(data) == entry.crc } : Background(value: StoredZip.crc32(data) == entry.crc)
    let contiguous = Self.isContiguous(size: tensor.size, stride: tensor.stride)
    var ok = false
    // Uninitialized: `convert` writes every element (both paths visit each index once).
    let out = [Double](unsafeUninitializedCapacity: count) { dst, initialized in
      initialized = count
      ok = data.withUnsafeBytes { raw in
        if contiguous {
          return Self.convert(raw, dtype: storage.dtype, from: tensor.offset, count: count, into: dst)
        }
        // A strided view: walk the indices in row-major order.
        var index = [Int](repeating: 0, count: tensor.size.count)
        var valid = true
        for i in 0..<count {
          var element = tensor.offset
          for d in index.indices { element += index[d] * tensor.stride[d] }
          valid =
            Self.convert(
              raw, dtype: storage.dtype, from: element, count: 1,
              into: UnsafeMutableBufferPointer(rebasing: dst[i..<i + 1])) && valid
          var d = index.count - 1
          while d >= 0 {
            index[d] += 1
            if index[d] < tensor.size[d] { break }
            index[d] = 0
            d -= 1
          }
        }
        return valid
      }
    }
    guard checksum.value() else {
      throw fail(.malformed, "zip entry '\(entry.name)' does not match its CRC-32 (a damaged file?)")
    }
    guard ok else {
      let bad = out.firstIndex { !($0 >= 0 && $0 <= 9_007_199_254_740_992) } ?? 0
      throw fail(
        .invalidLoad,
        "value \(out[bad]) at flat index \(bad) is not a count; expected a finite non-negative number up to 2^53")
    }
    return (tensor.size, out)
  }

  private static func isContiguous(size: [Int], stride: [Int]) -> Bool {
    var expected = 1
    for d in size.indices.reversed() where size[d] != 1 {
      if stride[d] != expected { return false }
      expected *= size[d]
    }
    return true
  }

  /// Converts `count` elements from element `first` of `raw` to `Double`; false when one is
  /// negative, not finite or above 2^53 (the output then holds it, for the message).
  private static func convert(
    _ raw: UnsafeRawBufferPointer, dtype: TorchDType, from first: Int, count: Int,
    into dst: UnsafeMutableBufferPointer<Double>
  ) -> Bool {
    var valid = true
    let base = first * dtype.width
    switch dtype {
    case .int32:
      for i in 0..<count {
        let v = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: Int32.self))
        valid = valid && v >= 0
        dst[i] = Double(v)
      }
    case .int64:
      for i in 0..<count {
        let v = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: Int64.self))
        valid = valid && v >= 0 && v <= 1 << 53
        dst[i] = Double(v)
      }
    case .int16:
      for i in 0..<count {
        let v = Int16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: Int16.self))
        valid = valid && v >= 0
        dst[i] = Double(v)
      }
    case .int8:
      for i in 0..<count {
        let v = Int8(bitPattern: raw[base + i])
        valid = valid && v >= 0
        dst[i] = Double(v)
      }
    case .uint8, .bool:
      for i in 0..<count { dst[i] = Double(raw[base + i]) }
    case .float32:
      for i in 0..<count {
        let v = Double(
          Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self))))
        valid = valid && v >= 0 && v <= 9_007_199_254_740_992
        dst[i] = v
      }
    case .float64:
      for i in 0..<count {
        let v = Double(
          bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self)))
        valid = valid && v >= 0 && v <= 9_007_199_254_740_992
        dst[i] = v
      }
    case .float16, .bfloat16:
      for i in 0..<count {
        let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))
        let v: Double
        if dtype == .bfloat16 {
          v = Double(Float(bitPattern: UInt32(bits) << 16))
        } else {
          v = Double(Self.half(bits))
        }
        valid = valid && v >= 0 && v.isFinite
        dst[i] = v
      }
    }
    return valid
  }

  /// IEEE 754 binary16 to `Float`.
  private static func half(_ h: UInt16) -> Float {
    let sign: Float = h & 0x8000 != 0 ? -1 : 1
    let exponent = Int((h >> 10) & 0x1F)
    let fraction = Float(h & 0x3FF)
    switch exponent {
    case 0: return sign * fraction * Float(sign: .plus, exponent: -24, significand: 1)
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
  }
}

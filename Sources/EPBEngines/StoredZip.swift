/// The entries of a zip archive whose entries are stored (not compressed), as `torch.save`
/// writes it: read from the central directory (zip64 records included), every offset and size
/// checked against the bytes before use; each entry's CRC-32 is kept for `verify`.
///
/// Written here rather than taken from ZIPFoundation: on hostile archives ZIPFoundation 0.9.20
/// traps instead of throwing (a central directory offset past the end of in-memory data gives a
/// negative range in `Archive+MemoryFile.swift`; a zip64 offset of 2^63 or more overflows
/// `off_t(offset)` in `Data.readStruct`), both found by `scripts/reliability/fuzz.sh 60 pt` and
/// kept as `Tests/Fixtures/engines/hostile/directory_past_end.pt` and `FuzzRegressionTests`.
/// A `.pt` is untrusted input, and reading stored entries needs only this.
///
/// Layouts (APPNOTE.TXT 6.3.10, little-endian): end of central directory `PK\5\6` (22 bytes +
/// comment), zip64 locator `PK\6\7` (20 bytes, right before it), zip64 end record `PK\6\6`,
/// central directory headers `PK\1\2` (46 bytes + name + extra + comment; a zip64 extra field,
/// id 1, holds the sizes and offset whose 32-bit fields are 0xFFFFFFFF, in that order), local
/// headers `PK\3\4` (30 bytes + name + extra, then the data).
struct StoredZip {
  /// One entry: its name, where its data lies in the archive's bytes, and the CRC-32 the
  /// archive records for that data.
  struct Entry {
    let name: String
    let data: Range<Int>
    let crc: UInt32
  }

  /// A reason the bytes are not a readable stored zip, for the caller's message.
  struct Failure: Error {
    let message: String
  }

  /// The entries in central-directory order.
  let entries: [Entry]

  /// Reads the directory of the archive in `bytes`; at most `maxEntries` entries.
  ///
  /// - throws: `Failure` when a record is missing or out of bounds, an entry is compressed or
  ///   encrypted. Checksums are checked by `verify`, when an entry is used.
  init(_ bytes: [UInt8], maxEntries: Int) throws(Failure) {
    let n = bytes.count
    func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
    func u64(_ at: Int) throws(Failure) -> Int {
      let high = u32(at + 4)
      guard high < 1 << 31 else { throw Failure(message: "a zip64 size or offset of 2^63 or more") }
      return u32(at) | high << 32
    }
    func has(_ at: Int, _ count: Int) -> Bool { at >= 0 && count >= 0 && at <= n && count <= n - at }
    func signature(_ at: Int, _ value: Int) -> Bool { has(at, 4) && u32(at) == value }

    // The end of central directory record: the last one, within the 64 KiB a comment allows.
    var eocd = n - 22
    while eocd >= max(0, n - 22 - 0xFFFF), !signature(eocd, 0x0605_4B50) { eocd -= 1 }
    guard eocd >= 0, eocd >= max(0, n - 22 - 0xFFFF) else {
      throw Failure(message: "no end of central directory record (a truncated file?)")
    }
    var count = u16(eocd + 10)
    var directorySize = u32(eocd + 12)
    var directory = u32(eocd + 16)
    if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directory == 0xFFFF_FFFF || signature(eocd - 20, 0x0706_4B50)
    {
      guard signature(eocd - 20, 0x0706_4B50) else { throw Failure(message: "zip64 sizes without a zip64 locator") }
      let record = try u64(eocd - 20 + 8)
      guard has(record, 56), signature(record, 0x0606_4B50) else {
        throw Failure(message: "the zip64 end record at byte \(record) is missing")
      }
      count = try u64(record + 32)
      directorySize = try u64(record + 40)
      directory = try u64(record + 48)
    }
    guard count <= maxEntries else { throw Failure(message: "more than \(maxEntries) zip entries") }
    guard has(directory, directorySize) else {
      throw Failure(
        message:
          "the central directory (\(directorySize) bytes at byte \(directory)) lies past the end of the \(n)-byte file")
    }
    var entries: [Entry] = []
    entries.reserveCapacity(count)
    var at = directory
    for _ in 0..<count {
      guard has(at, 46), signature(at, 0x0201_4B50), at + 46 <= directory + directorySize else {
        throw Failure(message: "central directory entry \(entries.count + 1) at byte \(at) is missing or cut")
      }
      let flags = u16(at + 8)
      let method = u16(at + 10)
      let crc = UInt32(u32(at + 16))
      var compressed = u32(at + 20)
      var size = u32(at + 24)
      let nameLength = u16(at + 28)
      let extraLength = u16(at + 30)
      let commentLength = u16(at + 32)
      var local = u32(at + 42)
      guard has(at + 46, nameLength + extraLength + commentLength) else {
        throw Failure(message: "central directory entry \(entries.count + 1) runs past the end of the file")
      }
      let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
      // The zip64 extra field: 64-bit values for the 32-bit fields that hold 0xFFFFFFFF.
      var extra = at + 46 + nameLength
      let extraEnd = extra + extraLength
      while extra + 4 <= extraEnd {
        let id = u16(extra)
        let length = u16(extra + 2)
        guard extra + 4 + length <= extraEnd else {
          throw Failure(message: "entry '\(name)': an extra field runs past its end")
        }
        if id == 1 {
          var field = extra + 4
          for keyPath in [0, 1, 2] {
            let wide = [size, compressed, local][keyPath] == 0xFFFF_FFFF
            guard wide else { continue }
            guard field + 8 <= extra + 4 + length else {
              throw Failure(message: "entry '\(name)': a short zip64 extra field")
            }
            let value = try u64(field)
            switch keyPath {
            case 0: size = value
            case 1: compressed = value
            default: local = value
            }
            field += 8
          }
        }
        extra += 4 + length
      }
      guard method == 0 else {
        throw Failure(
          message: "zip entry '\(name)' is compressed; torch.save stores entries uncompressed, so this is refused")
      }
      guard flags & 1 == 0 else { throw Failure(message: "zip entry '\(name)' is encrypted") }
      guard compressed == size else {
        throw Failure(message: "zip entry '\(name)' is stored but claims \(compressed) bytes stored for \(size)")
      }
      guard has(local, 30), signature(local, 0x0403_4B50) else {
        throw Failure(message: "zip entry '\(name)': no local header at byte \(local)")
      }
      let start = local + 30 + u16(local + 26) + u16(local + 28)
      guard has(start, size) else {
        throw Failure(message: "zip entry '\(name)' claims \(size) bytes, more than the file holds")
      }
      entries.append(Entry(name: name, data: start..<(start + size), crc: crc))
      at += 46 + nameLength + extraLength + commentLength
    }
    self.entries = entries
  }

  /// Checks `data`, the bytes of `entry`, against the entry's CRC-32.
  static func verify(_ entry: Entry, data: ArraySlice<UInt8>) throws(Failure) {
    guard crc32(data) == entry.crc else {
      throw Failure(message: "zip entry '\(entry.name)' does not match its CRC-32 (a damaged file?)")
    }
  }

  /// CRC-32 (the zip and PNG polynomial, reflected 0xEDB88320), slicing by 8: eight table
  /// lookups per eight bytes. The plain form is the byte loop at the end; slicing makes it
  /// about 3 times faster, and this check is read over every byte of a 62 MB dump.
  static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    bytes.withUnsafeBytes { p in
      table.withUnsafeBufferPointer { t in
        var i = 0
        while i + 8 <= p.count {
          let a = crc ^ UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i, as: UInt32.self))
          let b = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self))
          crc =
            t[7 * 256 + Int(a & 0xFF)] ^ t[6 * 256 + Int((a >> 8) & 0xFF)]
            ^ t[5 * 256 + Int((a >> 16) & 0xFF)] ^ t[4 * 256 + Int(a >> 24)]
            ^ t[3 * 256 + Int(b & 0xFF)] ^ t[2 * 256 + Int((b >> 8) & 0xFF)]
            ^ t[256 + Int((b >> 16) & 0xFF)] ^ t[Int(b >> 24)]
          i += 8
        }
        while i < p.count {
          crc = t[Int((crc ^ UInt32(p[i])) & 0xFF)] ^ (crc >> 8)
          i += 1
        }
      }
    }
    return ~crc
  }

  /// `table[k * 256 + b]`: the CRC register after shifting in byte `b` and then `k` zero bytes.
  private static let table: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for b in 0..<256 {
      var c = UInt32(b)
      for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
      t[b] = c
    }
    for k in 1..<8 {
      for b in 0..<256 {
        let previous = t[(k - 1) * 256 + b]
        t[k * 256 + b] = (previous >> 8) ^ t[Int(previous & 0xFF)]
      }
    }
    return t
  }()
}

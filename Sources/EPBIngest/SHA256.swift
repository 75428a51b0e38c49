import Crypto
import EPBEngines

/// SHA-256 (FIPS 180-4) of a byte stream, for keying ingests by content: swift-crypto's
/// (BoringSSL, with the CPU's SHA instructions where it has them) behind the small interface the
/// ingest pipeline uses.
///
/// Example:
/// ```swift
/// var hasher = SHA256()
/// hasher.update(Array("ab".utf8))
/// hasher.update(Array("c".utf8))
/// hasher.finalize()  // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// ```
/// Hand-written until 2026-12-04; swift-crypto hashes a 62 MB recorder dump in 36 ms where that
/// code took about 300 ms, the largest part of `ingest --rows-as-steps` (docs/performance.md).
public struct SHA256: Sendable {
  private var hasher = Crypto.SHA256()

  public init() {}

  /// The lowercase hex digest of `bytes`.
  public static func hex(of bytes: [UInt8]) -> String {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalize()
  }

  /// The lowercase hex digest of `bytes`.
  public static func hex(of bytes: UnsafeRawBufferPointer) -> String {
    var hasher = SHA256()
    hasher.update(bytes)
    return hasher.finalize()
  }

  /// Hashes `bytes` after what was hashed before.
  public mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Hashes `bytes` after what was hashed before.
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    hasher.update(bufferPointer: bytes)
  }

  /// The lowercase hex digest (64 characters) of everything hashed; the hasher should not be
  /// used afterwards.
  public mutating func finalize() -> String {
    let digits = Array("0123456789abcdef".utf8)
    var hex: [UInt8] = []
    hex.reserveCapacity(64)
    for byte in hasher.finalize() {
      hex.append(digits[Int(byte >> 4)])
      hex.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: hex, as: UTF8.self)
  }
}

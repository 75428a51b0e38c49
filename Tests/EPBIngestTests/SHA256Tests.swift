import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct SHA256Tests {
  @Test func fipsVectors() {
    #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    #expect(
      SHA256.hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    #expect(SHA256.hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test func multiChunkUpdatesMatchOneShot() {
    let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    let expected = SHA256.hex(of: message)
    for chunk in [1, 3, 55, 56, 63, 64, 65, 127, 999] {
      var hasher = SHA256()
      var start = 0
      while start < message.count {
        hasher.update(Array(message[start..<min(start + chunk, message.count)]))
        start += chunk
      }
      #expect(hasher.finalize() == expected, "chunk \(chunk)")
    }
    var million = SHA256()
    for _ in 0..<1000 { million.update([UInt8](repeating: UInt8(ascii: "a"), count: 1000)) }
    #expect(million.finalize() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }
}

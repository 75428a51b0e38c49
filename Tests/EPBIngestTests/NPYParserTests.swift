import EPBStore
import EPBTestSupport
import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct NPYParserTests {
  let loads: [Double] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]

  func npy(_ descr: String, _ shape: [Int], fortran: Bool = false, version: UInt8 = 1, _ data: [UInt8]) -> [UInt8] {
    SyntheticTrace.npy(descr: descr, shape: shape, fortranOrder: fortran, version: version, data: data)
  }

  @Test func readsStepsLayersExperts() throws {
    let batch = try #require(parse(npy("<i4", [2, 3, 2], littleEndianBytes(loads.map { Int32($0) })), .npy).value)
    #expect(batch.layers == 3)
    #expect(batch.experts == 2)
    #expect(batch.rows.map(\.step) == [0, 0, 0, 1, 1, 1])
    #expect(batch.rows.map(\.layer) == [0, 1, 2, 0, 1, 2])
    #expect(batch.values == loads)
    #expect(batch.stepsAreRelative)
  }

  @Test func readsLayersExpertsAsOneStep() throws {
    let batch = try #require(parse(npy("<i8", [3, 4], littleEndianBytes(loads.map { Int64($0) })), .npy).value)
    #expect(batch.layers == 3)
    #expect(batch.experts == 4)
    #expect(batch.rows.allSatisfy { $0.step == 0 })
    #expect(batch.values == loads)
  }

  @Test(arguments: [UInt8(1), 2, 3]) func readsHeaderVersions(version: UInt8) throws {
    let bytes = npy("<i4", [2, 6], version: version, littleEndianBytes(loads.map { Int32($0) }))
    #expect(try #require(parse(bytes, .npy).value).values == loads)
  }

  @Test func readsEverySupportedDType() throws {
    let cases: [(String, [UInt8])] = [
      ("|i1", littleEndianBytes(loads.map { Int8($0) })), ("|u1", littleEndianBytes(loads.map { UInt8($0) })),
      ("<i2", littleEndianBytes(loads.map { Int16($0) })), ("<u2", littleEndianBytes(loads.map { UInt16($0) })),
      ("<i4", littleEndianBytes(loads.map { Int32($0) })), ("<u4", littleEndianBytes(loads.map { UInt32($0) })),
      ("<i8", littleEndianBytes(loads.map { Int64($0) })), ("<u8", littleEndianBytes(loads.map { UInt64($0) })),
      ("<f4", littleEndianBytes(loads.map { Float($0).bitPattern })),
      ("<f8", littleEndianBytes(loads.map { $0.bitPattern })),
      ("<f2", littleEndianBytes(loads.map { halfBits($0) })),
      (">i2", bigEndianBytes(loads.map { Int16($0) })), (">i4", bigEndianBytes(loads.map { Int32($0) })),
      (">i8", bigEndianBytes(loads.map { Int64($0) })), (">u4", bigEndianBytes(loads.map { UInt32($0) })),
      (">f4", bigEndianBytes(loads.map { Float($0).bitPattern })),
      (">f8", bigEndianBytes(loads.map { $0.bitPattern })),
      ("=i4", littleEndianBytes(loads.map { Int32($0) })),
    ]
    for (descr, data) in cases {
      let batch = parse(npy(descr, [2, 3, 2], data), .npy)
      #expect(batch.value?.values == loads, "\(descr): \(String(describing: batch.error))")
    }
  }

  @Test func readsFractionalFloatsExactly() throws {
    let values: [Double] = [0.1, 2.5, 1e-300, 9_007_199_254_740_992]
    let batch = try #require(parse(npy("<f8", [1, 4], littleEndianBytes(values.map(\.bitPattern))), .npy).value)
    #expect(batch.values.map(\.bitPattern) == values.map(\.bitPattern))
  }

  @Test func transposesFortranOrder() throws {
    // Column-major storage of the C-order [[0, 1, 2], [3, 4, 5]].
    let fortran2D: [Int32] = [0, 3, 1, 4, 2, 5]
    let matrix = try #require(parse(npy("<i4", [2, 3], fortran: true, littleEndianBytes(fortran2D)), .npy).value)
    #expect(matrix.values == [0, 1, 2, 3, 4, 5])
    // [T=2][L=3][E=2] with element (t, l, e) = t*6 + l*2 + e, stored at t + 2*(l + 3*e).
    var storage = [Int32](repeating: 0, count: 12)
    for t in 0..<2 {
      for l in 0..<3 {
        for e in 0..<2 { storage[t + 2 * (l + 3 * e)] = Int32(t * 6 + l * 2 + e) }
      }
    }
    let cube = try #require(parse(npy(">i4", [2, 3, 2], fortran: true, bigEndianBytes(storage)), .npy).value)
    #expect(cube.values == loads)
    var bad = storage
    bad[1 + 2 * (2 + 3 * 1)] = -3
    let error = parse(npy("<i4", [2, 3, 2], fortran: true, littleEndianBytes(bad)), .npy).error
    #expect(error?.location == .element([1, 2, 1]))
  }

  @Test func invalidValuesNameTheElement() {
    var values = loads.map { Int32($0) }
    values[7] = -4
    let negative = parse(npy("<i4", [2, 3, 2], littleEndianBytes(values)), .npy, source: "t.npy").error
    #expect(negative?.code == .invalidLoad)
    #expect(
      negative?.description
        == "t.npy: element [1][0][1]: load -4 is negative; expected a finite non-negative number")
    var floats = loads
    floats[2] = .nan
    let nan = parse(npy("<f8", [3, 4], littleEndianBytes(floats.map(\.bitPattern))), .npy).error
    #expect(nan?.location == .element([0, 2]))
    #expect(nan?.message == "load nan is not finite; expected a finite non-negative number")
    floats[2] = .infinity
    #expect(parse(npy("<f8", [3, 4], littleEndianBytes(floats.map(\.bitPattern))), .npy).error?.code == .invalidLoad)
    var big = loads.map { Int64($0) }
    big[11] = (1 << 53) + 1
    let inexact = parse(npy("<i8", [3, 4], littleEndianBytes(big)), .npy).error
    #expect(inexact?.code == .inexactLoad)
    #expect(inexact?.location == .element([2, 3]))
    #expect(
      inexact?.message
        == "load 9007199254740993 is too large to be exact; expected at most 2^53 = 9007199254740992")
    var unsigned = loads.map { UInt64($0) }
    unsigned[0] = .max
    #expect(parse(npy("<u8", [3, 4], littleEndianBytes(unsigned)), .npy).error?.code == .inexactLoad)
    big[11] = 1 << 53
    #expect(parse(npy("<i8", [3, 4], littleEndianBytes(big)), .npy).value?.values.last == 9_007_199_254_740_992)
  }

  @Test func truncatedDataSaysExpectedAndPresentBytes() {
    let bytes = npy("<i4", [2, 3, 2], littleEndianBytes(loads.map { Int32($0) }))
    let error = parse(Array(bytes.dropLast(5)), .npy, source: "t.npy").error
    #expect(error?.code == .truncated)
    #expect(
      error?.description
        == "t.npy: data is truncated: shape (2, 3, 2) of <i4 needs 48 bytes after the 128-byte header, "
        + "but 43 are present")
    #expect(parse(Array(bytes.prefix(9)), .npy).error?.code == .truncated)
    #expect(parse(Array(bytes.prefix(40)), .npy).error?.code == .truncated)
    #expect(parse(bytes + [0], .npy).error?.code == .malformed)
  }

  @Test func unsupportedDTypesAreRefusedClearly() {
    for descr in ["<c8", "<c16", "|O", "|b1", "|S4", "<U3", "<M8[ns]", "|V8", "<f16", "<i3"] {
      let error = parse(npy(descr, [1, 1], [UInt8](repeating: 0, count: 16)), .npy).error
      #expect(error?.code == .unsupportedDType, "\(descr)")
    }
    let complex = parse(npy("<c16", [1, 1], [UInt8](repeating: 0, count: 16)), .npy, source: "c.npy").error
    #expect(complex?.message.hasPrefix("complex dtype '<c16' is not supported") == true)
    var header = "{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1, 1), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let bytes: [UInt8] =
      [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8) + [0, 0, 0, 0]
    #expect(parse(bytes, .npy).error?.code == .unsupportedDType)
  }

  @Test func badMagicShapeAndHeader() {
    #expect(parse(Array("not numpy at all".utf8), .npy).error?.code == .malformed)
    #expect(parse(npy("<i4", [4], littleEndianBytes([Int32](repeating: 1, count: 4))), .npy).error?.code == .wrongShape)
    #expect(parse(npy("<i4", [1, 1, 1, 1], littleEndianBytes([Int32(1)])), .npy).error?.code == .wrongShape)
    #expect(parse(npy("<i4", [0, 3, 2], []), .npy).error?.code == .empty)
    var header = "{'descr': '<i4', 'shape': (1, 1), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let noOrder: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
    #expect(parse(noOrder + [1, 0, 0, 0], .npy).error?.code == .missingKey)
    let garbage: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, 6, 0] + Array("{'a': ".utf8)
    #expect(parse(garbage, .npy).error?.code == .malformed)
    #expect(parse([0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], .npy).error?.code == .malformed)
  }

  @Test func syntheticTraceRoundTrips() throws {
    let trace = SyntheticTrace(steps: 3, layers: 2, experts: 8)
    let batch = try #require(parse(trace.npyBytes(), .auto, source: "-").value)
    #expect(batch.values == trace.loads().map(Double.init))
    #expect(batch.rows.count == 6)
  }
}

/// IEEE binary16 bits of small non-negative integers (exact up to 2048).
private func halfBits(_ value: Double) -> UInt16 {
  if value == 0 { return 0 }
  let exponent = Int(value.exponent)
  let fraction = UInt16((value / Double(sign: .plus, exponent: exponent, significand: 1) - 1) * 1024)
  return UInt16(exponent + 15) << 10 | fraction
}

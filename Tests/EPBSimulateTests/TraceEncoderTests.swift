import EPBSimulate
import Testing

@Suite struct TraceEncoderTests {
  let model = RoutingModel(steps: 3, layers: 2, experts: 4, tokens: 10, topK: 2, seed: 1)

  @Test func vllmHasStepTimeAndLoads() {
    let text = String(decoding: TraceEncoder.encode(model, format: .loadHistory), as: UTF8.self)
    #expect(text.hasPrefix("{\"model\":\"synthetic-moe-4e\",\"load_history\":[{\"step\":0,\"time\":1790000000.0,"))
    #expect(text.contains("{\"step\":2,\"time\":1790000002.0,\"logical_expert_load\":[["))
    #expect(text.hasSuffix("]}\n"))
  }

  @Test func everyFormatCarriesTheSameNumbers() {
    let counts = model.counts()
    let csv = String(decoding: TraceEncoder.encode(model, format: .csv), as: UTF8.self)
    let lines = csv.split(separator: "\n")
    #expect(lines.first == "step,layer,expert,load")
    #expect(lines.count == 1 + 3 * 2 * 4)
    for (i, line) in lines.dropFirst().enumerated() {
      let fields = line.split(separator: ",").map { Int($0)! }
      #expect(fields == [i / 8, i / 4 % 2, i % 4, Int(counts[i])])
    }
    let npy = TraceEncoder.encode(model, format: .npy)
    #expect(Array(npy.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
    let headerLength = Int(npy[8]) | Int(npy[9]) << 8
    #expect((10 + headerLength) % 64 == 0)
    let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
    #expect(header.contains("'descr': '<i4'") && header.contains("'shape': (3, 2, 4)"))
    let data = Array(npy[(10 + headerLength)...])
    #expect(data.count == counts.count * 4)
    for i in counts.indices {
      let v = Int32(
        bitPattern: UInt32(data[4 * i]) | UInt32(data[4 * i + 1]) << 8 | UInt32(data[4 * i + 2]) << 16
          | UInt32(data[4 * i + 3]) << 24)
      #expect(v == counts[i])
    }
    let sglang = String(decoding: TraceEncoder.encode(model, format: .sglang), as: UTF8.self)
    #expect(sglang.hasPrefix("{\"logical_count\":[[["))
    let jsonl = String(decoding: TraceEncoder.encode(model, format: .jsonl), as: UTF8.self)
    #expect(jsonl.split(separator: "\n").count == 3)
    #expect(jsonl.hasPrefix("{\"step\":0,\"loads\":[["))
  }
}

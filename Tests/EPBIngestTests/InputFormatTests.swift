import EPBTestSupport
import Testing

@testable import EPBEngines
@testable import EPBIngest

@Suite struct InputFormatTests {
  func detect(_ path: String?, _ text: String) -> InputFormat? {
    InputFormat.detect(path: path, bytes: Array(text.utf8))
  }

  @Test func detectsByContent() {
    #expect(InputFormat.detect(path: nil, bytes: SyntheticTrace(steps: 1, layers: 1, experts: 1).npyBytes()) == .npy)
    #expect(detect("-", "step,layer,expert,load\n0,0,0,1\n") == .csv)
    #expect(detect(nil, " step , layer,expert,load\r\n") == .csv)
    #expect(detect("a.json", #"{"logical_count": [[1]]}"#) == .sglang)
    #expect(detect(nil, #"{"meta": {"x": [1, 2]}, "load_history": []}"#) == .loadHistory)
    #expect(detect(nil, "{\"step\": 0, \"loads\": [[1]]}\n") == .jsonl)
    #expect(detect(nil, "{\"a\": 1}\n{\"a\": 2}\n") == .jsonl)
    #expect(detect("x.json", "{\"a\": 1}") == nil)
    #expect(detect(nil, "hello") == nil)
    #expect(detect(nil, "") == nil)
  }

  @Test func fallsBackToTheExtension() {
    #expect(detect("dir.v2/loads.CSV", "a,b\n") == .csv)
    #expect(detect("x.npy", "junk") == .npy)
    #expect(detect("x.ndjson", "junk") == .jsonl)
    #expect(detect("x.jsonl", "junk") == .jsonl)
    #expect(detect("dir.npy/file", "junk") == nil)
  }

  @Test func autoWithoutAnswerIsAnError() {
    #expect(parse("hello", .auto, source: "x.txt").error?.code == .unknownFormat)
    #expect(parse("", .auto, source: "x.json").error?.code == .empty)
    #expect(
      InputFormat.allCases.map(\.rawValue) == [
        "auto", "sglang", "load-history", "csv", "npy", "jsonl", "sglang-pt", "trtllm-statistics",
      ])
    // The contract's older name keeps selecting the same format.
    #expect(InputFormat(name: "vllm") == .loadHistory)
    #expect(InputFormat(name: "load-history") == .loadHistory)
    #expect(InputFormat(name: "vllm-ascend") == nil)
  }
}

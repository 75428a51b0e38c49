import EPBIngest
import FuzzDriver

@testable import EPBEngines

/// libFuzzer entry: one TensorRT-LLM `rank{r}.safetensors` file (header length, JSON header,
/// tensor data), with the expert count of the fixtures' `meta_info.json`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  _ = try? TRTLLMStatistics.tensors(Array(UnsafeBufferPointer(start: data, count: size)), source: "fuzz", experts: 4)
  return 0
}

/// The entry point SwiftPM aliases `main` to: hands over to libFuzzer's driver.
@_cdecl("fuzz_safetensors_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzRunDriver(argc, argv)
}

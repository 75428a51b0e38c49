import EPBEngines
import EPBIngest
import FuzzDriver

/// libFuzzer entry: SGLang `logical_count` JSON. Errors are expected; crashes and hangs are bugs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  _ = try? LoadParser.parse(Array(UnsafeBufferPointer(start: data, count: size)), format: .sglang, source: "fuzz")
  return 0
}

/// The entry point SwiftPM aliases `main` to: hands over to libFuzzer's driver.
@_cdecl("fuzz_sglang_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzRunDriver(argc, argv)
}

import EPBEngines
import EPBIngest
import FuzzDriver

/// libFuzzer entry: SGLang placement import (`physical_to_logical_map`), with and without a known
/// expert count (the first byte chooses).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size > 0 else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let experts: Int? = data[0] < 128 ? nil : Int(data[0] - 127)
  _ = try? PlacementParser.parseSGLang(bytes, source: "fuzz", experts: experts)
  return 0
}

/// The entry point SwiftPM aliases `main` to: hands over to libFuzzer's driver.
@_cdecl("fuzz_placement_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzRunDriver(argc, argv)
}

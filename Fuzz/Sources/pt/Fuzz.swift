import EPBEngines
import EPBIngest
import FuzzDriver

/// libFuzzer entry: an SGLang recorder dump (`.pt`, a zip of a pickle and raw storages). The
/// first byte's low bit chooses `--rows-as-steps`; the rest is the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size > 0 else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  _ = try? LoadParser.parseSGLangDump(bytes, source: "fuzz", rowsAsSteps: data[0] & 1 == 1, time: nil)
  return 0
}

/// The entry point SwiftPM aliases `main` to: hands over to libFuzzer's driver.
@_cdecl("fuzz_pt_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzRunDriver(argc, argv)
}

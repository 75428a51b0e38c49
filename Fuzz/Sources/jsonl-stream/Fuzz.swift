import EPBEngines
import EPBIngest
import FuzzDriver

/// libFuzzer entry: JSON lines fed to `JSONLinesDecoder` in chunks (as from a pipe), with a batch
/// taken midway. The first byte chooses the chunk size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size > 0 else { return 0 }
  let chunk = Int(data[0]) % 17 + 1
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  var decoder = JSONLinesDecoder(source: "-")
  var start = 0
  while start < bytes.count {
    let end = min(start + chunk, bytes.count)
    do { try decoder.feed(Array(bytes[start..<end])) } catch { return 0 }
    if start == 0 { _ = decoder.takeBatch() }
    start = end
  }
  do { try decoder.finish() } catch { return 0 }
  _ = decoder.takeBatch()
  return 0
}

/// The entry point SwiftPM aliases `main` to: hands over to libFuzzer's driver.
@_cdecl("fuzz_jsonl_stream_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzRunDriver(argc, argv)
}

import EPBIngest
import FuzzDriver

@testable import EPBEngines

/// libFuzzer entry: the restricted unpickler on its own (the `data.pkl` inside a `.pt`), which a
/// mutated zip rarely reaches intact.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  var unpickler = RestrictedUnpickler(Array(UnsafeBufferPointer(start: data, count: size)))
  _ = try? unpickler.load()
  return 0
}

/// The entry point SwiftPM aliases `main` to: hands over to libFuzzer's driver.
@_cdecl("fuzz_pickle_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
  FuzzRunDriver(argc, argv)
}

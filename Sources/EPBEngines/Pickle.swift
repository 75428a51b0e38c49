/// A value built by `RestrictedUnpickler`: data only, never an object of the writer's choosing.
///
/// Lists and dicts are reference boxes because pickle memoizes a container before filling it
/// (`EMPTY_LIST`, `BINPUT`, then `APPENDS`): a later `BINGET` must see the filled container.
indirect enum PickleValue {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple([PickleValue])
  case list(PickleList)
  case dict(PickleDict)
  /// A global from the allow-list (`RestrictedUnpickler.allowedGlobals`), as `module.name`.
  case global(String)
  /// A storage named by a persistent id: `('storage', torch.<Type>Storage, key, location, numel)`.
  case storage(TorchStorageRef)
  /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)`, not yet read.
  case tensor(TorchTensorRef)

  /// A short name of the value's kind, for messages.
  var kind: String {
    switch self {
    case .none: return "None"
    case .bool: return "bool"
    case .int: return "int"
    case .float: return "float"
    case .string: return "str"
    case .bytes: return "bytes"
    case .tuple: return "tuple"
    case .list: return "list"
    case .dict: return "dict"
    case .global(let name): return name
    case .storage: return "storage"
    case .tensor: return "tensor"
    }
  }

  /// The value under string key `key` of a dict, else nil.
  subscript(key: String) -> PickleValue? {
    guard case .dict(let d) = self else { return nil }
    return d.value(forKey: key)
  }
}

/// A pickled list (see `PickleValue`).
final class PickleList {
  var items: [PickleValue] = []
}

/// A pickled dict with string or int keys, in insertion order (see `PickleValue`).
final class PickleDict {
  var keys: [String] = []
  var values: [PickleValue] = []

  func set(_ key: String, _ value: PickleValue) {
    if let i = keys.firstIndex(of: key) {
      values[i] = value
    } else {
      keys.append(key)
      values.append(value)
    }
  }

  func value(forKey key: String) -> PickleValue? {
    keys.firstIndex(of: key).map { values[$0] }
  }
}

/// The element types torch storages hold, by the storage class `torch.save` names.
enum TorchDType: String, CaseIterable {
  case uint8 = "ByteStorage"
  case int8 = "CharStorage"
  case int16 = "ShortStorage"
  case int32 = "IntStorage"
  case int64 = "LongStorage"
  case float16 = "HalfStorage"
  case bfloat16 = "BFloat16Storage"
  case float32 = "FloatStorage"
  case float64 = "DoubleStorage"
  case bool = "BoolStorage"

  /// Bytes per element.
  var width: Int {
    switch self {
    case .uint8, .int8, .bool: return 1
    case .int16, .float16, .bfloat16: return 2
    case .int32, .float32: return 4
    case .int64, .float64: return 8
    }
  }
}

/// A storage of a torch archive: the record `data/<key>` holding `numel` elements of `dtype`.
struct TorchStorageRef {
  var key: String
  var dtype: TorchDType
  var numel: Int
}

/// A tensor view of a storage: `size` and `stride` in elements, `offset` in elements.
struct TorchTensorRef {
  var storage: TorchStorageRef
  var offset: Int
  var size: [Int]
  var stride: [Int]
}

/// Why a pickle was refused. `message` names the opcode or global and its byte offset.
struct PickleError: Error {
  var message: String
}

/// A pickle interpreter that only builds data: the opcodes `torch.save` emits (protocol 2, and
/// the protocol 4 framing opcodes), and of globals only the tensor and storage constructors and
/// `collections.OrderedDict`, which it interprets itself. Nothing is ever imported, called or
/// executed: `REDUCE` applies one of the two allow-listed constructors as data, `BINPERSID` reads
/// a storage reference, and every other global, `BUILD`, `INST`, `OBJ`, `NEWOBJ`, `EXT*` and
/// the text-protocol opcodes are refused.
///
/// Bounds: at most `maxOps` opcodes, a stack and memo of at most `maxItems` values, strings of
/// at most the pickle's own length, tensors of at most 8 dimensions.
struct RestrictedUnpickler {
  /// The globals a torch archive of plain data may name.
  static let allowedGlobals: Set<String> =
    Set(["torch._utils._rebuild_tensor_v2", "collections.OrderedDict"])
    .union(TorchDType.allCases.map { "torch.\($0.rawValue)" })

  static let maxOps = 1 << 24
  static let maxItems = 1 << 22

  let bytes: [UInt8]
  private var pos = 0
  private var stack: [PickleValue] = []
  private var marks: [Int] = []
  private var memo: [Int: PickleValue] = [:]

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// Interprets the whole pickle and returns the value `STOP` leaves on the stack.
  mutating func load() throws(PickleError) -> PickleValue {
    var ops = 0
    while true {
      ops += 1
      guard ops <= Self.maxOps else { throw fail("more than \(Self.maxOps) opcodes") }
      guard stack.count <= Self.maxItems, memo.count <= Self.maxItems else {
        throw fail("more than \(Self.maxItems) values")
      }
      let at = pos
      let op = try byte()
      switch op {
      case 0x80:  // PROTO
        let version = try byte()
        guard version <= 5 else { throw fail("pickle protocol \(version) at byte \(at)") }
      case 0x95:  // FRAME (protocol 4): an 8-byte length, frames are read as one stream.
        _ = try take(8)
      case 0x2E:  // STOP
        guard let top = stack.popLast(), marks.isEmpty else { throw fail("STOP with a bad stack at byte \(at)") }
        return top
      case 0x28: marks.append(stack.count)  // MARK
      case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
      case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
      case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
      case 0x74: stack.append(.tuple(try popMark(at)))  // TUPLE
      case 0x85: stack.append(.tuple(try pop(1, at)))  // TUPLE1
      case 0x86: stack.append(.tuple(try pop(2, at)))  // TUPLE2
      case 0x87: stack.append(.tuple(try pop(3, at)))  // TUPLE3
      case 0x61:  // APPEND
        let item = try pop(1, at)[0]
        try list(at).items.append(item)
      case 0x65:  // APPENDS
        let items = try popMark(at)
        try list(at).items.append(contentsOf: items)
      case 0x73:  // SETITEM
        let kv = try pop(2, at)
        try setItems(kv, at)
      case 0x75:  // SETITEMS
        let kv = try popMark(at)
        guard kv.count % 2 == 0 else { throw fail("SETITEMS with an odd count at byte \(at)") }
        try setItems(kv, at)
      case 0x71: memo[Int(try byte())] = try top(at)  // BINPUT
      case 0x72: memo[try uint32()] = try top(at)  // LONG_BINPUT
      case 0x94: memo[memo.count] = try top(at)  // MEMOIZE
      case 0x68: stack.append(try recall(Int(try byte()), at))  // BINGET
      case 0x6A: stack.append(try recall(try uint32(), at))  // LONG_BINGET
      case 0x4B: stack.append(.int(Int(try byte())))  // BININT1
      case 0x4D: stack.append(.int(Int(try byte()) | Int(try byte()) << 8))  // BININT2
      case 0x4A: stack.append(.int(Int(Int32(bitPattern: UInt32(try uint32())))))  // BININT
      case 0x8A:  // LONG1
        let n = Int(try byte())
        stack.append(.int(try signedLittleEndian(try take(n), at)))
      case 0x4E: stack.append(.none)  // NONE
      case 0x88: stack.append(.bool(true))  // NEWTRUE
      case 0x89: stack.append(.bool(false))  // NEWFALSE
      case 0x47:  // BINFLOAT, big-endian
        var bits: UInt64 = 0
        for b in try take(8) { bits = bits << 8 | UInt64(b) }
        stack.append(.float(Double(bitPattern: bits)))
      case 0x58: stack.append(.string(try text(try uint32(), at)))  // BINUNICODE
      case 0x8C: stack.append(.string(try text(Int(try byte()), at)))  // SHORT_BINUNICODE
      case 0x8D: stack.append(.string(try text(try uint64(at), at)))  // BINUNICODE8
      case 0x55: stack.append(.string(try text(Int(try byte()), at)))  // SHORT_BINSTRING
      case 0x54: stack.append(.string(try text(try uint32(), at)))  // BINSTRING
      case 0x43: stack.append(.bytes(Array(try take(Int(try byte())))))  // SHORT_BINBYTES
      case 0x42: stack.append(.bytes(Array(try take(try uint32()))))  // BINBYTES
      case 0x30: _ = try pop(1, at)  // POP
      case 0x31: _ = try popMark(at)  // POP_MARK
      case 0x32: stack.append(try top(at))  // DUP
      case 0x63:  // GLOBAL "module\nname\n"
        let module = try line(at)
        let name = try line(at)
        stack.append(try global(module, name, at))
      case 0x93:  // STACK_GLOBAL
        let parts = try pop(2, at)
        guard case .string(let module) = parts[0], case .string(let name) = parts[1] else {
          throw fail("STACK_GLOBAL without two strings at byte \(at)")
        }
        stack.append(try global(module, name, at))
      case 0x51:  // BINPERSID
        stack.append(try persistent(try pop(1, at)[0], at))
      case 0x52:  // REDUCE
        let parts = try pop(2, at)
        stack.append(try reduce(parts[0], parts[1], at))
      default:
        throw fail("opcode \(Self.name(op)) at byte \(at) is not one torch.save writes for plain data; refused")
      }
    }
  }

  // MARK: - Reading

  private mutating func byte() throws(PickleError) -> UInt8 {
    guard pos < bytes.count else { throw fail("the pickle ends at byte \(pos) before STOP") }
    defer { pos += 1 }
    return bytes[pos]
  }

  private mutating func take(_ n: Int) throws(PickleError) -> ArraySlice<UInt8> {
    guard n >= 0, n <= bytes.count - pos else {
      throw fail("a \(n)-byte field at byte \(pos) runs past the pickle's end (\(bytes.count) bytes)")
    }
    defer { pos += n }
    return bytes[pos..<pos + n]
  }

  private mutating func uint32() throws(PickleError) -> Int {
    let b = try take(4)
    return b.reversed().reduce(0) { $0 << 8 | Int($1) }
  }

  private mutating func uint64(_ at: Int) throws(PickleError) -> Int {
    let b = try take(8)
    let value = b.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard value <= UInt64(bytes.count) else { throw fail("a string length \(value) at byte \(at) exceeds the pickle") }
    return Int(value)
  }

  private mutating func text(_ n: Int, _ at: Int) throws(PickleError) -> String {
    let raw = try take(n)
    guard let s = String(validating: raw, as: UTF8.self) else { throw fail("a string at byte \(at) is not UTF-8") }
    return s
  }

  private mutating func line(_ at: Int) throws(PickleError) -> String {
    guard let end = bytes[pos...].prefix(256).firstIndex(of: 0x0A) else {
      throw fail("GLOBAL at byte \(at) has no name line")
    }
    let s = String(decoding: bytes[pos..<end], as: UTF8.self)
    pos = end + 1
    return s
  }

  private func signedLittleEndian(_ b: ArraySlice<UInt8>, _ at: Int) throws(PickleError) -> Int {
    guard b.count <= 8 else { throw fail("an integer of \(b.count) bytes at byte \(at) is too large") }
    guard !b.isEmpty else { return 0 }
    var value: UInt64 = 0
    for (i, x) in b.enumerated() { value |= UInt64(x) << (8 * UInt64(i)) }
    if b.count < 8, b.last! & 0x80 != 0 { value |= ~0 << (8 * UInt64(b.count)) }
    return Int(Int64(bitPattern: value))
  }

  // MARK: - Stack

  private func fail(_ message: String) -> PickleError { PickleError(message: message) }

  private func top(_ at: Int) throws(PickleError) -> PickleValue {
    guard let v = stack.last else { throw fail("an empty stack at byte \(at)") }
    return v
  }

  private mutating func pop(_ n: Int, _ at: Int) throws(PickleError) -> [PickleValue] {
    guard stack.count - n >= (marks.last ?? 0) else { throw fail("too few values on the stack at byte \(at)") }
    defer { stack.removeLast(n) }
    return Array(stack.suffix(n))
  }

  private mutating func popMark(_ at: Int) throws(PickleError) -> [PickleValue] {
    guard let mark = marks.popLast() else { throw fail("no MARK before byte \(at)") }
    defer { stack.removeSubrange(mark...) }
    return Array(stack[mark...])
  }

  private func recall(_ index: Int, _ at: Int) throws(PickleError) -> PickleValue {
    guard let v = memo[index] else { throw fail("memo \(index) read at byte \(at) was never stored") }
    return v
  }

  private func list(_ at: Int) throws(PickleError) -> PickleList {
    guard case .list(let l)? = stack.last else { throw fail("APPEND onto a non-list at byte \(at)") }
    return l
  }

  private func setItems(_ kv: [PickleValue], _ at: Int) throws(PickleError) {
    guard case .dict(let d)? = stack.last else { throw fail("SETITEM(S) onto a non-dict at byte \(at)") }
    for i in stride(from: 0, to: kv.count, by: 2) {
      switch kv[i] {
      case .string(let k): d.set(k, kv[i + 1])
      case .int(let k): d.set(String(k), kv[i + 1])
      default: throw fail("a dict key of type \(kv[i].kind) at byte \(at); expected str or int")
      }
    }
  }

  // MARK: - Globals, persistent ids, reduce

  private func global(_ module: String, _ name: String, _ at: Int) throws(PickleError) -> PickleValue {
    let full = "\(module).\(name)"
    guard Self.allowedGlobals.contains(full) else {
      throw fail(
        "global '\(full)' at byte \(at) is not allowed (a torch.save of tensors names only torch storages, "
          + "torch._utils._rebuild_tensor_v2 and collections.OrderedDict); nothing was run")
    }
    return .global(full)
  }

  private func persistent(_ pid: PickleValue, _ at: Int) throws(PickleError) -> PickleValue {
    guard case .tuple(let t) = pid, t.count == 5, case .string("storage") = t[0],
      case .global(let type) = t[1], case .string(let key) = t[2], case .int(let numel) = t[4]
    else {
      throw fail("persistent id at byte \(at) is not ('storage', torch.<Type>Storage, key, location, numel)")
    }
    guard let dtype = TorchDType(rawValue: String(type.dropFirst("torch.".count))), type.hasPrefix("torch.") else {
      throw fail("persistent id at byte \(at) names \(type), not a storage type")
    }
    guard numel >= 0, !key.isEmpty, key.utf8.count <= 64, key.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) })
    else {
      throw fail("storage at byte \(at) has key '\(key)' and \(numel) elements; expected a short key and numel >= 0")
    }
    return .storage(TorchStorageRef(key: key, dtype: dtype, numel: numel))
  }

  private func reduce(_ callable: PickleValue, _ args: PickleValue, _ at: Int) throws(PickleError) -> PickleValue {
    guard case .global(let name) = callable, case .tuple(let a) = args else {
      throw fail("REDUCE at byte \(at) applies \(callable.kind); only allowed constructors are applied")
    }
    switch name {
    case "collections.OrderedDict":
      guard a.isEmpty else { throw fail("OrderedDict at byte \(at) with arguments; expected none") }
      return .dict(PickleDict())
    case "torch._utils._rebuild_tensor_v2":
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      guard a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1],
        case .tuple(let sizeValues) = a[2], case .tuple(let strideValues) = a[3]
      else {
        throw fail("_rebuild_tensor_v2 at byte \(at) without (storage, offset, size, stride)")
      }
      var size: [Int] = []
      var stride: [Int] = []
      for v in sizeValues {
        guard case .int(let n) = v, n >= 0 else { throw fail("tensor size at byte \(at) is not non-negative ints") }
        size.append(n)
      }
      for v in strideValues {
        guard case .int(let n) = v, n >= 0 else { throw fail("tensor stride at byte \(at) is not non-negative ints") }
        stride.append(n)
      }
      guard size.count == stride.count, size.count <= 8, offset >= 0 else {
        throw fail("tensor at byte \(at) has size \(size), stride \(stride), offset \(offset)")
      }
      return .tensor(TorchTensorRef(storage: storage, offset: offset, size: size, stride: stride))
    default:
      throw fail("REDUCE at byte \(at) applies \(name), which builds no plain data; refused")
    }
  }

  /// An opcode's pickle name, for messages.
  static func name(_ op: UInt8) -> String {
    let names: [UInt8: String] = [
      0x62: "BUILD", 0x69: "INST", 0x6F: "OBJ", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2",
      0x84: "EXT4", 0x50: "PERSID", 0x49: "INT", 0x4C: "LONG", 0x53: "STRING", 0x56: "UNICODE", 0x46: "FLOAT",
      0x8B: "LONG4", 0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER", 0x8F: "EMPTY_SET",
      0x90: "ADDITEMS", 0x91: "FROZENSET", 0x64: "DICT", 0x6C: "LIST",
    ]
    let hex = "0x" + String(op, radix: 16, uppercase: true)
    return names[op].map { "\($0) (\(hex))" } ?? hex
  }
}

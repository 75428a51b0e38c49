/// Why an input file could not be turned into a `LoadBatch`, and where.
///
/// `description` reads like a compiler diagnostic and names the file, the place and what was
/// expected, for example
/// `trace.json: element [3][12][200]: load -4 is negative; expected a finite non-negative number`
/// or `loads.csv:17: expected 4 fields step,layer,expert,load, got 3`.
/// Tests and callers match on `code` and `location`; `message` is for people.
public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The class of problem, stable for callers to match on.
  public enum Code: String, Sendable, Equatable, CaseIterable {
    /// The input has no bytes, or no loads (`[]`, no data rows, no lines).
    case empty
    /// The format could not be detected; `--format` fixes it.
    case unknownFormat
    /// Not well-formed JSON, CSV or NPY (syntax, bad magic, bad header literal).
    case malformed
    /// The CSV header is not `step,layer,expert,load`.
    case wrongHeader
    /// A required key (`logical_count`, `load_history`, `logical_expert_load`, `loads`, `descr`…)
    /// is missing, or given twice.
    case missingKey
    /// The array has the wrong number of dimensions, or a value has the wrong JSON type where an
    /// array or object is expected.
    case wrongShape
    /// A row has a different expert count, or a step a different layer count, than the first.
    case ragged
    /// A load is negative, NaN, infinite, or not a number at all (string, null, bool).
    case invalidLoad
    /// A load is larger than 2^53, beyond which integers are not exact in a `Double`.
    case inexactLoad
    /// A step, layer or expert number is negative, fractional, too large or not a number; or a
    /// `time` is not a finite number.
    case invalidIndex
    /// Some entries carry step numbers and others do not.
    case mixedSteps
    /// The same (step, layer), or in CSV the same (step, layer, expert), appears twice.
    case duplicate
    /// A CSV (step, layer) lacks one of the experts 0..<E.
    case missingExpert
    /// A `.npy` file is shorter than its header says.
    case truncated
    /// A `.npy` dtype that cannot hold loads (complex, object, string, bool, structured, …).
    case unsupportedDType
    /// The input exceeds one of `IngestLimits` (size, line length, loads, layers, experts).
    case tooLarge
  }

  /// Where in the input the problem is.
  public enum Location: Equatable, Sendable {
    /// The input as a whole.
    case file
    /// A 1-based line (CSV, JSON lines).
    case line(Int)
    /// A 1-based line and column (in bytes) of a JSON syntax error, with its 0-based byte offset.
    case position(offset: Int, line: Int, column: Int)
    /// A 0-based index into the dense array, outermost first: `[t][l][e]`, `[t][l]`, `[t]`, or
    /// `[l][e]` for a single-step input.
    case element([Int])
    /// One (step, layer) of a long-form input.
    case stepLayer(step: Int, layer: Int)
    /// A 0-based byte offset (NPY headers).
    case byteOffset(Int)
  }

  /// The file name (or `-` for stdin) as the user gave it.
  public var source: String
  /// Where the problem is.
  public var location: Location
  /// The class of problem.
  public var code: Code
  /// What was found and what was expected, without the source and location.
  public var message: String

  public init(source: String, location: Location, code: Code, message: String) {
    self.source = source
    self.location = location
    self.code = code
    self.message = message
  }

  public var description: String {
    switch location {
    case .file: return "\(source): \(message)"
    case .line(let line): return "\(source):\(line): \(message)"
    case .position(_, let line, let column): return "\(source):\(line):\(column): \(message)"
    case .element(let indices):
      return "\(source): element \(indices.map { "[\($0)]" }.joined()): \(message)"
    case .stepLayer(let step, let layer): return "\(source): step \(step), layer \(layer): \(message)"
    case .byteOffset(let offset): return "\(source): byte \(offset): \(message)"
    }
  }
}

/// The largest load accepted: 2^53, the last integer up to which every integer is a `Double`.
let maxExactLoad: Double = 9_007_199_254_740_992

/// The suffix every load error message ends with.
let loadExpectation = "expected a finite non-negative number"

/// Renders a load for an error message: integral values without a fraction, others as Swift
/// prints them (`nan`, `inf`, `-0.5`).
func describeLoad(_ value: Double) -> String {
  if value.isFinite, value == value.rounded(), abs(value) < 1e18 {
    return String(Int64(value))
  }
  return "\(value)"
}

/// A report that cannot be rendered as asked.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The layer asked for (e.g. with `--layer`) is not among the report's layers (listed).
  case unknownLayer(Int, available: [Int])

  public var message: String {
    switch self {
    case .unknownLayer(let layer, let available):
      let list = available.isEmpty ? "none" : available.map(String.init).joined(separator: ", ")
      return "layer \(layer) is not in this report (layers: \(list)); pick one of them with --layer"
    }
  }

  public var description: String { message }
}

/// A report that cannot be rendered as asked.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The layer asked for (e.g. with `--layer`) is not among the report's layers (listed).
  case unknownLayer(Int, available: [Int])
  /// A stored snapshot names an algorithm this epbctl does not know (written by a newer one).
  case unknownAlgorithm(snapshot: Int64, name: String)

  public var message: String {
    switch self {
    case .unknownLayer(let layer, let available):
      let list = available.isEmpty ? "none" : available.map(String.init).joined(separator: ", ")
      return "layer \(layer) is not in this report (layers: \(list)); pick one of them with --layer"
    case .unknownAlgorithm(let snapshot, let name):
      return "snapshot \(snapshot) was planned with '\(name)', unknown to this epbctl; use a newer one"
    }
  }

  public var description: String { message }
}

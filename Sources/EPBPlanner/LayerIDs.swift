/// Model layer ids: which layer of the model each stored layer is.
///
/// A series stores the layers its inputs name, by the model's own ids: SGLang's rows
/// `0..<num_hidden_layers` (dense layers present as zeros), TensorRT-LLM's `layer_idx` (the MoE
/// layers only, 3 to 60 for DeepSeek-V3), the `layer` column of CSV and JSON lines, or
/// `--first-layer` / `--layer-ids` for inputs that hold a bare `[L][E]` block per step.
public enum LayerIDs {
  /// `ids` in short form for messages and tables, ranges of consecutive ids joined:
  /// `[3, 4, 5, 60]` → `3 to 5, 60`; `[]` → `none`.
  public static func describe(_ ids: [Int]) -> String {
    ranges(ids).map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound) to \($0.upperBound)" }
      .joined(separator: ", ").nonEmpty ?? "none"
  }

  /// `ids` as the list syntax `--layer` and `--layer-ids` take: `[3, 4, 5, 60]` → `3-5,60`.
  public static func list(_ ids: [Int]) -> String {
    ranges(ids).map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
      .joined(separator: ",")
  }

  /// Runs of consecutive ids, in order (`ids` increasing).
  static func ranges(_ ids: [Int]) -> [ClosedRange<Int>] {
    var out: [ClosedRange<Int>] = []
    for id in ids {
      if let last = out.last, last.upperBound + 1 == id {
        out[out.count - 1] = last.lowerBound...id
      } else {
        out.append(id...id)
      }
    }
    return out
  }

  /// True when `ids` are non-negative and strictly increasing.
  public static func isValid(_ ids: [Int]) -> Bool {
    zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 } && (ids.first ?? 0) >= 0
  }
}

extension String {
  fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}

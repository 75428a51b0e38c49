import Foundation

/// A snapshot reference as users write it (`--base`, `show`, `diff`, `export`): an id,
/// `latest`, or `latest~N` (the Nth before the latest). Every store resolves it the same way.
package enum SnapshotReference: Equatable, Sendable {
  case id(Int64)
  /// `back` snapshots before the latest (0: the latest).
  case latest(back: Int)

  /// - throws: `StoreError.unknownSnapshot` saying what a reference looks like.
  package init(_ text: String) throws(StoreError) {
    let ref = text.trimmingCharacters(in: .whitespaces)
    if ref == "latest" {
      self = .latest(back: 0)
    } else if ref.hasPrefix("latest~") {
      guard let n = Int(ref.dropFirst("latest~".count)), n >= 0 else {
        throw .unknownSnapshot(reference: text, detail: "expected an id, `latest` or `latest~N` with N ≥ 0")
      }
      self = .latest(back: n)
    } else {
      guard let id = Int64(ref), id > 0 else {
        throw .unknownSnapshot(reference: text, detail: "expected an id, `latest` or `latest~N`")
      }
      self = .id(id)
    }
  }

  /// The snapshot this reference means, from what the store found: for `latest~N`, the ids of
  /// the newest `N + 1` snapshots in the scope (newest first); for an id, `[id]` when it exists
  /// in the scope, else `[]`.
  ///
  /// - throws: `StoreError.unknownSnapshot` saying why nothing matches.
  package func pick(_ found: [Int64], reference: String, series: String?) throws(StoreError) -> Int64 {
    let scope = series.map { " in series '\($0)'" } ?? ""
    switch self {
    case .latest(let back):
      guard found.count == back + 1 else {
        throw .unknownSnapshot(
          reference: reference,
          detail: found.isEmpty
            ? "there is no snapshot\(scope) yet; create one with `epbctl plan`"
            : "only \(found.count) snapshot(s)\(scope), so `latest~\(found.count - 1)` is the oldest")
      }
      return found[back]
    case .id(let id):
      guard found == [id] else {
        throw .unknownSnapshot(reference: reference, detail: "no snapshot has id \(id)\(scope)")
      }
      return id
    }
  }
}

import ArgumentParser
import Foundation

/// `--layer N|all`, also `3,5,10-12`: which layers a command works on (ids 0 to 4095).
enum LayerSelection: ExpressibleByArgument, Equatable, CustomStringConvertible {
  case all
  case some([Int])

  init?(argument: String) {
    let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
    if text == "all" {
      self = .all
      return
    }
    var layers: [Int] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
      // Ids past `FlagLimits.layerIDs` (0 to 4095) are refused here, before `a...b` is expanded.
      let ids = FlagLimits.layerIDs
      if bounds.count == 1, let n = Int(bounds[0]), ids.contains(n) {
        layers.append(n)
      } else if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), ids.contains(a), ids.contains(b),
        a <= b
      {
        layers.append(contentsOf: a...b)
      } else {
        return nil
      }
    }
    self = .some(Array(Set(layers)).sorted())
  }

  static var defaultCompletionKind: CompletionKind { .default }

  var description: String {
    switch self {
    case .all: return "all"
    case .some(let layers): return layers.map(String.init).joined(separator: ",")
    }
  }

  /// The layer ids, or nil for every layer.
  var layers: [Int]? {
    if case .some(let layers) = self { return layers }
    return nil
  }
}

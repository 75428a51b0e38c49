import Foundation

/// One conformance case from `Tests/Fixtures/golden/` (see its README): the input and the reference
/// outputs of DeepSeek's eplb.py (`deepseek`) and of eplb.py with the seed's replication (`seed`).
public struct GoldenCase: Decodable, Sendable {
  /// `replicate_experts`, `balanced_packing` or `rebalance_experts`.
  public var kind: String
  public var name: String
  public var note: String?
  public var input: Input
  public var expected: Expected

  public struct Input: Decodable, Sendable {
    /// `[rows][n]`: loads per row (layers, or rows of a helper call).
    public var weight: [[Double]]
    /// `balanced_packing`: packs.
    public var numPacks: Int?
    /// `replicate_experts`: replicas per row.
    public var numPhy: Int?
    /// `replicate_experts`: `float64` or `float32`.
    public var dtype: String?
    /// `rebalance_experts` on real data: the original layer id of each row.
    public var layerIDs: [Int]?
    public var replicas: Int?
    public var groups: Int?
    public var nodes: Int?
    public var gpus: Int?
    /// `hierarchical` or `global`.
    public var policy: String?

    enum CodingKeys: String, CodingKey {
      case weight, dtype, replicas, groups, nodes, gpus, policy
      case numPacks = "num_packs"
      case numPhy = "num_phy"
      case layerIDs = "layer_ids"
    }
  }

  public struct Expected: Decodable, Sendable {
    /// `balanced_packing`: `[rows][n]`.
    public var packIndex: [[Int]]?
    public var rankInPack: [[Int]]?
    public var deepseek: AlgorithmResult?
    public var seed: AlgorithmResult?

    enum CodingKeys: String, CodingKey {
      case deepseek, seed
      case packIndex = "pack_index"
      case rankInPack = "rank_in_pack"
    }

    /// The result for `algorithm`: `deepseek`, or `eplb-divisor` (the golden files' `seed`, the
    /// name the algorithm had when they were written, also accepted); nil for any other name.
    public func result(_ algorithm: String) -> AlgorithmResult? {
      switch algorithm {
      case "deepseek": return deepseek
      case "eplb-divisor", "seed": return seed
      default: return nil
      }
    }
  }

  public struct AlgorithmResult: Decodable, Sendable {
    /// `[rows][replicas]`.
    public var phy2log: [[Int]]
    /// `[rows][replicas]`, `replicate_experts` only.
    public var rank: [[Int]]?
    /// `[rows][n]`.
    public var logcnt: [[Int]]
    /// `rebalance_experts`: the evaluation of each row's placement.
    public var layers: [LayerResult]?
    /// Rows where float64 arithmetic would change the placement.
    public var float32SensitiveLayers: [Int]?

    enum CodingKeys: String, CodingKey {
      case phy2log, rank, logcnt, layers
      case float32SensitiveLayers = "float32_sensitive_layers"
    }
  }

  public struct LayerResult: Decodable, Sendable {
    public var gpuLoad: [Double]
    public var peak: Double
    public var mean: Double
    public var balancedness: Double

    enum CodingKeys: String, CodingKey {
      case peak, mean, balancedness
      case gpuLoad = "gpu_load"
    }
  }
}

/// Finds and loads the golden cases.
public enum Golden {
  /// `<repo>/Tests/Fixtures/golden`, where `<repo>` is the nearest folder above `filePath` that
  /// holds `Package.swift` (see `Tests/Fixtures/golden/README.md`).
  public static func directory(filePath: String = #filePath) -> URL {
    TestFiles.directory("golden", filePath: filePath)
  }

  /// The names (without `.json`) of all cases, sorted; empty when the folder is missing.
  public static func caseNames(filePath: String = #filePath) -> [String] {
    let dir = directory(filePath: filePath)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
  }

  /// The names of the cases of one `kind`.
  public static func caseNames(kind: String, filePath: String = #filePath) -> [String] {
    caseNames(filePath: filePath).filter { (try? load($0, filePath: filePath))?.kind == kind }
  }

  /// Loads case `name` (file `name.json`).
  public static func load(_ name: String, filePath: String = #filePath) throws -> GoldenCase {
    let url = directory(filePath: filePath).appendingPathComponent(name + ".json")
    return try JSONDecoder().decode(GoldenCase.self, from: Data(contentsOf: url))
  }
}

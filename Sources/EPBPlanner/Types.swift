/// Per-expert loads of several MoE layers, stored row-major.
///
/// Shape `[layers][experts]`; `values[layer * experts + expert]` is the load of one logical
/// expert in tokens routed to it over a window (or a weighted sum of tokens, with decay).
/// Values are finite and non-negative.
public struct LoadMatrix: Sendable, Equatable {
  /// Number of rows (MoE layers held here; not necessarily the series' layer ids).
  public var layers: Int
  /// Number of logical experts per layer.
  public var experts: Int
  /// `[layers * experts]`, row-major.
  public var values: [Double]

  /// Creates a matrix from row-major values; `values.count` must be `layers * experts`.
  public init(layers: Int, experts: Int, values: [Double]) {
    precondition(layers >= 0 && experts >= 0 && values.count == layers * experts, "LoadMatrix shape mismatch")
    self.layers = layers
    self.experts = experts
    self.values = values
  }

  /// A matrix of zeros, `[layers][experts]`.
  public init(layers: Int, experts: Int) {
    self.init(layers: layers, experts: experts, values: Array(repeating: 0, count: layers * experts))
  }

  /// The loads of row `layer`, `[experts]`.
  public func row(_ layer: Int) -> ArraySlice<Double> {
    values[(layer * experts)..<((layer + 1) * experts)]
  }
}

/// How replicas are placed across the cluster.
public enum PlacementPolicy: String, Sendable, CaseIterable, Codable {
  /// Hierarchical when `groups % nodes == 0`, else global (DeepSeek EPLB's rule).
  case auto
  /// Groups packed onto nodes, replication within each node, replicas packed onto the node's GPUs.
  case hierarchical
  /// One group and one node: replicate over the whole cluster, then pack replicas onto GPUs.
  case global
}

/// The replica-placement algorithms the planner knows.
///
/// `deepseek`, `seed` and `robust` are epbctl's own; `flashlb`, `deepseek-vec`, `snake` and
/// `swift-balancer` are the open peers, reimplemented from their published code (see
/// `FlashLB`, `DeepSeekVec`, `Snake`, `SwiftBalancer` for the sources and the deviations).
public enum PlacementAlgorithm: String, Sendable, CaseIterable, Codable {
  /// Block sums `robust` splits a window into, when it has the window's steps.
  public static let robustBlocks = 64

  /// The algorithm `plan` and `backtest` use without `--algorithm` (`algorithms --json`'s
  /// `"default"`).
  public static let planDefault = PlacementAlgorithm.robust

  /// True for algorithms that want the window's per-step loads (as block sums).
  public var usesScenarios: Bool { scenarioBlocks > 1 }

  /// How many block sums of the window's steps the algorithm plans on (1: the window sum only).
  /// `robust`: `robustBlocks`; `flashlb`: FlashLB's `sample_size` (64); `deepseek-vec`: 64 (SGLang
  /// hands it every forward pass; 64 blocks keep it within the time budget, see `DeepSeekVec`).
  public var scenarioBlocks: Int {
    switch self {
    case .robust: return Self.robustBlocks
    case .flashlb: return FlashLB.sampleSize
    case .deepseekVec: return DeepSeekVec.blocks
    case .deepseek, .eplbDivisor, .snake, .swiftBalancer: return 1
    }
  }

  /// True for the peers (placed by `Peers.place`, not by EPLB's code paths).
  public var isPeer: Bool {
    switch self {
    case .flashlb, .deepseekVec, .snake, .swiftBalancer: return true
    case .deepseek, .eplbDivisor, .robust: return false
    }
  }

  /// True for algorithms that plan from the current placement (the base snapshot).
  public var usesBase: Bool { self == .swiftBalancer }

  /// DeepSeek EPLB as published (greedy replication to the largest load/count).
  case deepseek
  /// EPLB whose replication step uses divisor methods: D'Hondt for the bulk of the redundant
  /// replicas, a Sainte-Laguë / Huntington-Hill A/B for the last tenth, and a one-move fix-up.
  /// It is the replication variant the project started from (`replicate_tail_ab_tiebreak`, an
  /// OpenEvolve entry on DeepSeek's eplb.py), reproduced exactly with its quirks; named `seed`
  /// before, which `PlacementAlgorithm(name:)` still accepts.
  case eplbDivisor = "eplb-divisor"
  /// Plans for the steps to come: FlashLB's hedged in-node placement, groups packed and replicas
  /// swapped for the peaks of the window's block sums, never above no replication on the window
  /// (see `Robust`).
  case robust
  /// vLLM-Ascend's FlashLB: replica counts and LPT placement searched together over weighted
  /// samples of the window (see `FlashLB`).
  case flashlb
  /// SGLang's `deepseek_vec`: each replica where it most lowers the sum of per-step peaks,
  /// zig-zag packing (see `DeepSeekVec`).
  case deepseekVec = "deepseek-vec"
  /// The ADRS EPLB leaderboard's snake: EPLB's replica counts dealt in a snake over the GPUs
  /// (see `Snake`).
  case snake
  /// vLLM-Ascend's SwiftBalancer: incremental from the current placement, only redundant slots
  /// re-chosen, at most one transfer per GPU pair (see `SwiftBalancer`).
  case swiftBalancer = "swift-balancer"

  /// Names accepted besides `rawValue`: `seed`, the name `eplbDivisor` had before (scripts,
  /// and snapshots stored under it).
  public static let aliases: [String: PlacementAlgorithm] = ["seed": .eplbDivisor]

  /// The algorithm named `name`: its `rawValue` or one of the `aliases`.
  public init?(name: String) {
    guard let found = Self(rawValue: name) ?? Self.aliases[name] else { return nil }
    self = found
  }

  /// One sentence for `epbctl algorithms`.
  public var summary: String {
    switch self {
    case .deepseek:
      return "DeepSeek EPLB: replicate the expert with the largest load per replica, then balanced packing."
    case .eplbDivisor:
      return
        "EPLB with divisor-method replication: D'Hondt bulk, Sainte-Lague/Huntington-Hill tail A/B, one-move fix-up (alias: seed)."
    case .robust:
      return
        "Plans for the load to come: FlashLB's hedged samples, groups packed and replicas swapped for the blocks' peaks, never above no replication."
    case .flashlb:
      return
        "vLLM-Ascend FlashLB: replica counts and placement searched together on 64 samples of the window (mean + 0.674 sd)."
    case .deepseekVec:
      return "SGLang deepseek_vec: each replica where it most lowers the sum of per-block peaks, zig-zag packing."
    case .snake:
      return "ADRS leaderboard snake: EPLB's replica counts, replicas dealt heaviest first in a snake over the GPUs."
    case .swiftBalancer:
      return
        "vLLM-Ascend SwiftBalancer: from the current placement, re-choose only redundant slots, one transfer per GPU pair."
    }
  }
}

/// The cluster shape a placement is planned for.
///
/// `replicas` physical expert slots per layer spread evenly over `gpus` GPUs (`replicas / gpus`
/// slots each); GPUs are numbered node-major, so GPU `g` sits on node `g / (gpus / nodes)`.
/// `groups` is the number of expert groups (DeepSeek-V3: 8) that the hierarchical policy keeps
/// on one node each.
public struct Topology: Sendable, Hashable, Codable {
  public var replicas: Int
  public var gpus: Int
  public var nodes: Int
  public var groups: Int

  public init(replicas: Int, gpus: Int, nodes: Int, groups: Int) {
    self.replicas = replicas
    self.gpus = gpus
    self.nodes = nodes
    self.groups = groups
  }

  /// Slots on each GPU, `replicas / gpus`.
  public var slotsPerGPU: Int { replicas / gpus }

  /// GPUs per node for classing moves: `gpus / nodes` when `nodes` divides `gpus`, else 1
  /// (each GPU counts as its own node, as the contract says for the global policy).
  public var gpusPerNode: Int { nodes > 0 && gpus % nodes == 0 ? gpus / nodes : 1 }

  /// The GPU that holds physical slot `slot`.
  public func gpu(ofSlot slot: Int) -> Int { slot / slotsPerGPU }

  /// The node that holds GPU `gpu` (see `gpusPerNode`).
  public func node(ofGPU gpu: Int) -> Int { gpu / gpusPerNode }

  /// The policy that `policy` means for this topology (`auto` resolved by DeepSeek's rule).
  public func resolve(_ policy: PlacementPolicy) -> PlacementPolicy {
    switch policy {
    case .auto: return groups > 0 && groups % nodes == 0 ? .hierarchical : .global
    default: return policy
    }
  }

  /// Checks that this topology can place `experts` logical experts under `policy`.
  ///
  /// - throws: `TopologyError` naming the flag at fault, e.g.
  ///   `--replicas 300 is not a multiple of --gpus 32`.
  public func validate(experts: Int?, policy: PlacementPolicy) throws(TopologyError) {
    if replicas <= 0 { throw TopologyError("--replicas must be positive, got \(replicas)") }
    if gpus <= 0 { throw TopologyError("--gpus must be positive, got \(gpus)") }
    if nodes <= 0 { throw TopologyError("--nodes must be positive, got \(nodes)") }
    if groups <= 0 { throw TopologyError("--groups must be positive, got \(groups)") }
    if replicas % gpus != 0 {
      throw TopologyError("--replicas \(replicas) is not a multiple of --gpus \(gpus)")
    }
    let resolved = resolve(policy)
    if resolved == .hierarchical {
      if gpus % nodes != 0 {
        throw TopologyError("--gpus \(gpus) is not a multiple of --nodes \(nodes) (needed by the hierarchical policy)")
      }
      if groups % nodes != 0 {
        throw TopologyError(
          "--groups \(groups) is not a multiple of --nodes \(nodes) (needed by the hierarchical policy; use --policy global)"
        )
      }
      if replicas % nodes != 0 {
        throw TopologyError("--replicas \(replicas) is not a multiple of --nodes \(nodes)")
      }
    }
    if let experts {
      if replicas < experts {
        throw TopologyError("--replicas \(replicas) is fewer than the \(experts) logical experts")
      }
      if policy != .global && experts % groups != 0 {
        // auto as well: the groups are the model's, whichever policy auto picks.
        throw TopologyError("--groups \(groups) does not divide the \(experts) logical experts")
      }
      if resolved == .hierarchical {
        if experts % groups != 0 {
          throw TopologyError("--groups \(groups) does not divide the \(experts) logical experts")
        }
        // Each node must hold at least one replica per logical expert it hosts.
        if replicas / nodes < experts / nodes {
          throw TopologyError("--replicas \(replicas) leaves a node fewer slots than its experts")
        }
      }
    }
  }
}

/// A topology or flag combination that cannot be planned.
public struct TopologyError: Error, Equatable, Sendable, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// The placement of one layer's logical experts onto physical slots.
///
/// Slot `s` sits on GPU `s / (replicas / gpus)`.
public struct LayerPlacement: Sendable, Equatable, Codable {
  /// `phy2log`, `[replicas]`: the logical expert held by each physical slot.
  public var physicalToLogical: [Int]
  /// `logcnt`, `[experts]`: how many slots hold each logical expert.
  public var logicalCount: [Int]

  public init(physicalToLogical: [Int], logicalCount: [Int]) {
    self.physicalToLogical = physicalToLogical
    self.logicalCount = logicalCount
  }

  /// Builds a placement from `phy2log`, counting replicas per expert; `experts` sets the length of `logcnt`.
  public init(physicalToLogical: [Int], experts: Int) {
    var counts = Array(repeating: 0, count: experts)
    for e in physicalToLogical { counts[e] += 1 }
    self.init(physicalToLogical: physicalToLogical, logicalCount: counts)
  }

  /// `log2phy`, `[experts][maxReplicas]`: the slots of each logical expert in increasing order,
  /// padded with −1 to the largest replica count.
  public var logicalToPhysical: [[Int]] {
    let width = logicalCount.max() ?? 0
    var out = Array(repeating: Array(repeating: -1, count: width), count: logicalCount.count)
    var filled = Array(repeating: 0, count: logicalCount.count)
    for (slot, e) in physicalToLogical.enumerated() {
      out[e][filled[e]] = slot
      filled[e] += 1
    }
    return out
  }
}

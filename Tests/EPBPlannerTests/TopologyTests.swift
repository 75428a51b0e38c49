import EPBPlanner
import Testing

@Suite struct TopologyTests {
  func message(_ t: Topology, experts: Int? = 256, policy: PlacementPolicy = .auto) -> String? {
    do {
      try t.validate(experts: experts, policy: policy)
      return nil
    } catch {
      return error.message
    }
  }

  @Test func validTopologiesPass() {
    #expect(message(Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8)) == nil)
    #expect(message(Topology(replicas: 320, gpus: 64, nodes: 8, groups: 8)) == nil)
    #expect(message(Topology(replicas: 288, gpus: 32, nodes: 3, groups: 8)) == nil)  // global
  }

  @Test func messagesNameTheFlag() {
    #expect(
      message(Topology(replicas: 300, gpus: 32, nodes: 4, groups: 8))
        == "--replicas 300 is not a multiple of --gpus 32")
    #expect(message(Topology(replicas: 0, gpus: 32, nodes: 4, groups: 8)) == "--replicas must be positive, got 0")
    #expect(message(Topology(replicas: 288, gpus: 0, nodes: 4, groups: 8)) == "--gpus must be positive, got 0")
    #expect(
      message(Topology(replicas: 240, gpus: 32, nodes: 4, groups: 8), experts: 256)
        == "--replicas 240 is not a multiple of --gpus 32")
    #expect(
      message(Topology(replicas: 224, gpus: 32, nodes: 4, groups: 8), experts: 256)
        == "--replicas 224 is fewer than the 256 logical experts")
    #expect(
      message(Topology(replicas: 288, gpus: 30, nodes: 4, groups: 8), policy: .hierarchical)
        == "--replicas 288 is not a multiple of --gpus 30")
    #expect(
      message(Topology(replicas: 288, gpus: 32, nodes: 3, groups: 8), policy: .hierarchical)
        == "--gpus 32 is not a multiple of --nodes 3 (needed by the hierarchical policy)")
    #expect(
      message(Topology(replicas: 288, gpus: 32, nodes: 4, groups: 12), experts: 256)
        == "--groups 12 does not divide the 256 logical experts")
  }

  @Test func autoPolicyFollowsDeepSeek() {
    #expect(Topology(replicas: 288, gpus: 32, nodes: 4, groups: 8).resolve(.auto) == .hierarchical)
    #expect(Topology(replicas: 288, gpus: 32, nodes: 3, groups: 8).resolve(.auto) == .global)
  }

  @Test func planThrowsTheValidationError() {
    let loads = LoadMatrix(layers: 1, experts: 256, values: Array(repeating: 1, count: 256))
    #expect(throws: TopologyError("--replicas 300 is not a multiple of --gpus 32")) {
      try Planner.plan(
        loads, layerIDs: [0], topology: Topology(replicas: 300, gpus: 32, nodes: 4, groups: 8), policy: .auto,
        algorithm: .deepseek)
    }
  }
}

#if Postgres
  import EPBPlanner
  import EPBStore
  import PostgresNIO

  extension PostgresStore {
    public func saveSnapshot(_ new: Snapshot) throws(StoreError) -> Int64 {
      try writeRetrying { (try insertSnapshot(new, series: try requireSeries(new.series).id), commit: true) }
    }

    /// Inserts `new` (its `id` ignored, its `createdAt` and base kept) with its layers into the
    /// series `seriesID`; returns its id.
    func insertSnapshot(_ new: Snapshot, series seriesID: Int64) throws -> Int64 {
      let plan = new.plan
      let t = plan.topology
      var binds = PostgresBindings()
      binds.append(seriesID)
      binds.append(new.createdAt)
      binds.append(new.algorithmName)
      binds.append(plan.policy.rawValue)
      for value in [t.replicas, t.gpus, t.nodes, t.groups, new.windowFrom, new.windowTo, new.windowSteps] {
        binds.append(value)
      }
      binds.append(new.halfLife)
      binds.append(new.baseSnapshotID)
      binds.append(new.toolVersion)
      binds.append(new.parameters)
      let id = try decode(
        query(
          """
          INSERT INTO snapshot (series_id, created_at, algorithm, policy, replicas, gpus, nodes, groups,
                                window_from, window_to, window_steps, half_life, base_snapshot_id, tool_version,
                                parameters)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id
          """, binds
        ).first, as: Int64.self)!
      var layers = PostgresBindings()
      layers.append(id)
      layers.append(plan.layers.map(\.layer))
      layers.append(plan.layers.map { SQLiteStore.jsonArray($0.placement.physicalToLogical) })
      layers.append(plan.layers.map { SQLiteStore.jsonArray($0.placement.logicalCount) })
      layers.append(plan.layers.map { SQLiteStore.jsonArray($0.statistics.evaluation.gpuLoad) })
      layers.append(plan.layers.map(\.statistics.evaluation.peak))
      layers.append(plan.layers.map(\.statistics.evaluation.mean))
      layers.append(plan.layers.map(\.statistics.noReplicationPeak))
      layers.append(plan.layers.map(\.statistics.lowerBound))
      try execute(
        """
        INSERT INTO snapshot_layer (snapshot_id, layer, phy2log, logcnt, gpu_load, peak, mean, no_replication_peak,
                                    lower_bound)
        SELECT $1, l, p, c, g, pk, m, n, lb
        FROM unnest($2::int8[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[],
                    $9::float8[]) AS u(l, p, c, g, pk, m, n, lb)
        """, layers)
      var skipped = PostgresBindings()
      skipped.append(id)
      skipped.append(plan.skippedLayers)
      try execute(
        "INSERT INTO snapshot_skipped_layer (snapshot_id, layer) SELECT $1, unnest($2::int8[])", skipped)
      return id
    }

    /// The snapshot columns every read selects, `p` being `snapshot` joined with its series `s`.
    private static let snapshotColumns = """
      p.id, s.name, p.created_at, p.algorithm, p.policy, p.replicas, p.gpus, p.nodes, p.groups, p.window_from,
      p.window_to, p.window_steps, p.half_life, p.base_snapshot_id, p.tool_version, p.parameters
      """

    private struct SnapshotColumns {
      var id: Int64
      var series: String
      var createdAt: String
      var algorithm: String
      var policy: PlacementPolicy
      var topology: Topology
      var windowFrom: Int
      var windowTo: Int
      var windowSteps: Int
      var halfLife: Double?
      var baseSnapshotID: Int64?
      var toolVersion: String
      var parameters: String
    }

    private func snapshotColumns(_ row: PostgresRow) throws -> SnapshotColumns {
      var cells = row.makeIterator()
      func next<T: PostgresDecodable>(_: T.Type) throws -> T {
        guard let cell = cells.next() else { throw StoreError.database(path: path, detail: "missing column") }
        return try cell.decode(T.self)
      }
      let id = try next(Int64.self)
      let series = try next(String.self)
      let createdAt = try next(String.self)
      let algorithm = try next(String.self)
      let policy = PlacementPolicy(rawValue: try next(String.self)) ?? .global
      let topology = Topology(
        replicas: try next(Int.self), gpus: try next(Int.self), nodes: try next(Int.self), groups: try next(Int.self))
      return SnapshotColumns(
        id: id, series: series, createdAt: createdAt, algorithm: algorithm, policy: policy, topology: topology,
        windowFrom: try next(Int.self), windowTo: try next(Int.self), windowSteps: try next(Int.self),
        halfLife: try next(Double?.self), baseSnapshotID: try next(Int64?.self), toolVersion: try next(String.self),
        parameters: try next(String.self))
    }

    public func snapshots(series: String?) throws(StoreError) -> [SnapshotSummary] {
      try read {
        if let series { _ = try requireSeries(series) }
        var binds = PostgresBindings()
        binds.append(series)
        let rows = try query(
          """
          SELECT \(Self.snapshotColumns),
                 (SELECT COUNT(*) FROM snapshot_layer WHERE snapshot_id = p.id),
                 (SELECT SUM(mean) / NULLIF(SUM(peak), 0) FROM snapshot_layer WHERE snapshot_id = p.id)
          FROM snapshot p JOIN series s ON s.id = p.series_id
          WHERE ($1::text IS NULL OR s.name = $1)
          ORDER BY p.id
          """, binds)
        return try rows.map { row in
          let p = try snapshotColumns(row)
          let cells = Array(row)
          let layers = try cells[16].decode(Int.self)
          let balancedness = try cells[17].decode(Double?.self)
          return SnapshotSummary(
            id: p.id, series: p.series, createdAt: p.createdAt, algorithm: p.algorithm, policy: p.policy,
            topology: p.topology, windowFrom: p.windowFrom, windowTo: p.windowTo, halfLife: p.halfLife,
            layers: layers, balancednessWeighted: balancedness ?? 1)
        }
      }
    }

    public func resolveSnapshot(_ reference: String, series: String?) throws(StoreError) -> Int64 {
      let parsed = try SnapshotReference(reference)
      return try read {
        let seriesID = try series.map { try requireSeries($0).id }
        switch parsed {
        case .latest(let back):
          var binds = PostgresBindings()
          binds.append(seriesID)
          binds.append(back + 1)
          let ids = try query(
            "SELECT id FROM snapshot WHERE ($1::int8 IS NULL OR series_id = $1) ORDER BY id DESC LIMIT $2", binds
          ).map { try decode($0, as: Int64.self) }
          return try parsed.pick(ids, reference: reference, series: series)
        case .id(let id):
          var binds = PostgresBindings()
          binds.append(id)
          binds.append(seriesID)
          let found = try query(
            "SELECT 1 FROM snapshot WHERE id = $1 AND ($2::int8 IS NULL OR series_id = $2)", binds
          ).first
          return try parsed.pick(found == nil ? [] : [id], reference: reference, series: series)
        }
      }
    }

    public func snapshot(id: Int64) throws(StoreError) -> Snapshot {
      try read {
        var binds = PostgresBindings()
        binds.append(id)
        guard
          let row = try query(
            "SELECT \(Self.snapshotColumns) FROM snapshot p JOIN series s ON s.id = p.series_id WHERE p.id = $1", binds
          ).first
        else {
          throw StoreError.unknownSnapshot(reference: String(id), detail: "no snapshot has id \(id)")
        }
        let p = try snapshotColumns(row)
        let layers = try query(
          """
          SELECT layer, phy2log, logcnt, gpu_load, peak, mean, no_replication_peak, lower_bound
          FROM snapshot_layer WHERE snapshot_id = $1 ORDER BY layer
          """, binds
        ).map { row -> PlannedLayer in
          let (layer, phy2log, logcnt, gpuLoad, peak, mean, noReplicationPeak, lowerBound) = try decode(
            row, as: (Int, String, String, String, Double, Double, Double, Double).self)
          return PlannedLayer(
            layer: layer,
            placement: LayerPlacement(
              physicalToLogical: try SQLiteStore.decodeArray(phy2log, what: "phy2log", snapshot: id),
              logicalCount: try SQLiteStore.decodeArray(logcnt, what: "logcnt", snapshot: id)),
            statistics: LayerStatistics(
              evaluation: LayerEvaluation(
                gpuLoad: try SQLiteStore.decodeArray(gpuLoad, what: "gpu_load", snapshot: id), peak: peak, mean: mean),
              noReplicationPeak: noReplicationPeak, lowerBound: lowerBound))
        }
        let skipped = try query(
          "SELECT layer FROM snapshot_skipped_layer WHERE snapshot_id = $1 ORDER BY layer", binds
        ).map { try decode($0, as: Int.self) }
        guard let algorithm = Snapshot.algorithm(named: p.algorithm) else {
          throw StoreError.unknownAlgorithm(snapshot: id, name: p.algorithm)
        }
        return Snapshot(
          id: p.id, series: p.series, createdAt: p.createdAt, algorithmName: p.algorithm,
          plan: Plan(
            topology: p.topology, policy: p.policy, algorithm: algorithm, layers: layers, skippedLayers: skipped),
          windowFrom: p.windowFrom, windowTo: p.windowTo, windowSteps: p.windowSteps, halfLife: p.halfLife,
          baseSnapshotID: p.baseSnapshotID, toolVersion: p.toolVersion, parameters: p.parameters)
      }
    }
  }
#endif

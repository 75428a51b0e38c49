import EPBEngines
import EPBPlanner
import Foundation

/// The ingest rules every store shares: what an input must be to join a series, and the stored
/// form of its rows. A store supplies the transaction and the SQL.
package enum IngestRules {
  /// The input's shape must match the series': the same experts, the same model layer ids (an
  /// input naming layers one row at a time may hold some of them), and at least one row.
  ///
  /// - throws: `StoreError.shapeMismatch` saying what differs.
  package static func checkShape(_ batch: LoadBatch, series: SeriesInfo, source: IngestSource) throws(StoreError) {
    let name = series.name
    let inputIDs = batch.declaredLayerIDs
    if batch.experts != series.experts {
      throw .shapeMismatch(
        series: name, source: source.path,
        detail: "the input has \(plural(batch.experts, "expert")) per layer, the series has \(series.experts)")
    }
    if batch.statesAllLayers && inputIDs != series.layerIDs {
      let detail =
        inputIDs.count != series.layers
        ? "the input has \(plural(inputIDs.count, "layer")), the series has \(series.layers)"
        : "the input's layers are model layers \(LayerIDs.describe(inputIDs)), the series' are "
          + "\(LayerIDs.describe(series.layerIDs)); give the input's ids with --first-layer or --layer-ids"
      throw .shapeMismatch(series: name, source: source.path, detail: detail)
    }
    if batch.statesAllLayers {
      // A reader that states its layers but names another on a row (a bug of the reader).
      let stated = Set(inputIDs)
      if let stray = batch.rows.first(where: { !stated.contains($0.layer) }) {
        throw .shapeMismatch(
          series: name, source: source.path,
          detail: "the input names layer \(stray.layer), outside its own layers \(LayerIDs.describe(inputIDs))")
      }
    } else {
      let known = Set(series.layerIDs)
      if let outside = batch.rows.first(where: { !known.contains($0.layer) }) {
        throw .shapeMismatch(
          series: name, source: source.path,
          detail: "the input names layer \(outside.layer), the series has layers \(LayerIDs.describe(series.layerIDs))")
      }
    }
    if batch.rows.isEmpty {
      throw .shapeMismatch(series: name, source: source.path, detail: "the input holds no load")
    }

  }

  /// The stored form of some rows of a batch, computed on every core before the insert loop
  /// (which SQLite runs on one): per row, its codec encoding and blob, its total and `rowHash`.
  /// Arrays are indexed like `rows` (positions in `batch.rows`).
  package struct EncodedRows {
    package var encodings: [Int]
    package var blobs: [[UInt8]]
    package var totals: [Double]
    package var hashes: [UInt64]

    package init(_ batch: LoadBatch, rows: [Int]) {
      let n = rows.count
      let experts = batch.experts
      var encodings = [Int](repeating: 0, count: n)
      var blobs = [[UInt8]](repeating: [], count: n)
      var totals = [Double](repeating: 0, count: n)
      var hashes = [UInt64](repeating: 0, count: n)
      // Chunks of at least 256 rows (a small batch stays on this thread).
      let chunks = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8, n / 256))
      encodings.withUnsafeMutableBufferPointer { encodings in
        blobs.withUnsafeMutableBufferPointer { blobs in
          totals.withUnsafeMutableBufferPointer { totals in
            hashes.withUnsafeMutableBufferPointer { hashes in
              let out = Outputs(encodings: encodings, blobs: blobs, totals: totals, hashes: hashes)
              DispatchQueue.concurrentPerform(iterations: chunks) { c in
                for k in (c * n / chunks)..<((c + 1) * n / chunks) {
                  let i = rows[k]
                  let values = batch.values[(i * experts)..<((i + 1) * experts)]
                  var blob: [UInt8] = []
                  out.encodings[k] = LoadCodec.encode(values, into: &blob)
                  out.blobs[k] = blob
                  out.totals[k] = values.reduce(0, +)
                  out.hashes[k] = IngestRules.rowHash(layer: batch.rows[i].layer, values)
                }
              }
            }
          }
        }
      }
      (self.encodings, self.blobs, self.totals, self.hashes) = (encodings, blobs, totals, hashes)
    }

    /// The four output buffers, shared by the chunks: each chunk writes only its own indices,
    /// and all are done before the buffers are read.
    private struct Outputs: @unchecked Sendable {
      let encodings: UnsafeMutableBufferPointer<Int>
      let blobs: UnsafeMutableBufferPointer<[UInt8]>
      let totals: UnsafeMutableBufferPointer<Double>
      let hashes: UnsafeMutableBufferPointer<UInt64>
    }
  }

  /// A 64-bit hash of one (layer, loads) row, `[experts]` tokens: equal rows hash equal
  /// whatever format they came from (the values, not their encoding, are hashed). Combined by
  /// XOR into `step.loads_hash`, so the order rows arrive in does not matter.
  package static func rowHash(layer: Int, _ values: ArraySlice<Double>) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ (UInt64(truncatingIfNeeded: layer) &* 0x9E37_79B9_7F4A_7C15)
    for v in values {
      let bits = v == 0 ? 0 : v.bitPattern  // -0 and 0 alike
      h = (h ^ bits) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 32
    }
    // splitmix64's finalizer, so that XOR-combined rows do not cancel by structure.
    h ^= UInt64(truncatingIfNeeded: values.count)
    h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
    h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
    return h ^ (h >> 31)
  }

  /// The hash column's value until a pending hash is known (unique, never a hex digest).
  package static func placeholderHash(_ source: IngestSource) -> String {
    if case .known(let hash) = source.hash { return hash }
    return "pending-" + UUID().uuidString
  }

}

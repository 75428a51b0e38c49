import ArgumentParser
import EPBEngines
import EPBIngest
import EPBPlanner
import EPBReport
import EPBStore
import Foundation

extension InputFormat: ExpressibleByArgument {
  /// A format name, or an alias kept working (`vllm` for `load-history`).
  public init?(argument: String) { self.init(name: argument) }
}

extension Epbctl {
  struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record per-expert loads from files (or stdin) into a series.",
      discussion: """
        Formats: SGLang `logical_count` JSON ([L][E] or [T][L][E]), load-history JSON \
        (`load_history`: the EPLB evaluation dataset of the ADRS / OpenEvolve work, recorded \
        from vLLM, which writes no load file itself; `vllm` is an alias), CSV \
        `step,layer,expert,load`, NumPy .npy [T,L,E] or [L,E], and JSON lines \
        (`{"step","layer","loads"}` or `{"step","loads":[[…]]}`). Each file is stored whole or \
        not at all; the same content again is reported as already-ingested. Inputs without step \
        numbers are appended after the series' last step. Every file is tried, in order: one that \
        fails stores nothing and is reported (status `failed` with --json), the others are \
        stored, and the exit status is 1. Rows already stored with the same loads are accepted \
        (a retry); rows stored with other loads need --replace. New steps that repeat the loads \
        of stored steps (the same dump ingested in two formats) are pointed out on stderr.

        Layers are the model's layer ids: the `layer` column of CSV and JSON lines, SGLang's \
        rows (every hidden layer, dense ones as zeros). An [L][E] block per step (npy, \
        load-history, JSON lines without "layer") is layers 0 to L-1 unless --first-layer K \
        (layers K to K+L-1) or --layer-ids LIST says which model layers it holds: a MoE-only \
        DeepSeek-V3 dump of 58 layers is --first-layer 3. Later inputs into a series must hold \
        the same layer ids.

        With --placement, FILE is instead the placement an engine is running, told apart by \
        content: SGLang's `{"physical_to_logical_map": [L][R]}` (row k is model layer k), \
        vLLM-Ascend's expert map JSON (MoE layers counted from 0, as `expert_map_path` and \
        `expert_map_record_path` hold them) or TensorRT-LLM's load balancer YAML \
        (`initial_global_assignments` keyed by model layer id) - the files `epbctl export` writes. It \
        is recorded as a snapshot of the series, so `diff` can compare a new plan with what is \
        deployed.

        Example:
          epbctl ingest Examples/sglang/*.json --series dsv3
          epbctl ingest moe_loads.npy --first-layer 3 --series dsv3-moe
          epbctl ingest running.json --placement --series dsv3 \\
            --gpus 32 --nodes 4 --groups 8
          tail -f loads.jsonl | epbctl ingest - --format jsonl --series live
        """)

    @OptionGroup var database: DatabaseOptions

    @Argument(
      help:
        "Input files or folders (TensorRT-LLM statistics, SGLang per-pass rank files); - reads stdin (then --format is required)."
    )
    var files: [String] = []

    @Option(help: "The series to record into (created on first use).")
    var series = "default"

    @Option(help: "auto, sglang, load-history (alias vllm), csv, npy, jsonl, sglang-pt or trtllm-statistics.")
    var format: InputFormat = .auto

    @Flag(help: "Overwrite (step, layer) rows that are already stored instead of failing.")
    var replace = false

    @Flag(
      help: ArgumentHelp(
        "An SGLang stat dump's non-zero rows become steps, in file order, instead of one step (their sum).",
        discussion: "Only for a recorder run with an unbounded buffer (--expert-distribution-recorder-buffer-size -1): "
          + "its default buffer is a ring whose write position is not saved, so its rows are not in time order."))
    var rowsAsSteps = false

    @Option(
      help: ArgumentHelp(
        "Keep running and ingest each new complete dump that appears in DIR (a recorder's output folder), once.",
        valueName: "DIR"))
    var watch: String?

    @Option(parsing: .unconditional, help: "With --watch: seconds between looks at the folder.")
    var interval: Double = 2

    @Option(parsing: .unconditional, help: "With stdin JSON lines: commit after this many lines.")
    var batchLines = 1000

    @Option(
      parsing: .unconditional,
      help: ArgumentHelp(
        "The model layer id of the input's first layer: an [L][E] block per step is layers K to K+L-1.",
        valueName: "K"))
    var firstLayer: Int?

    @Option(
      help: ArgumentHelp(
        "The model layer ids of the input's layers, increasing, such as 3-60 or 1,3,5 (an [L][E] block: one per layer).",
        valueName: "LIST"))
    var layerIds: String?

    @Flag(help: "FILE is a placement an engine runs (SGLang, vLLM-Ascend or TensorRT-LLM): record it as a snapshot.")
    var placement = false

    @Option(parsing: .unconditional, help: "With --placement: GPUs the placement runs on.")
    var gpus: Int?

    @Option(parsing: .unconditional, help: "With --placement: nodes.")
    var nodes = 1

    @Option(parsing: .unconditional, help: "With --placement: expert groups.")
    var groups = 1

    @Option(help: "With --placement: auto, hierarchical or global.")
    var policy: PlacementPolicy = .auto

    @OptionGroup var window: WindowOptions

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func validate() throws {
      if let watch {
        if !files.isEmpty {
          throw ValidationError("--watch \(watch) takes no FILE arguments; it ingests what appears in the folder")
        }
        if placement { throw ValidationError("--watch ingests loads; --placement records one file") }
        try FlagLimits.check(interval, flag: "--interval", 0.1...3600)
        try FlagLimits.checkSeries(series)
        return
      }
      if rowsAsSteps && placement {
        throw ValidationError("--rows-as-steps reads loads; --placement records a placement")
      }
      if files.isEmpty { throw ValidationError("give at least one FILE, or - for stdin") }
      if files.contains("-") && format == .auto {
        throw ValidationError("reading stdin needs --format sglang|load-history|csv|npy|jsonl")
      }
      if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("stdin (-) can be given once") }
      try FlagLimits.check(batchLines, flag: "--batch-lines", FlagLimits.batchLines)
      try FlagLimits.checkSeries(series)
      if firstLayer != nil && layerIds != nil {
        throw ValidationError("--first-layer and --layer-ids both number the layers; give one of them")
      }
      if let firstLayer { try FlagLimits.check(firstLayer, flag: "--first-layer", FlagLimits.layerIDs) }
      if let layerIds { _ = try Self.parseLayerIDs(layerIds) }
      if placement && (firstLayer != nil || layerIds != nil) {
        throw ValidationError(
          "--first-layer and --layer-ids number the layers of loads; a placement is matched to the series' layer ids")
      }
      if placement {
        if files.count != 1 { throw ValidationError("--placement records one file at a time") }
        guard let gpus else { throw ValidationError("--placement needs --gpus (the GPUs it runs on)") }
        try FlagLimits.check(gpus, flag: "--gpus", FlagLimits.slots)
        try FlagLimits.check(nodes, flag: "--nodes", FlagLimits.nodes)
        try FlagLimits.check(groups, flag: "--groups", FlagLimits.slots)
        if gpus % nodes != 0 {
          throw ValidationError(
            "--gpus \(gpus) is not a multiple of --nodes \(nodes); every node holds the same number of GPUs")
        }
      } else if gpus != nil || window.isSet {
        throw ValidationError("--gpus and window flags go with --placement")
      }
    }

    /// `--layer-ids LIST`: ids and ranges (`3-60`, `1,3,5`), each 0 to 4095, strictly increasing
    /// as written (position i of the input is the i-th id, so the order is not changed silently).
    static func parseLayerIDs(_ text: String) throws -> [Int] {
      var ids: [Int] = []
      for part in text.split(separator: ",", omittingEmptySubsequences: false) {
        let bounds = part.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        let range = FlagLimits.layerIDs
        if bounds.count == 1, let n = Int(bounds[0]), range.contains(n) {
          ids.append(n)
        } else if bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), range.contains(a),
          range.contains(b), a <= b
        {
          ids.append(contentsOf: a...b)
        } else {
          throw ValidationError(
            "--layer-ids takes layer ids \(range.lowerBound) to \(range.upperBound) and ranges such as 3-60 or 1,3,5; got '\(text)'"
          )
        }
      }
      guard LayerIDs.isValid(ids) else {
        throw ValidationError(
          "--layer-ids must be increasing, one id per layer of the input in order; got '\(text)'")
      }
      return ids
    }

    /// `--first-layer` or `--layer-ids`, nil without them.
    var layerIDOption: LayerIDOption? {
      if let firstLayer { return .first(firstLayer) }
      if let layerIds, let ids = try? Self.parseLayerIDs(layerIds) { return .list(ids) }
      return nil
    }

    func run() throws {
      if let watch {
        let ingestor = Ingestor(store: try database.open(create: true))
        // Ctrl-C and SIGTERM stop the watch even when the parent started us with them blocked or
        // ignored (a supervisor, a test harness): each dump is stored in one transaction, so
        // stopping between or during ingests loses nothing stored.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for s in [SIGINT, SIGTERM] {
          sigaddset(&stopSignals, s)
          signal(s, SIG_DFL)
        }
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        Output.diagnostic("watching \(watch) every \(interval) s for new dumps; stop with Ctrl-C")
        try ingestor.watch(folder: watch, series: series, interval: interval, rowsAsSteps: rowsAsSteps) { event in
          switch event {
          case .ingested(let r):
            // Unbuffered, so a script reading the pipe sees each ingest as it happens.
            FileHandle.standardOutput.write(Data((IngestReport.watchLine(r) + "\n").utf8))
          case .failed(let path, let error):
            Output.diagnostic("\(path): not ingested: \(error)")
          }
        }
        return
      }
      if placement {
        let ingestor = Ingestor(store: try database.open(create: false))
        let record = try ingestor.recordPlacement(
          path: files[0], series: series, gpus: gpus!, nodes: nodes, groups: groups, policy: policy,
          window: window.spec, toolVersion: Epbctl.version)
        window.noteClipping(
          series: series, from: record.windowFrom, to: record.windowTo, steps: record.windowSteps)
        let report = SnapshotReport(record)
        if json {
          Output.json(report.json())
        } else {
          print(report.table())
          print("recorded the placement in \(files[0]) as snapshot \(record.id ?? 0)")
        }
        return
      }
      let ingestor = Ingestor(store: try database.open(create: true))
      let inputs = Ingestor.inputs(of: files)
      let bar = ProgressBar(total: Ingestor.inputSizes(inputs).reduce(0, +))
      defer { bar.finish() }
      let results = ingestor.ingestEach(
        files, series: series, format: format, replace: replace, layerIDs: layerIDOption, rowsAsSteps: rowsAsSteps,
        batchLines: batchLines, progress: { done, label in bar.update(done: done, label: label, force: true) })
      bar.finish()
      let report = IngestReport(series: series, results: results, inputs: inputs.count)
      for line in report.diagnostics(json: json) { Output.diagnostic(line) }
      if json {
        Output.json(report.json)
      } else if let table = report.table {
        print(table)
      }
      if !report.failures.isEmpty { throw ExitCode.failure }
    }
  }
}

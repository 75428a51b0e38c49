import ArgumentParser
import EPBEngines
import EPBPlanner
import EPBSimulate
import Foundation

extension TraceFormat: ExpressibleByArgument {
  /// A format name, or `vllm`, the older name of `load-history`.
  public init?(argument: String) {
    if argument == "vllm" {
      self = .loadHistory
    } else {
      self.init(rawValue: argument)
    }
  }
}

extension Epbctl {
  struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write a synthetic MoE load trace from a seeded model of expert routing.",
      discussion: """
        Each layer has a skewed (log-normal) expert popularity that drifts slowly (a stationary \
        AR(1) walk), with occasional bursts on one expert and per-step noise; every step routes \
        --tokens tokens to --top-k experts each, so each (step, layer) sums to tokens × top-k \
        and no expert gets more than --tokens. The same flags and --seed give the same bytes on \
        every platform. The model is documented in docs/simulate.md. The output is in any format \
        `epbctl ingest` reads; `-` writes to stdout.

        Example:
          epbctl simulate --output trace.json --format load-history \\
            --steps 2000 --layers 58 --experts 256 --seed 7
          epbctl ingest trace.json --series sim
        """)

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write, or - for stdout.", valueName: "file"))
    var output: String

    @Option(
      help: "load-history (load_history with step and time; alias vllm), sglang ([T][L][E]), csv, npy (<i4) or jsonl.")
    var format: TraceFormat = .loadHistory

    @Option(parsing: .unconditional, help: "Steps to generate.")
    var steps = RoutingModel.defaults.steps

    @Option(parsing: .unconditional, help: "MoE layers per step.")
    var layers = RoutingModel.defaults.layers

    @Option(parsing: .unconditional, help: "Logical experts per layer.")
    var experts = RoutingModel.defaults.experts

    @Option(parsing: .unconditional, help: "Tokens per step.")
    var tokens = RoutingModel.defaults.tokens

    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Experts each token is routed to.")
    var topK = RoutingModel.defaults.topK

    @Option(help: "Spread (standard deviation) of log-popularity across experts; 0 = uniform.")
    var skew = RoutingModel.defaults.skew

    @Option(help: "Standard deviation of the per-step change of a log-popularity; 0 = no drift.")
    var drift = RoutingModel.defaults.drift

    @Option(name: .customLong("burst-rate"), help: "Probability per step and layer that a burst starts.")
    var burstRate = RoutingModel.defaults.burstRate

    @Option(name: .customLong("burst-size"), help: "Popularity multiplier of a bursting expert.")
    var burstSize = RoutingModel.defaults.burstSize

    @Option(name: .customLong("burst-length"), parsing: .unconditional, help: "Steps a burst lasts.")
    var burstLength = RoutingModel.defaults.burstLength

    @Option(help: "Standard deviation of the per-step log-normal noise on each expert.")
    var noise = RoutingModel.defaults.noise

    @Option(help: "The random seed.")
    var seed = RoutingModel.defaults.seed

    @Option(
      name: .customLong("start-time"), help: "load-history: the time of step 0 in seconds since 1970 (1 s per step).")
    var startTime = 1_790_000_000.0

    var model: RoutingModel {
      RoutingModel(
        steps: steps, layers: layers, experts: experts, tokens: tokens, topK: topK, skew: skew, drift: drift,
        burstRate: burstRate, burstSize: burstSize, burstLength: burstLength, noise: noise, seed: seed)
    }

    func validate() throws {
      try FlagLimits.check(steps, flag: "--steps", FlagLimits.steps)
      try FlagLimits.check(layers, flag: "--layers", 1...(FlagLimits.layerIDs.upperBound + 1))
      try FlagLimits.check(experts, flag: "--experts", FlagLimits.slots)
      try FlagLimits.check(burstLength, flag: "--burst-length", FlagLimits.burstLength)
      // Checked before any work: steps × layers × experts loads, at most what one ingest input holds.
      let (stepLoads, o1) = layers.multipliedReportingOverflow(by: experts)
      let (loads, o2) = steps.multipliedReportingOverflow(by: stepLoads)
      if o1 || o2 || loads > FlagLimits.simulateLoads {
        throw ValidationError(
          "--steps × --layers × --experts must be at most \(FlagLimits.simulateLoads) loads (what one ingest input holds), "
            + "got \(steps) × \(layers) × \(experts)")
      }
      do {
        try model.validate()
      } catch {
        throw ValidationError(error.message)
      }
      if !startTime.isFinite { throw ValidationError("--start-time must be a finite number of seconds") }
      if output.isEmpty { throw ValidationError("--output must name a file, or - for stdout") }
    }

    func run() throws {
      let model = self.model
      let encoder = TraceEncoder(format: format, model: model, startTime: startTime)
      let handle: FileHandle
      if output == "-" {
        handle = FileHandle.standardOutput
      } else {
        guard FileManager.default.createFile(atPath: output, contents: nil) else {
          throw CommandError("cannot write --output \(output): cannot create the file")
        }
        guard let h = FileHandle(forWritingAtPath: output) else {
          throw CommandError("cannot write --output \(output): cannot open the file")
        }
        handle = h
      }
      var buffer = encoder.header()
      var generator = model.makeGenerator()
      var step = 0
      do {
        while let counts = generator.next() {
          buffer += encoder.step(step, counts: counts)
          step += 1
          if buffer.count >= 1 << 22 {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
          }
        }
        buffer += encoder.footer()
        try handle.write(contentsOf: buffer)
        if output != "-" { try handle.close() }
      } catch {
        throw CommandError("cannot write --output \(output): \(error.localizedDescription)")
      }
      if output != "-" {
        Output.diagnostic(
          "wrote \(output): \(format.rawValue), \(plural(steps, "step")) × \(plural(layers, "layer")) × \(plural(experts, "expert")), seed \(seed)"
        )
      }
    }
  }
}

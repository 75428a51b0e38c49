import ArgumentParser
import EPBPlanner
import EPBStore

/// The window flags, meaning the same on every command.
struct WindowOptions: ParsableArguments {
  @Option(
    name: .long, parsing: .unconditional, help: ArgumentHelp("Use the last STEPS stored steps.", valueName: "steps"))
  var window: Int?

  @Option(
    name: .long, parsing: .unconditional, help: ArgumentHelp("First step of the window (inclusive).", valueName: "step")
  )
  var from: Int?

  @Option(
    name: .long, parsing: .unconditional, help: ArgumentHelp("Last step of the window (inclusive).", valueName: "step"))
  var to: Int?

  @Option(
    name: .customLong("half-life"), parsing: .unconditional,
    help: ArgumentHelp("Weight step s by 0.5^((t - s) / STEPS), t the window's last step.", valueName: "steps"))
  var halfLife: Double?

  func validate() throws {
    if let window { try FlagLimits.check(window, flag: "--window", FlagLimits.steps) }
    if let from { try FlagLimits.check(from, flag: "--from", FlagLimits.stepIDs) }
    if let to { try FlagLimits.check(to, flag: "--to", FlagLimits.stepIDs) }
    if let halfLife { try FlagLimits.check(halfLife, flag: "--half-life", FlagLimits.halfLife, positive: true) }
    // The rules that relate the flags are the store's (`WindowSpec.problem`), checked here too so
    // that a contradiction exits 64 before the database is opened.
    if let problem = spec.problem { throw ValidationError(problem) }
  }

  /// True when any window flag was given.
  var isSet: Bool { window != nil || from != nil || to != nil || halfLife != nil }

  var spec: WindowSpec { WindowSpec(last: window, from: from, to: to, halfLife: halfLife) }

  /// Says on stderr, in one line naming the asked and the used range, when the stored steps
  /// clip the window: `--window 5000` on 200 steps, or `--from 150 --to 600` past the last step.
  func noteClipping(_ load: WindowLoad) {
    noteClipping(series: load.series.name, from: load.from, to: load.to, steps: load.steps)
  }

  /// The same note for a window already summed (a snapshot's `windowFrom…windowTo`).
  func noteClipping(series: String, from usedFrom: Int, to usedTo: Int, steps: Int) {
    let used = "steps \(usedFrom) to \(usedTo) (\(plural(steps, "stored step")))"
    if let window, steps < window {
      Output.diagnostic("note: --window \(window) is longer than series '\(series)': using \(used)")
    } else if (from.map { $0 < usedFrom } ?? false) || (to.map { $0 > usedTo } ?? false) {
      let asked = [from.map { "--from \($0)" }, to.map { "--to \($0)" }].compactMap { $0 }.joined(separator: " ")
      Output.diagnostic("note: \(asked) reaches past the steps stored in series '\(series)': using \(used)")
    }
  }
}

import ArgumentParser
import EPBStore

/// The window flags, meaning the same on every command.
struct WindowOptions: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("Use the last STEPS stored steps.", valueName: "steps"))
  var window: Int?

  @Option(name: .long, help: ArgumentHelp("First step of the window (inclusive).", valueName: "step"))
  var from: Int?

  @Option(name: .long, help: ArgumentHelp("Last step of the window (inclusive).", valueName: "step"))
  var to: Int?

  @Option(
    name: .customLong("half-life"),
    help: ArgumentHelp("Weight step s by 0.5^((t - s) / STEPS), t the window's last step.", valueName: "steps"))
  var halfLife: Double?

  func validate() throws {
    if let window, window <= 0 { throw ValidationError("--window must be a positive number of steps, got \(window)") }
    if window != nil && (from != nil || to != nil) {
      throw ValidationError("--window cannot be combined with --from/--to; give one or the other")
    }
    if let from, let to, from > to { throw ValidationError("--from \(from) is after --to \(to)") }
    if let halfLife, !(halfLife > 0 && halfLife.isFinite) {
      throw ValidationError("--half-life must be a positive number of steps, got \(halfLife)")
    }
  }

  /// True when any window flag was given.
  var isSet: Bool { window != nil || from != nil || to != nil || halfLife != nil }

  var spec: WindowSpec { WindowSpec(last: window, from: from, to: to, halfLife: halfLife) }
}

import ArgumentParser
import Foundation

/// `--threads` of the commands that plan (`plan`, `backtest`): layers are planned at once on that
/// many threads; the output is the same for any number.
struct ThreadOptions: ParsableArguments {
  @Option(
    name: .long, parsing: .unconditional,
    help: ArgumentHelp(
      "Layers planned at once (1 to 1024; default: the processors this process may use).", valueName: "n"))
  var threads: Int?

  /// `--threads`, else the active processor count (at least 1).
  var count: Int { threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount) }

  func validate() throws {
    if let threads { try FlagLimits.check(threads, flag: "--threads", FlagLimits.threads) }
  }
}

import Foundation

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar: @unchecked Sendable {
  private let enabled: Bool
  private let total: Int
  private let lock = NSLock()
  private var lastDraw = Date.distantPast

  /// - parameter total: units of work (bytes); 0 hides the bar.
  init(total: Int, enabled: Bool = Output.stderrIsTerminal) {
    self.total = total
    self.enabled = enabled && total > 0
  }

  /// Redraws with `done` units complete and a label; at most ten times a second unless `force`.
  func update(done: Int, label: String, force: Bool = false) {
    guard enabled else { return }
    lock.lock()
    defer { lock.unlock() }
    let now = Date()
    guard force || now.timeIntervalSince(lastDraw) > 0.1 else { return }
    lastDraw = now
    let width = 30
    let fraction = min(1, Double(done) / Double(total))
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let text = "\r[\(bar)] \(String(format: "%3.0f", fraction * 100))% \(label)"
    FileHandle.standardError.write(Data((text.prefix(110) + "\u{1B}[K").utf8))
  }

  /// Clears the line.
  func finish() {
    guard enabled else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}

import Foundation

/// A value computed on a background thread while the caller goes on; `value()` waits for it.
/// Used for the checks that read a whole input once (its SHA-256, a zip entry's CRC-32), so that
/// they cost the other core's time rather than the command's.
package final class Background<Value: Sendable>: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var result: Value?
  private var finished = false

  package init(_ work: @escaping @Sendable () -> Value) {
    Thread.detachNewThread { [self] in
      result = work()
      done.signal()
    }
  }

  /// A value computed already (no thread).
  package init(value: Value) {
    result = value
    finished = true
  }

  /// The value, waiting for the thread if it is still working.
  package func value() -> Value {
    lock.lock()
    defer { lock.unlock() }
    if !finished {
      done.wait()
      finished = true
    }
    return result!
  }
}

import Dispatch
import Foundation
import Synchronization

/// Runs a call on a thread of its own, for tests that need it to block (on a lock, say) while
/// they act, and then to see how it ended.
final class BackgroundCall<Value: Sendable>: Sendable {
    private let ended = Mutex<Result<Value, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Value) {
        Thread { [self] in
            let outcome = Result { try body() }
            ended.withLock { $0 = outcome }
            done.signal()
        }.start()
    }

    /// How the call ended, if it does within `seconds`; nil while it still runs.
    func outcome(within seconds: Double) -> Result<Value, any Error>? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        done.signal()  // so that asking again answers at once
        return ended.withLock { $0 }
    }
}

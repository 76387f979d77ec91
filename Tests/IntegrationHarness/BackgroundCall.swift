import Dispatch
import Foundation
import Synchronization

/// Runs a call on a thread of its own, for tests that need it to block (on a lock, a slow
/// handler, a shutdown) while they act, and then to see how it ended.
public final class BackgroundCall<Value: Sendable>: Sendable {
    private let ended = Mutex<Result<Value, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    public init(_ body: @escaping @Sendable () throws -> Value) {
        Thread { [self] in
            let outcome = Result { try body() }
            ended.withLock { $0 = outcome }
            done.signal()
        }.start()
    }

    /// How the call ended, if it does within `seconds`; nil while it still runs.
    public func outcome(within seconds: Double) -> Result<Value, any Error>? {
        guard done.wait(timeout: .now() + seconds) == .success else { return nil }
        done.signal()  // so that asking again answers at once
        return ended.withLock { $0 }
    }

    /// The call's value (or its error), waiting up to `timeoutSeconds` for it to end.
    public func wait(timeoutSeconds: Double = 60) throws -> Value {
        guard let outcome = outcome(within: timeoutSeconds) else {
            throw HTTPTestClientError("background call did not finish within \(timeoutSeconds) s")
        }
        return try outcome.get()
    }
}

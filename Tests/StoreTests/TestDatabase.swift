import Foundation
import IntegrationHarness
import Store

/// A new database on the shared test cluster, so no test sees another's rows.
func freshDatabase() throws -> String {
    try PostgresCluster.shared().createDatabase()
}

func freshConnection() throws -> PostgresConnection {
    try PostgresConnection(conninfo: freshDatabase())
}

/// Runs `body` on `count` threads of their own at once (not a dispatch pool, whose width is the
/// core count) and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// Lets `parties` threads continue only once all of them arrived.
final class Rendezvous: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0

    init(parties: Int) {
        self.parties = parties
    }

    /// False when the others did not come within `timeout` (so a broken test fails, not hangs).
    @discardableResult
    func arriveAndWait(timeout: Double = 10) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date().addingTimeInterval(timeout)
        while arrived < parties {
            if !condition.wait(until: deadline) { return arrived >= parties }
        }
        return true
    }
}

/// A counter several threads bump.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    private var peak = 0

    @discardableResult
    func add(_ amount: Int = 1) -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += amount
        peak = max(peak, value)
        return value
    }

    var current: Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    /// The highest value it ever had.
    var highest: Int {
        lock.lock()
        defer { lock.unlock() }
        return peak
    }
}

/// A value several threads update.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        stored = value
    }

    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        change(&stored)
    }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

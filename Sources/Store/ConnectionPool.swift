import Foundation

public struct PoolConfiguration: Sendable {
    /// A `postgresql://` URL or `key=value` pairs, as libpq takes them.
    public var conninfo: String
    /// Most connections open at once; beyond that, callers wait (`acquireTimeoutSeconds`).
    public var size: Int
    public var connectTimeoutSeconds: Int = 5
    /// How long a caller waits for a free connection before failing with `.unavailable`.
    public var acquireTimeoutSeconds: Double = 10
    /// How long a statement waits for a lock another transaction holds before it fails with
    /// SQLSTATE 55P03 (`lock_timeout`); nil waits as long as it takes.
    public var lockTimeoutSeconds: Double?

    public init(conninfo: String, size: Int) {
        self.conninfo = conninfo
        self.size = size
    }
}

/// Up to `size` connections, opened on demand and replaced when broken.
///
/// The pool never needs the database to exist at start-up and never gives up on it: while
/// PostgreSQL is down every use fails quickly with `.unavailable` (the API answers 503), and once
/// it is back the next use connects again. A connection that a server restart left stale is
/// noticed before use when possible; when it only fails on its first command, nothing of the
/// caller's work has reached the server, so the work runs once more on a new connection and the
/// first request after a restart succeeds.
public final class ConnectionPool: @unchecked Sendable {
    private let configuration: PoolConfiguration
    private let size: Int
    /// Guards every stored property below and wakes callers waiting for a connection.
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    /// Connections idle, in use or being opened.
    private var open = 0
    private var closed = false

    /// Does not connect: the first use does.
    public init(configuration: PoolConfiguration) {
        self.configuration = configuration
        self.size = max(1, configuration.size)
    }

    /// Connections open now (idle or in use).
    public var openConnectionCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return open
    }

    /// Connections open now and waiting to be used.
    public var idleConnectionCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return idle.count
    }

    /// Runs `body` with a connection of its own, returned to the pool afterwards (or thrown
    /// away if it broke). Waits up to `acquireTimeoutSeconds` when all are in use.
    @discardableResult
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnection(acquireTimeout: configuration.acquireTimeoutSeconds, body)
    }

    /// `withConnection` and `PostgresConnection.transaction`: committed when `body` returns,
    /// rolled back when it throws, run again on serialization failures and deadlocks.
    @discardableResult
    public func transaction<T>(
        isolation: TransactionIsolation? = nil, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        try withConnection { connection in try connection.transaction(isolation: isolation, body) }
    }

    /// Whether PostgreSQL answers `SELECT 1` now. Waits for a free connection no longer than the
    /// connect timeout, so a health check stays quick when the server or the pool is stuck.
    public func ping() -> Bool {
        let wait = min(configuration.acquireTimeoutSeconds, Double(max(1, configuration.connectTimeoutSeconds)))
        do {
            _ = try withConnection(acquireTimeout: wait) { connection in try connection.query("SELECT 1") }
            return true
        } catch {
            return false
        }
    }

    /// Closes idle connections now and the others when they come back; later uses fail.
    public func close() {
        condition.lock()
        closed = true
        let closing = idle
        idle.removeAll()
        open -= closing.count
        condition.broadcast()
        condition.unlock()
        for connection in closing { connection.close() }
    }

    // MARK: Checkout

    /// A connection held outside a closure, for work that starts on one thread and ends on
    /// another (`PostgresConnection.startCommit`); give it back with `checkIn`, once.
    public func checkOut() throws -> PostgresConnection {
        let (connection, _) = try acquire(timeout: configuration.acquireTimeoutSeconds)
        connection.beginCheckout()
        return connection
    }

    /// Gives back a connection from `checkOut`; a transaction left open is rolled back.
    public func checkIn(_ connection: PostgresConnection) {
        release(connection)
    }

    private func withConnection<T>(acquireTimeout: Double, _ body: (PostgresConnection) throws -> T) throws -> T {
        var retried = false
        while true {
            let (connection, reused) = try acquire(timeout: acquireTimeout)
            connection.beginCheckout()
            do {
                let value = try body(connection)
                release(connection)
                return value
            } catch {
                // Only a connection that was opened before and failed on its very first command
                // is worth one more try: the server went away while it sat idle, and nothing the
                // body did reached the server. After that, running the body again could repeat
                // work that was committed.
                let staleAtFirstUse =
                    reused && connection.isBroken && connection.succeededCommandsSinceCheckout == 0
                release(connection)
                if staleAtFirstUse && !retried, let databaseError = error as? DatabaseError,
                    databaseError.kind == .unavailable
                {
                    retried = true
                    continue
                }
                throw error
            }
        }
    }

    /// An idle connection that still looks alive, else a new one if fewer than `size` are open,
    /// else waits for one to come back. `reused` tells whether it was opened before this call.
    private func acquire(timeout: Double) throws(DatabaseError) -> (connection: PostgresConnection, reused: Bool) {
        let deadline = Date().addingTimeInterval(max(0, timeout))
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw DatabaseError(kind: .unavailable, message: "the database connection pool is closed")
            }
            if let connection = idle.popLast() {
                condition.unlock()
                if connection.looksAlive() { return (connection, true) }
                connection.close()
                condition.lock()
                open -= 1
                continue
            }
            if open < size {
                open += 1
                condition.unlock()
                do {
                    let connection = try PostgresConnection(
                        conninfo: configuration.conninfo, connectTimeoutSeconds: configuration.connectTimeoutSeconds,
                        lockTimeoutSeconds: configuration.lockTimeoutSeconds)
                    return (connection, false)
                } catch {
                    condition.lock()
                    open -= 1
                    // Someone waiting may now try to connect themselves.
                    condition.signal()
                    condition.unlock()
                    throw error
                }
            }
            if !condition.wait(until: deadline) && idle.isEmpty && open >= size && !closed {
                condition.unlock()
                throw DatabaseError(
                    kind: .unavailable,
                    message: "no database connection became free within \(Self.seconds(timeout)) s "
                        + "(all \(size) in use)")
            }
        }
    }

    private func release(_ connection: PostgresConnection) {
        // A body that ran `BEGIN` itself and returned or threw without ending the transaction
        // must not hand the next user a half-done transaction.
        // Nor notifications for channels it no longer cares about.
        if !connection.isBroken {
            do {
                if connection.isInTransaction { try connection.execute("ROLLBACK") }
                try connection.stopListening()
            } catch {
                connection.markBroken()
            }
        }
        condition.lock()
        if closed || connection.isBroken {
            open -= 1
            condition.signal()
            condition.unlock()
            connection.close()
            return
        }
        idle.append(connection)
        condition.signal()
        condition.unlock()
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}

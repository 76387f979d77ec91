import Foundation

public struct PoolConfiguration: Sendable {
    public var conninfo: String
    /// Most connections open at once; the server sizes it to its HTTP worker threads so a
    /// request never waits for a connection.
    public var size: Int
    public var connectTimeoutSeconds: Int = 5
    /// How long a caller waits for a free connection before giving up with `.unavailable`.
    public var acquireTimeoutSeconds: Double = 10

    public init(conninfo: String, size: Int) {
        self.conninfo = conninfo
        self.size = max(1, size)
    }
}

/// A fixed-size set of connections, opened lazily and replaced when broken.
///
/// It never needs the database at start-up and never gives up on it: while PostgreSQL is down
/// each use fails fast with `.unavailable` (the API answers 503); once it is back the next use
/// connects again. A connection a restart left stale fails on its first statement; as nothing
/// of the caller's work reached the server then, the work is run once more on a new connection,
/// so the first request after a restart succeeds.
public final class ConnectionPool: @unchecked Sendable {
    private let configuration: PoolConfiguration
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var closed = false

    public init(configuration: PoolConfiguration) {
        self.configuration = configuration
    }

    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            let connection = try acquire()
            connection.statementsSucceeded = 0
            do {
                let value = try body(connection)
                release(connection)
                return value
            } catch let error as DatabaseError where error.kind == .unavailable {
                let untouched = connection.statementsSucceeded == 0
                connection.close()
                release(connection)
                if untouched && attempt == 1 { continue }
                throw error
            } catch {
                release(connection)
                throw error
            }
        }
    }

    /// `withConnection` and a transaction retried on serialization failure and deadlock.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnection { try $0.transaction(body) }
    }

    /// Whether the database answers now.
    public func ping() -> Bool {
        (try? withConnection { try $0.query("SELECT 1") }) != nil
    }

    /// Closes idle connections; connections in use close when returned. Later uses fail.
    public func close() {
        condition.lock()
        closed = true
        let connections = idle
        idle.removeAll()
        open -= connections.count
        condition.broadcast()
        condition.unlock()
        connections.forEach { $0.close() }
    }

    private func acquire() throws -> PostgresConnection {
        let deadline = Date().addingTimeInterval(configuration.acquireTimeoutSeconds)
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw DatabaseError(kind: .unavailable, message: "the connection pool is closed (the server is stopping)")
            }
            if let connection = idle.popLast() {
                condition.unlock()
                return connection
            }
            if open < configuration.size {
                open += 1
                condition.unlock()
                do {
                    return try PostgresConnection(conninfo: configuration.conninfo, connectTimeoutSeconds: configuration.connectTimeoutSeconds)
                } catch {
                    condition.lock()
                    open -= 1
                    condition.signal()
                    condition.unlock()
                    throw error
                }
            }
            if !condition.wait(until: deadline) {
                condition.unlock()
                throw DatabaseError(
                    kind: .unavailable,
                    message: "no database connection became free within \(Int(configuration.acquireTimeoutSeconds)) s")
            }
        }
    }

    private func release(_ connection: PostgresConnection) {
        condition.lock()
        if connection.isBroken || closed {
            open -= 1
            condition.unlock()
            connection.close()
        } else {
            idle.append(connection)
            condition.unlock()
        }
        condition.lock()
        condition.signal()
        condition.unlock()
    }
}

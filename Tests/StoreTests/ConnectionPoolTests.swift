import Foundation
import IntegrationHarness
import Store
import Testing

@Suite("ConnectionPool against a real PostgreSQL")
struct ConnectionPoolTests {
    @Test("64 concurrent users share 4 connections; none waits forever, none gets a busy one")
    func manyUsersFewConnections() throws {
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try freshDatabase(), size: 4))
        defer { pool.close() }
        try pool.withConnection { db in try db.execute("CREATE TABLE hits (backend int)") }

        let inUse = Counter()
        let failures = Counter()
        onThreads(64) { _ in
            do {
                try pool.withConnection { db in
                    inUse.add()
                    defer { inUse.add(-1) }
                    _ = try db.query("INSERT INTO hits SELECT pg_backend_pid() FROM pg_sleep(0.02)")
                }
            } catch {
                failures.add()
            }
        }
        #expect(failures.current == 0)
        #expect(inUse.highest <= 4)
        #expect(inUse.highest >= 2)
        #expect(pool.openConnectionCount <= 4)
        let counts = try pool.withConnection { db in
            try db.query("SELECT count(*) AS n, count(DISTINCT backend) AS backends FROM hits").rows[0]
        }
        #expect(try counts.int("n") == 64)
        #expect(try counts.int("backends") <= 4)
    }

    @Test("when every connection stays busy, a caller gives up after acquireTimeout with .unavailable")
    func acquireTimeout() throws {
        var configuration = PoolConfiguration(conninfo: try freshDatabase(), size: 1)
        configuration.acquireTimeoutSeconds = 0.5
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        let holding = DispatchSemaphore(value: 0)
        let letGo = DispatchSemaphore(value: 0)
        let holder = Thread {
            _ = try? pool.withConnection { _ in
                holding.signal()
                letGo.wait()
            }
        }
        holder.start()
        holding.wait()
        let started = Date()
        let error = try #require(throws: DatabaseError.self) { try pool.withConnection { _ in } }
        letGo.signal()
        #expect(error.kind == .unavailable)
        #expect(error.message.contains("no database connection became free within"))
        #expect(Date().timeIntervalSince(started) >= 0.4)
        // Once it is back, the next caller gets it.
        #expect(try pool.withConnection { db in try db.query("SELECT 1 AS one").rows[0].int("one") } == 1)
    }

    @Test("a connection left in a transaction by its user is rolled back before reuse")
    func openTransactionRolledBackOnRelease() throws {
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try freshDatabase(), size: 1))
        defer { pool.close() }
        try pool.withConnection { db in try db.execute("CREATE TABLE t (v int)") }
        try pool.withConnection { db in
            try db.execute("BEGIN")
            _ = try db.query("INSERT INTO t VALUES (1)")
        }
        let count = try pool.withConnection { db in try db.query("SELECT count(*) AS n FROM t").rows[0].int("n") }
        #expect(count == 0)
    }

    @Test("a pooled connection given back stops listening, so the next user gets no stale notifications")
    func listenEndsOnRelease() throws {
        let conninfo = try freshDatabase()
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: conninfo, size: 1))
        defer { pool.close() }
        let firstBackend = try pool.withConnection { db -> Int64 in
            try db.listen("changes")
            return try db.query("SELECT pg_backend_pid() AS pid").rows[0].int("pid")
        }
        let sender = try PostgresConnection(conninfo: conninfo)
        defer { sender.close() }
        try sender.query("NOTIFY changes, 'late'")
        let (backend, received) = try pool.withConnection { db in
            (try db.query("SELECT pg_backend_pid() AS pid").rows[0].int("pid"), try db.notifications(timeoutSeconds: 0.3))
        }
        #expect(backend == firstBackend)
        #expect(received.isEmpty)
    }

    @Test("a reused connection that dies on its first command is replaced and the work runs once more")
    func staleConnectionRetriedOnce() throws {
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try freshDatabase(), size: 1))
        defer { pool.close() }
        _ = try pool.withConnection { db in try db.query("SELECT 1") }

        // The session ends at the first command of the body (as after a server restart the
        // pool could not see coming): the body must run again, on a new session.
        var calls = 0
        let pid = try pool.withConnection { db -> Int64 in
            calls += 1
            if calls == 1 { _ = try db.query("SELECT pg_terminate_backend(pg_backend_pid())") }
            return try db.query("SELECT pg_backend_pid() AS pid").rows[0].int("pid")
        }
        #expect(calls == 2)
        #expect(pid > 0)
    }

    @Test("work that already reached the server is not run again when the connection dies later")
    func noRetryAfterProgress() throws {
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try freshDatabase(), size: 1))
        defer { pool.close() }
        try pool.withConnection { db in try db.execute("CREATE TABLE t (v int)") }
        var calls = 0
        let error = try #require(throws: DatabaseError.self) {
            try pool.withConnection { db in
                calls += 1
                _ = try db.query("INSERT INTO t VALUES (1)")
                _ = try db.query("SELECT pg_terminate_backend(pg_backend_pid())")
            }
        }
        #expect(error.kind == .unavailable)
        #expect(calls == 1)
        #expect(try pool.withConnection { db in try db.query("SELECT count(*) AS n FROM t").rows[0].int("n") } == 1)
    }

    @Test("a session killed while idle in the pool is noticed before use")
    func idleSessionKilled() throws {
        let conninfo = try freshDatabase()
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: conninfo, size: 1))
        defer { pool.close() }
        let first = try pool.withConnection { db in try db.query("SELECT pg_backend_pid() AS pid").rows[0].int("pid") }
        let admin = try PostgresConnection(conninfo: conninfo)
        defer { admin.close() }
        _ = try admin.query("SELECT pg_terminate_backend($1::int, 5000)", [.int(first)])
        var calls = 0
        let second = try pool.withConnection { db -> Int64 in
            calls += 1
            return try db.query("SELECT pg_backend_pid() AS pid").rows[0].int("pid")
        }
        #expect(second != first)
        #expect(calls == 1)
    }

    @Test("pool.transaction commits, rolls back and retries like a connection's")
    func poolTransaction() throws {
        struct Refused: Error {}
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try freshDatabase(), size: 2))
        defer { pool.close() }
        try pool.withConnection { db in try db.execute("CREATE TABLE t (v int)") }
        try pool.transaction { tx in _ = try tx.query("INSERT INTO t VALUES (1)") }
        #expect(throws: Refused.self) {
            try pool.transaction { tx in
                _ = try tx.query("INSERT INTO t VALUES (2)")
                throw Refused()
            }
        }
        var attempts = 0
        try pool.transaction { tx in
            attempts += 1
            if attempts == 1 {
                try tx.execute("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = '40P01'; END $$")
            }
            _ = try tx.query("INSERT INTO t VALUES (3)")
        }
        #expect(attempts == 2)
        let values = try pool.withConnection { db in try db.query("SELECT v FROM t ORDER BY v").rows.map { try $0.int("v") } }
        #expect(values == [1, 3])
    }

    @Test("PostgreSQL stopped: .unavailable and ping() false quickly; restarted: the same pool works again")
    func outageAndRecovery() throws {
        let cluster = try PostgresCluster.start()
        defer { try? cluster.stop() }
        let conninfo = try cluster.createDatabase()
        var configuration = PoolConfiguration(conninfo: conninfo, size: 3)
        configuration.connectTimeoutSeconds = 2
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        // Fill the pool, so stale connections are there when the server goes away.
        onThreads(3) { _ in _ = try? pool.withConnection { db in try db.query("SELECT pg_sleep(0.1)") } }
        #expect(pool.openConnectionCount == 3)
        #expect(pool.ping())

        try cluster.stop()
        for _ in 0..<3 {
            let started = Date()
            let error = try #require(throws: DatabaseError.self) {
                try pool.withConnection { db in try db.query("SELECT 1") }
            }
            #expect(error.kind == .unavailable)
            #expect(Date().timeIntervalSince(started) < 5)
        }
        let pinged = Date()
        #expect(!pool.ping())
        #expect(Date().timeIntervalSince(pinged) < 5)

        try cluster.restart()
        // The very first use after the restart succeeds: no stale connection reaches the caller.
        let value = try pool.withConnection { db in try db.query("SELECT 42 AS answer").rows[0].int("answer") }
        #expect(value == 42)
        #expect(pool.ping())
        try pool.transaction { tx in _ = try tx.query("SELECT 1") }
    }

    @Test("a pool that started while PostgreSQL was down connects once it is up")
    func startsBeforeDatabase() throws {
        let cluster = try PostgresCluster.start()
        defer { try? cluster.stop() }
        let conninfo = try cluster.createDatabase()
        try cluster.stop()
        var configuration = PoolConfiguration(conninfo: conninfo, size: 2)
        configuration.connectTimeoutSeconds = 2
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        #expect(!pool.ping())
        #expect(pool.openConnectionCount == 0)
        try cluster.restart()
        #expect(pool.ping())
    }

    @Test("a closed pool refuses new work")
    func closedPool() throws {
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try freshDatabase(), size: 2))
        _ = try pool.withConnection { db in try db.query("SELECT 1") }
        pool.close()
        #expect(pool.openConnectionCount == 0)
        let error = try #require(throws: DatabaseError.self) { try pool.withConnection { _ in } }
        #expect(error.kind == .unavailable)
        #expect(!pool.ping())
    }
}

import Foundation
import IntegrationHarness
import Store
import Synchronization
import Testing

@Suite("Store: libpq connections, pool, transactions, migrations")
struct StoreTests {
    static func connection() throws -> PostgresConnection {
        try PostgresConnection(conninfo: try PostgresCluster.shared().createDatabase())
    }

    @Test("parameters travel as data: text, unicode, NULL, integers, bytea, injection attempts")
    func parameters() throws {
        let db = try Self.connection()
        try db.execute("CREATE TABLE t (s text, i bigint, b bytea, f boolean)")
        let hostile = "'); DROP TABLE t; --"
        let bytes: [UInt8] = [0, 1, 0x5C, 0x78, 255]
        try db.query("INSERT INTO t VALUES ($1, $2, $3, $4)", [.text(hostile), .int(Int64.min), .bytea(bytes), .bool(true)])
        try db.query("INSERT INTO t VALUES ($1, $2, $3, $4)", [.text("bücher ✓"), .null, .bytea([]), .null])
        let rows = try db.query("SELECT s, i, b, f FROM t ORDER BY s COLLATE \"C\"").rows
        #expect(rows.count == 2)
        #expect(try rows[0].string("s") == hostile)
        #expect(try rows[0].int("i") == Int64.min)
        #expect(try rows[0].bytea("b") == bytes)
        #expect(try rows[0].bool("f"))
        #expect(try rows[1].string("s") == "bücher ✓")
        #expect(try rows[1].optionalInt("i") == nil)
        #expect(try rows[1].bytea("b") == [])
        #expect(throws: (any Error).self) { try db.query("SELECT $1::text", [.text("nul\u{0}inside")]) }
    }

    @Test("server errors carry SQLSTATE and constraint, and are not 'unavailable'")
    func errors() throws {
        let db = try Self.connection()
        try db.execute("CREATE TABLE u (k text CONSTRAINT u_key PRIMARY KEY)")
        try db.query("INSERT INTO u VALUES ('a')")
        do {
            try db.query("INSERT INTO u VALUES ('a')")
            Issue.record("a duplicate key was accepted")
        } catch let error as DatabaseError {
            #expect(error.isUniqueViolation)
            #expect(error.constraint == "u_key")
            #expect(error.kind == .query)
        }
        // The connection stays usable after a statement error.
        #expect(try db.query("SELECT 1 AS one").rows[0].int("one") == 1)
    }

    @Test("a transaction rolls back when its body throws")
    func rollback() throws {
        let db = try Self.connection()
        try db.execute("CREATE TABLE r (n int)")
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try db.transaction { tx in
                try tx.query("INSERT INTO r VALUES (1)")
                throw Abort()
            }
        }
        #expect(try db.query("SELECT count(*) AS n FROM r").rows[0].int("n") == 0)
    }

    @Test("a serialization failure runs the transaction again")
    func serializationRetry() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        let setup = try PostgresConnection(conninfo: conninfo)
        try setup.execute("CREATE TABLE c (id int PRIMARY KEY, n int); INSERT INTO c VALUES (1, 0)")
        let first = try PostgresConnection(conninfo: conninfo)
        let second = try PostgresConnection(conninfo: conninfo)
        var attempts = 0
        try first.transaction { tx in
            attempts += 1
            try tx.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            _ = try tx.query("SELECT n FROM c WHERE id = 1")
            if attempts == 1 {
                // Another session changes the row after this transaction's snapshot was taken.
                try second.query("UPDATE c SET n = n + 10 WHERE id = 1")
            }
            try tx.query("UPDATE c SET n = n + 1 WHERE id = 1")
        }
        #expect(attempts == 2)
        #expect(try setup.query("SELECT n FROM c").rows[0].int("n") == 11)
    }

    @Test("migrations: from empty, status, re-run is a no-op, unknown versions are refused")
    func migrations() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        let directory = NSTemporaryDirectory() + "zonectl-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "CREATE TABLE a (id int);".write(toFile: directory + "/0001_a.sql", atomically: true, encoding: .utf8)
        try "CREATE TABLE b (id int); INSERT INTO b VALUES (1);".write(toFile: directory + "/0002_b.sql", atomically: true, encoding: .utf8)
        let migrator = Migrator(set: try MigrationSet(directory: directory))
        #expect(try migrator.status(conninfo: conninfo) == .behind(pending: [1, 2]))
        #expect(try migrator.migrate(conninfo: conninfo).map(\.version) == [1, 2])
        #expect(try migrator.status(conninfo: conninfo) == .current)
        #expect(try migrator.migrate(conninfo: conninfo).isEmpty)
        let db = try PostgresConnection(conninfo: conninfo)
        #expect(try db.query("SELECT count(*) AS n FROM b").rows[0].int("n") == 1)

        try FileManager.default.removeItem(atPath: directory + "/0002_b.sql")
        let older = Migrator(set: try MigrationSet(directory: directory))
        #expect(try older.status(conninfo: conninfo) == .ahead(unknown: [2]))
        #expect(throws: MigrationError.self) { try older.migrate(conninfo: conninfo) }

        try "x".write(toFile: directory + "/12_bad.sql", atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.self) { try MigrationSet(directory: directory) }
    }

    @Test("two migrators at once apply each migration exactly once")
    func concurrentMigrations() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        let directory = NSTemporaryDirectory() + "zonectl-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Not idempotent on purpose: applying it twice fails.
        try "CREATE TABLE once (id int); SELECT pg_sleep(0.3);".write(toFile: directory + "/0001_once.sql", atomically: true, encoding: .utf8)
        let migrator = Migrator(set: try MigrationSet(directory: directory))
        let applied = Mutex<[Int]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            do {
                let done = try migrator.migrate(conninfo: conninfo)
                applied.withLock { $0.append(done.count) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(applied.withLock { $0 }.sorted() == [0, 1])
    }

    @Test("a pool of 4 serves 64 concurrent users")
    func poolUnderLoad() throws {
        let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try PostgresCluster.shared().createDatabase(), size: 4))
        defer { pool.close() }
        let results = Mutex<[Int64]>([])
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            let value = try? pool.withConnection { db in
                try db.query("SELECT $1::bigint + 0 AS v, pg_sleep(0.01)", [.int(Int64(index))]).rows[0].int("v")
            }
            results.withLock { $0.append(value ?? -1) }
        }
        #expect(results.withLock { $0 }.sorted() == (0..<64).map(Int64.init))
        let backends = try pool.withConnection {
            try $0.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'zonectl' AND datname = current_database()").rows[0].int("n")
        }
        #expect(backends <= 4)
    }

    @Test("PostgreSQL stopped: the pool fails fast as unavailable; restarted: the same pool works again")
    func outageAndRecovery() throws {
        let cluster = try PostgresCluster.start()
        defer { try? cluster.stop() }
        var configuration = PoolConfiguration(conninfo: try cluster.createDatabase(), size: 2)
        configuration.connectTimeoutSeconds = 2
        let pool = ConnectionPool(configuration: configuration)
        defer { pool.close() }
        #expect(pool.ping())
        try cluster.stop()
        let started = Date()
        #expect(!pool.ping())
        do {
            _ = try pool.withConnection { try $0.query("SELECT 1") }
            Issue.record("a query succeeded with the server stopped")
        } catch let error as DatabaseError {
            #expect(error.kind == .unavailable)
        }
        #expect(Date().timeIntervalSince(started) < 10)
        try cluster.restart()
        #expect(try pool.withConnection { try $0.query("SELECT 7 AS n").rows[0].int("n") } == 7)
    }

    @Test("LISTEN receives pg_notify sent by another session after commit")
    func notifications() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        let listener = try PostgresConnection(conninfo: conninfo)
        try listener.listen("zone_changed")
        let sender = try PostgresConnection(conninfo: conninfo)
        try sender.transaction { tx in
            try tx.query("SELECT pg_notify('zone_changed', $1)", [.text("42 2024010101")])
        }
        let received = try listener.notifications(timeoutSeconds: 5)
        #expect(received.map(\.payload) == ["42 2024010101"])
        #expect(received.map(\.channel) == ["zone_changed"])
    }
}

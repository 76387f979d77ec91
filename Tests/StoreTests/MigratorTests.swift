import Foundation
import IntegrationHarness
import Store
import Testing

/// A directory of migration files for one test, removed afterwards.
final class MigrationDirectory {
    let path: String

    init(_ files: [String: String]) throws {
        path = NSTemporaryDirectory() + "/zonectl-migrations-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try add(files)
    }

    func add(_ files: [String: String]) throws {
        for (name, sql) in files {
            try sql.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + name)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

private let firstTwo = [
    "0001_accounts.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);",
    "0002_zones.sql": """
        -- two statements in one file
        CREATE TABLE zones (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id));
        CREATE INDEX zones_account_idx ON zones (account_id);
        """,
    "README.md": "not a migration",
]

@Suite("Migrations against a real PostgreSQL")
struct MigratorTests {
    @Test("files are read in version order; names and duplicates are checked")
    func readsDirectory() throws {
        let directory = try MigrationDirectory(firstTwo)
        try directory.add(["0010_late.sql": "SELECT 1;", "0003_middle.sql": "SELECT 1;"])
        let set = try MigrationSet(directory: directory.path)
        #expect(set.migrations.map(\.version) == [1, 2, 3, 10])
        #expect(set.migrations.map(\.name) == ["accounts", "zones", "middle", "late"])
        #expect(set.migrations[1].sql.contains("zones_account_idx"))

        try directory.add(["0003_again.sql": "SELECT 1;"])
        let duplicate = try #require(throws: MigrationError.self) { try MigrationSet(directory: directory.path) }
        #expect(duplicate.description.contains("0003_again"))
        #expect(duplicate.description.contains("0003_middle"))
        try directory.remove("0003_again.sql")

        for bad in ["zones.sql", "_zones.sql", "0004_.sql", "00x5_zones.sql", "0006 zones.sql", "12_short.sql", "0007_dot.ted.sql"] {
            try directory.add([bad: "SELECT 1;"])
            let error = try #require(throws: MigrationError.self) { try MigrationSet(directory: directory.path) }
            #expect(error.description.contains(bad))
            try directory.remove(bad)
        }
        #expect(throws: MigrationError.self) { try MigrationSet(directory: directory.path + "/missing") }
    }

    @Test("from an empty database: all applied in order with progress, then a re-run does nothing")
    func migrateFromEmptyThenNoOp() throws {
        let conninfo = try freshDatabase()
        let directory = try MigrationDirectory(firstTwo)
        let migrator = Migrator(set: try MigrationSet(directory: directory.path))
        #expect(try migrator.status(conninfo: conninfo) == .behind(pending: [1, 2]))

        var progress = [String]()
        let applied = try migrator.migrate(conninfo: conninfo) { progress.append($0) }
        #expect(applied.map(\.version) == [1, 2])
        #expect(progress == ["applying 0001_accounts", "applying 0002_zones"])
        #expect(try migrator.status(conninfo: conninfo) == .current)

        let db = try PostgresConnection(conninfo: conninfo)
        defer { db.close() }
        let recorded = try db.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").rows
        #expect(try recorded.map { try $0.int("version") } == [1, 2])
        #expect(try recorded.map { try $0.string("name") } == ["accounts", "zones"])
        #expect(recorded.allSatisfy { $0["applied_at"] != nil })
        _ = try db.query("INSERT INTO accounts VALUES (1, 'a')")
        _ = try db.query("INSERT INTO zones VALUES (1, 1)")

        var again = [String]()
        #expect(try migrator.migrate(conninfo: conninfo) { again.append($0) }.isEmpty)
        #expect(again.isEmpty)
    }

    @Test("status: behind lists what is pending, ahead lists what the binary does not know")
    func statusBehindAndAhead() throws {
        let conninfo = try freshDatabase()
        let directory = try MigrationDirectory(firstTwo)
        try Migrator(set: try MigrationSet(directory: directory.path)).migrate(conninfo: conninfo)

        try directory.add(["0003_records.sql": "CREATE TABLE records (id bigint);", "0004_more.sql": "SELECT 1;"])
        let newer = Migrator(set: try MigrationSet(directory: directory.path))
        #expect(try newer.status(conninfo: conninfo) == .behind(pending: [3, 4]))
        var progress = [String]()
        #expect(try newer.migrate(conninfo: conninfo) { progress.append($0) }.map(\.version) == [3, 4])
        #expect(progress == ["applying 0003_records", "applying 0004_more"])

        try directory.remove("0003_records.sql")
        try directory.remove("0004_more.sql")
        let older = Migrator(set: try MigrationSet(directory: directory.path))
        #expect(try older.status(conninfo: conninfo) == .ahead(unknown: [3, 4]))
        let refusal = try #require(throws: MigrationError.self) { try older.migrate(conninfo: conninfo) }
        #expect(refusal.description.contains("3, 4"))
        #expect(refusal.description.contains("does not know"))
    }

    @Test("a failing migration is rolled back whole, names itself, and keeps the ones before it")
    func failingMigration() throws {
        let conninfo = try freshDatabase()
        let directory = try MigrationDirectory([
            "0001_ok.sql": "CREATE TABLE ok (id int);",
            "0002_broken.sql": "CREATE TABLE half (id int);\nINSERT INTO half VALUES ('not a number');",
            "0003_after.sql": "CREATE TABLE after (id int);",
        ])
        let migrator = Migrator(set: try MigrationSet(directory: directory.path))
        let error = try #require(throws: MigrationError.self) { try migrator.migrate(conninfo: conninfo) }
        #expect(error.description.contains("0002_broken"))
        #expect(error.description.contains("not a number"))
        #expect(try migrator.status(conninfo: conninfo) == .behind(pending: [2, 3]))
        let db = try PostgresConnection(conninfo: conninfo)
        defer { db.close() }
        let tables = try db.query(
            "SELECT to_regclass('ok') IS NOT NULL AS ok, to_regclass('half') IS NOT NULL AS half").rows[0]
        #expect(try tables.bool("ok"))
        #expect(try !tables.bool("half"))
    }

    @Test("two migrators at once on two connections apply each migration exactly once")
    func concurrentMigrate() throws {
        let conninfo = try freshDatabase()
        let directory = try MigrationDirectory([
            "0001_log.sql": "CREATE TABLE applications (migration int NOT NULL); INSERT INTO applications VALUES (1);",
            // Slow enough that the second migrator arrives while the first is still at work.
            "0002_slow.sql": "SELECT pg_sleep(0.5); INSERT INTO applications VALUES (2);",
            "0003_last.sql": "INSERT INTO applications VALUES (3);",
        ])
        let set = try MigrationSet(directory: directory.path)
        let applied = LockedValue<[[Int]]>([])
        let failures = Counter()
        onThreads(2) { _ in
            do {
                let done = try Migrator(set: set).migrate(conninfo: conninfo).map(\.version)
                applied.update { $0.append(done) }
            } catch {
                failures.add()
            }
        }
        #expect(failures.current == 0)
        let results = applied.value
        #expect(results.count == 2)
        #expect(results.flatMap { $0 }.sorted() == [1, 2, 3])
        let db = try PostgresConnection(conninfo: conninfo)
        defer { db.close() }
        let counts = try db.query("SELECT migration, count(*) AS n FROM applications GROUP BY migration ORDER BY migration")
        #expect(try counts.rows.map { try $0.int("migration") } == [1, 2, 3])
        #expect(try counts.rows.allSatisfy { try $0.int("n") == 1 })
    }

    @Test("an empty database with no migrations table is behind by every version; an empty set is current")
    func statusWithoutTable() throws {
        let conninfo = try freshDatabase()
        let directory = try MigrationDirectory(firstTwo)
        #expect(try Migrator(set: MigrationSet(directory: directory.path)).status(conninfo: conninfo) == .behind(pending: [1, 2]))
        let empty = try MigrationDirectory([:])
        let none = Migrator(set: try MigrationSet(directory: empty.path))
        #expect(try none.status(conninfo: conninfo) == .current)
        #expect(try none.migrate(conninfo: conninfo).isEmpty)
    }
}

import Foundation

public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// The `NNNN_name.sql` files of a directory, in version order.
public struct MigrationSet: Sendable {
    public let migrations: [Migration]

    public init(directory: String) throws {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError("cannot read the migrations directory \(directory): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for file in files where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0 else {
                throw MigrationError("\(directory)/\(file): a migration is named NNNN_name.sql (four digits, from 0001)")
            }
            guard let sql = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else {
                throw MigrationError("cannot read \(directory)/\(file) as UTF-8 text")
            }
            migrations.append(Migration(version: version, name: String(stem), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw MigrationError("two migrations have version \(next.version): \(previous.name) and \(next.name)")
        }
        guard !migrations.isEmpty else { throw MigrationError("no NNNN_name.sql files in \(directory)") }
        self.migrations = migrations
    }
}

public enum MigrationStatus: Sendable, Equatable {
    case current
    case behind(pending: [Int])
    case ahead(unknown: [Int])
}

public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Applies migrations in order, each in its own transaction with its `schema_migrations` row.
///
/// A session advisory lock makes concurrent runs safe: the second process waits, then finds the
/// migrations applied and does nothing.
public struct Migrator: Sendable {
    /// Arbitrary, fixed: "zonectl" in ASCII, so every zonectl process contends for the same lock.
    static let lockKey: Int64 = 0x7A6F_6E65_6374_6C
    public let set: MigrationSet

    public init(set: MigrationSet) {
        self.set = set
    }

    @discardableResult
    public func migrate(conninfo: String, progress: (String) -> Void = { _ in }) throws -> [Migration] {
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        try connection.query("SELECT pg_advisory_lock($1)", [.int(Self.lockKey)])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [.int(Self.lockKey)]) }
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try appliedVersions(connection)
        let known = Set(set.migrations.map(\.version))
        let unknown = applied.subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw MigrationError("the database has migrations \(unknown.map(String.init).joined(separator: ", ")) that this binary does not know: it was migrated by a newer zonectl")
        }
        var done: [Migration] = []
        for migration in set.migrations where !applied.contains(migration.version) {
            progress("applying \(migration.name)")
            try connection.transaction { db in
                try db.execute(migration.sql)
                try db.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [.int(Int64(migration.version)), .text(migration.name)])
            }
            done.append(migration)
        }
        return done
    }

    public func status(conninfo: String) throws -> MigrationStatus {
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").rows[0].bool("present")
        let applied = exists ? try appliedVersions(connection) : []
        let known = Set(set.migrations.map(\.version))
        let unknown = applied.subtracting(known).sorted()
        if !unknown.isEmpty { return .ahead(unknown: unknown) }
        let pending = known.subtracting(applied).sorted()
        return pending.isEmpty ? .current : .behind(pending: pending)
    }

    private func appliedVersions(_ connection: PostgresConnection) throws -> Set<Int> {
        Set(try connection.query("SELECT version FROM schema_migrations").rows.map { Int(try $0.int("version")) })
    }
}

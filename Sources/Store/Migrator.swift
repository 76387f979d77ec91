/// How a database's schema compares with the migrations a binary knows.
public enum MigrationStatus: Sendable, Equatable {
    case current
    /// Migrations the binary knows that the database has not applied, in order.
    case behind(pending: [Int])
    /// Versions the database has applied that the binary does not know: a newer binary migrated
    /// it. Reported even when some known migrations are also pending.
    case ahead(unknown: [Int])
}

/// Applies a `MigrationSet` to a database, recording each in `schema_migrations`.
public struct Migrator: Sendable {
    public let set: MigrationSet

    /// Key of the session advisory lock that lets only one migrator run at a time per database
    /// ("zonectl" in ASCII).
    static let lockKey: Int64 = 0x7a6f_6e65_6374_6c00

    public init(set: MigrationSet) {
        self.set = set
    }

    /// Applies every migration the database lacks, each in its own transaction together with its
    /// `schema_migrations` row, and returns those applied (empty when already current).
    ///
    /// Safe to run from several processes at once: they queue on an advisory lock, and the later
    /// ones find the work done. Refuses a database that has versions this set does not know.
    /// Migration scripts must not contain `BEGIN`/`COMMIT` or statements that cannot run in a
    /// transaction (`CREATE INDEX CONCURRENTLY`).
    @discardableResult
    public func migrate(conninfo: String, progress: (String) -> Void = { _ in }) throws -> [Migration] {
        let connection = try PostgresConnection(conninfo: conninfo)
        // Closing the session also releases the advisory lock, whatever happens below.
        defer { connection.close() }
        _ = try connection.query("SELECT pg_advisory_lock($1)", [.int(Self.lockKey)])
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer     PRIMARY KEY,
                name       text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try Self.appliedVersions(connection)
        let unknown = applied.subtracting(set.versions).sorted()
        if !unknown.isEmpty {
            throw MigrationError(
                "the database has migration(s) \(Self.list(unknown)) that this binary does not know "
                    + "(it knows \(set.versions.last.map { "up to \($0)" } ?? "none")); refusing to migrate. "
                    + "Run the newer zonectl that applied them.")
        }
        var done = [Migration]()
        for migration in set.migrations where !applied.contains(migration.version) {
            progress("applying \(migration.label)")
            do {
                try connection.transaction { transaction in
                    try transaction.execute(migration.sql)
                    _ = try transaction.query(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        [.int(Int64(migration.version)), .text(migration.name)])
                }
            } catch let error as DatabaseError where error.kind == .query {
                throw MigrationError(
                    "migration \(migration.label) failed and was rolled back: \(error)"
                        + (done.isEmpty ? "" : " (applied before it: \(done.map(\.label).joined(separator: ", ")))"))
            }
            done.append(migration)
        }
        return done
    }

    /// Compares the database with the set without changing anything. A database without a
    /// `schema_migrations` table has applied nothing.
    public func status(conninfo: String) throws -> MigrationStatus {
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        let present = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        let applied: Set<Int> = try present.rows.first?.bool("present") == true ? Self.appliedVersions(connection) : []
        let unknown = applied.subtracting(set.versions).sorted()
        if !unknown.isEmpty { return .ahead(unknown: unknown) }
        let pending = set.versions.filter { !applied.contains($0) }
        return pending.isEmpty ? .current : .behind(pending: pending)
    }

    private static func appliedVersions(_ connection: PostgresConnection) throws -> Set<Int> {
        let result = try connection.query("SELECT version FROM schema_migrations")
        return Set(try result.rows.map { Int(try $0.int("version")) })
    }

    private static func list(_ versions: [Int]) -> String {
        versions.map(String.init).joined(separator: ", ")
    }
}

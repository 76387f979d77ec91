/// A zone whose file is owed, claimed by one writer.
public struct ZoneFileTask: Sendable, Equatable {
    public var zoneID: Int64
    public var targetSerial: Int64
    public var attempts: Int64
}

/// A deleted zone whose file is still to be removed.
public struct ZoneFileRemoval: Sendable, Equatable {
    public var name: String
    public var attempts: Int64
}

/// One zone's file as the status API shows it.
public struct ZoneFileStatusRow: Sendable, Equatable {
    public var writtenSerial: Int64?
    public var lastWritten: String?
    public var lastError: String?
    public var hookError: String?
}

/// The zone files owed to `--zone-dir` (migration 0006), claimed like NOTIFYs.
public enum ZoneFileRepository {
    /// Called when a writer starts: from now on every change owes its zone's file, and every
    /// zone whose file may be missing or old is owed it now (a directory new to the service, or
    /// changes made while no writer ran).
    public static func enable(on db: PostgresConnection) throws {
        try db.transaction { db in
            _ = try db.query("INSERT INTO zone_files_enabled DEFAULT VALUES ON CONFLICT DO NOTHING")
            _ = try db.query(
                """
                INSERT INTO zone_file_state AS f (zone_id, target_serial)
                SELECT id, serial FROM zones WHERE kind = 'primary'
                ON CONFLICT (zone_id) DO UPDATE SET target_serial = EXCLUDED.target_serial, next_attempt = now()
                WHERE f.target_serial <> EXCLUDED.target_serial OR f.written_serial IS DISTINCT FROM EXCLUDED.target_serial
                """)
        }
    }

    /// Claims up to `limit` zones whose newest serial is not on disk and that became due at
    /// least `delaySeconds` ago (so a burst is written once), for `leaseSeconds`.
    public static func claimDue(limit: Int, leaseSeconds: Double, delaySeconds: Double, on db: PostgresConnection) throws -> [ZoneFileTask] {
        try db.query(
            """
            WITH due AS (
                SELECT zone_id FROM zone_file_state
                WHERE written_serial IS DISTINCT FROM target_serial
                  AND next_attempt <= now() - $3::float8 * interval '1 second'
                ORDER BY next_attempt LIMIT $1::int
                FOR UPDATE SKIP LOCKED
            )
            UPDATE zone_file_state f SET next_attempt = now() + $2::float8 * interval '1 second'
            FROM due WHERE f.zone_id = due.zone_id
            RETURNING f.zone_id, f.target_serial, f.attempts
            """,
            [.int(Int64(limit)), .double(leaseSeconds), .double(delaySeconds)]).rows.map { row in
            ZoneFileTask(zoneID: try row.int("zone_id"), targetSerial: try row.int("target_serial"), attempts: try row.int("attempts"))
        }
    }

    /// The file now holds `serial`; due again at once if a newer serial came meanwhile.
    public static func recordWritten(zoneID: Int64, serial: Int64, hookError: String?, on db: PostgresConnection) throws {
        _ = try db.query(
            """
            UPDATE zone_file_state SET written_serial = $2, last_written = now(), last_error = NULL, attempts = 0,
                   hook_error = $3::text, next_attempt = now()
            WHERE zone_id = $1
            """,
            [.int(zoneID), .int(serial), hookError.map(PostgresParameter.text) ?? .null])
    }

    public static func recordFailure(zoneID: Int64, error: String, attempts: Int64, retryAfter: Double, on db: PostgresConnection) throws {
        _ = try db.query(
            """
            UPDATE zone_file_state SET last_error = $2, attempts = $3::int,
                   next_attempt = now() + $4::float8 * interval '1 second'
            WHERE zone_id = $1
            """,
            [.int(zoneID), .text(error), .int(attempts), .double(retryAfter)])
    }

    public static func claimRemovals(limit: Int, leaseSeconds: Double, on db: PostgresConnection) throws -> [ZoneFileRemoval] {
        try db.query(
            """
            WITH due AS (
                SELECT name FROM zone_file_removals WHERE next_attempt <= now()
                ORDER BY next_attempt LIMIT $1::int FOR UPDATE SKIP LOCKED
            )
            UPDATE zone_file_removals r SET next_attempt = now() + $2::float8 * interval '1 second'
            FROM due WHERE r.name = due.name
            RETURNING r.name, r.attempts
            """,
            [.int(Int64(limit)), .double(leaseSeconds)]).rows.map {
            ZoneFileRemoval(name: try $0.string("name"), attempts: try $0.int("attempts"))
        }
    }

    public static func removalDone(name: String, on db: PostgresConnection) throws {
        _ = try db.query("DELETE FROM zone_file_removals WHERE name = $1", [.text(name)])
    }

    public static func removalFailed(name: String, error: String, attempts: Int64, retryAfter: Double, on db: PostgresConnection) throws {
        _ = try db.query(
            """
            UPDATE zone_file_removals SET last_error = $2, attempts = $3::int,
                   next_attempt = now() + $4::float8 * interval '1 second'
            WHERE name = $1
            """,
            [.text(name), .text(error), .int(attempts), .double(retryAfter)])
    }

    public static func status(zoneID: Int64, on db: PostgresConnection) throws -> ZoneFileStatusRow? {
        try db.query(
            """
            SELECT written_serial, last_error, hook_error,
                   to_char(last_written AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_written
            FROM zone_file_state WHERE zone_id = $1
            """,
            [.int(zoneID)]).rows.first.map { row in
            ZoneFileStatusRow(writtenSerial: try row.optionalInt("written_serial"), lastWritten: try row.optionalString("last_written"),
                              lastError: try row.optionalString("last_error"), hookError: try row.optionalString("hook_error"))
        }
    }
}

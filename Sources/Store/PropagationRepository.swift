/// One zone × server pair whose NOTIFY or serial check is due, claimed by one worker.
public struct PropagationTask: Sendable, Equatable {
    public var zoneID: Int64
    public var serverID: Int64
    public var targetSerial: Int64
    public var notifiedSerial: Int64?
    public var seenSerial: Int64?
    public var attempts: Int64
    public var address: String
    public var port: Int64
    public var tsigKey: TSIGKeyRow?
    /// The zone as the claim read it; nil when it was deleted meanwhile.
    public var zone: ZoneRow?
}

/// What a worker did with a task, written back in one statement.
public struct PropagationResult: Sendable {
    public var notifySent = false
    public var notifyAcked = false
    /// Forget the acknowledged NOTIFY so the next attempt sends one again (the server never
    /// followed it up with a transfer).
    public var renotify = false
    public var seenSerial: Int64?
    public var checked = false
    public var error: String?
    public var attempts: Int64 = 0
    /// Seconds until the pair is due again (unless a newer serial makes it due at once).
    public var retryAfter: Double
    public init(retryAfter: Double) { self.retryAfter = retryAfter }
}

/// One server's view of one zone, for the status API.
public struct PropagationStatusRow: Sendable, Equatable {
    public var serverID: Int64
    public var address: String
    public var port: Int64
    public var tsigKey: String?
    public var description: String
    public var targetSerial: Int64
    public var notifiedSerial: Int64?
    public var seenSerial: Int64?
    public var attempts: Int64
    public var nextAttempt: String
    public var lastNotifySent: String?
    public var lastNotifyAcked: String?
    public var lastChecked: String?
    public var lastError: String?
}

/// How many servers a zone has and how many answer its current serial.
public struct PropagationSummary: Sendable, Equatable {
    public var servers: Int64
    public var inSync: Int64
    public init(servers: Int64, inSync: Int64) {
        self.servers = servers
        self.inSync = inSync
    }
}

/// The durable NOTIFY/check state (migration 0004). Rows are created by triggers when a change
/// is journalled or a server joins a pool; workers claim them, and write back what happened.
public enum PropagationRepository {
    /// Claims up to `limit` due pairs for `leaseSeconds`: while a worker talks to the server,
    /// nobody else (in this process or another) picks the pair up; if the worker dies, the pair
    /// is due again when the lease ends.
    /// With `delaySeconds`, a pair is taken only that long after it became due (a NOTIFY delay:
    /// a burst of changes then costs one NOTIFY).
    public static func claimDue(limit: Int, leaseSeconds: Double, delaySeconds: Double = 0,
                                on db: PostgresConnection) throws -> [PropagationTask] {
        let result = try db.query(
            """
            WITH due AS (
                SELECT zone_id, server_id FROM propagation_state
                WHERE next_attempt <= now() - $3::float8 * interval '1 second'
                -- new serials before retries: a server that does not answer must not hold
                -- back the NOTIFYs every other server is waiting for
                ORDER BY attempts > 0, next_attempt
                LIMIT $1::int
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE propagation_state p SET next_attempt = now() + $2::float8 * interval '1 second'
                FROM due WHERE p.zone_id = due.zone_id AND p.server_id = due.server_id
                RETURNING p.zone_id, p.server_id, p.target_serial, p.notified_serial, p.seen_serial, p.attempts
            )
            SELECT c.*, host(s.address) AS address, s.port, k.name AS key_name, k.algorithm AS key_algorithm,
                   k.secret AS key_secret,
                   to_char(k.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS key_created_at,
                   z.*
            FROM claimed c
            JOIN pool_servers s ON s.id = c.server_id
            LEFT JOIN tsig_keys k ON k.name = s.tsig_key
            -- the zone too, so the NOTIFY needs no second round trip
            LEFT JOIN LATERAL (SELECT \(ZoneRepository.columns) FROM zones WHERE zones.id = c.zone_id) z ON true
            """,
            [.int(Int64(limit)), .double(leaseSeconds), .double(delaySeconds)])
        return try result.rows.map { row in
            var key: TSIGKeyRow?
            if let name = try row.optionalString("key_name") {
                key = TSIGKeyRow(name: name, algorithm: try row.string("key_algorithm"), secret: try row.bytea("key_secret"),
                                 createdAt: try row.string("key_created_at"))
            }
            return PropagationTask(
                zoneID: try row.int("zone_id"), serverID: try row.int("server_id"),
                targetSerial: try row.int("target_serial"), notifiedSerial: try row.optionalInt("notified_serial"),
                seenSerial: try row.optionalInt("seen_serial"), attempts: try row.int("attempts"),
                address: try row.string("address"), port: try row.int("port"), tsigKey: key,
                zone: try row.optionalInt("id") == nil ? nil : ZoneRepository.zoneRow(from: row))
        }
    }

    /// Writes back a worker's result for the serial it worked on. If the zone moved on to a
    /// newer serial meanwhile, only what was observed is kept: the newer serial's schedule (set
    /// by the change, perhaps already claimed by another worker) is left alone.
    public static func record(_ result: PropagationResult, for task: PropagationTask, on db: PostgresConnection) throws {
        _ = try db.query(
            """
            UPDATE propagation_state SET
                notified_serial = CASE
                    WHEN target_serial <> $3::bigint THEN notified_serial
                    WHEN $7::boolean THEN NULL
                    WHEN $5::boolean THEN $3::bigint
                    ELSE notified_serial END,
                seen_serial = COALESCE($8::bigint, seen_serial),
                last_notify_sent = CASE WHEN $4::boolean THEN now() ELSE last_notify_sent END,
                last_notify_acked = CASE WHEN $5::boolean THEN now() ELSE last_notify_acked END,
                last_checked = CASE WHEN $6::boolean THEN now() ELSE last_checked END,
                last_error = CASE WHEN target_serial = $3 THEN $9::text ELSE last_error END,
                attempts = CASE WHEN target_serial = $3 THEN $10::int ELSE attempts END,
                -- a newer serial made the pair due, and another worker may hold it already
                next_attempt = CASE WHEN target_serial = $3 THEN now() + $11::float8 * interval '1 second' ELSE next_attempt END
            WHERE zone_id = $1 AND server_id = $2
            """,
            [.int(task.zoneID), .int(task.serverID), .int(task.targetSerial), .bool(result.notifySent),
             .bool(result.notifyAcked), .bool(result.checked), .bool(result.renotify),
             result.seenSerial.map(PostgresParameter.int) ?? .null, result.error.map(PostgresParameter.text) ?? .null,
             .int(result.attempts), .double(result.retryAfter)])
    }

    /// Seconds until the next pair is due (nil when there is none), so idle workers sleep
    /// exactly as long as they may.
    public static func secondsUntilNextDue(delaySeconds: Double = 0, on db: PostgresConnection) throws -> Double? {
        let row = try db.query(
            "SELECT extract(epoch FROM min(next_attempt) - now())::float8 + $1::float8 AS wait FROM propagation_state",
            [.double(delaySeconds)]).rows[0]
        return try row.isNull("wait") ? nil : row.double("wait")
    }

    /// Every server of a zone's pool, with what it was sent and what it answered.
    public static func status(zoneID: Int64, on db: PostgresConnection) throws -> [PropagationStatusRow] {
        func time(_ column: String) -> String {
            "to_char(p.\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \(column)"
        }
        let result = try db.query(
            """
            SELECT s.id AS server_id, host(s.address) AS address, s.port, s.tsig_key, s.description,
                   p.target_serial, p.notified_serial, p.seen_serial, p.attempts,
                   \(time("next_attempt")), \(time("last_notify_sent")), \(time("last_notify_acked")),
                   \(time("last_checked")), p.last_error
            FROM propagation_state p JOIN pool_servers s ON s.id = p.server_id
            WHERE p.zone_id = $1
            ORDER BY s.id
            """,
            [.int(zoneID)])
        return try result.rows.map { row in
            PropagationStatusRow(
                serverID: try row.int("server_id"), address: try row.string("address"), port: try row.int("port"),
                tsigKey: try row.optionalString("tsig_key"), description: try row.string("description"),
                targetSerial: try row.int("target_serial"), notifiedSerial: try row.optionalInt("notified_serial"),
                seenSerial: try row.optionalInt("seen_serial"), attempts: try row.int("attempts"),
                nextAttempt: try row.string("next_attempt"), lastNotifySent: try row.optionalString("last_notify_sent"),
                lastNotifyAcked: try row.optionalString("last_notify_acked"),
                lastChecked: try row.optionalString("last_checked"), lastError: try row.optionalString("last_error"))
        }
    }

    /// Per zone: servers, and servers that answered the zone's current serial.
    public static func summaries(zoneIDs: [Int64], on db: PostgresConnection) throws -> [Int64: PropagationSummary] {
        guard !zoneIDs.isEmpty else { return [:] }
        let result = try db.query(
            """
            SELECT p.zone_id, count(*) AS servers, count(*) FILTER (WHERE p.seen_serial = z.serial) AS in_sync
            FROM propagation_state p JOIN zones z ON z.id = p.zone_id
            WHERE p.zone_id = ANY (string_to_array($1, ',')::bigint[])
            GROUP BY p.zone_id
            """,
            [.text(zoneIDs.map(String.init).joined(separator: ","))])
        var summaries: [Int64: PropagationSummary] = [:]
        for row in result.rows {
            summaries[try row.int("zone_id")] = PropagationSummary(servers: try row.int("servers"), inSync: try row.int("in_sync"))
        }
        return summaries
    }

    /// Owes the zone's current serial to every server again (a NOTIFY is sent even to servers
    /// that acknowledged it) and wakes the workers. Returns how many servers that is.
    public static func renotify(zoneID: Int64, on db: PostgresConnection) throws -> Int {
        let count = try db.query(
            """
            UPDATE propagation_state p SET target_serial = z.serial, notified_serial = NULL, attempts = 0,
                   next_attempt = now()
            FROM zones z WHERE z.id = p.zone_id AND p.zone_id = $1
            """,
            [.int(zoneID)]).affectedRows
        _ = try db.query("SELECT pg_notify('propagation_due', '')")
        return count
    }
}

/// A zone as stored, with the service-owned SOA fields and apex name servers.
public struct ZoneRow: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// 0 for a pool's catalog zone, which belongs to no account.
    public var accountID: Int64
    public var serial: Int64
    public var serialPolicy: String
    public var defaultTTL: Int64
    public var soa: ZoneSOAFields
    public var nameservers: [String]
    public var nsTTL: Int64
    public var recordCount: Int64
    /// The pool publishing the zone; nil when the service's defaults apply.
    public var poolID: Int64?
    /// "primary" (a customer's zone) or "catalog" (a pool's RFC 9432 catalog, kept by the service).
    public var kind: String
    public var createdAt: String
    public var updatedAt: String

    public var isCatalog: Bool { kind == "catalog" }
}

/// The SOA fields other than the serial, as the service configures them for a zone.
public struct ZoneSOAFields: Sendable, Equatable {
    public var mname: String
    public var rname: String
    public var refresh: Int64
    public var retry: Int64
    public var expire: Int64
    public var minimum: Int64
    public var ttl: Int64
    public init(mname: String, rname: String, refresh: Int64, retry: Int64, expire: Int64, minimum: Int64, ttl: Int64) {
        self.mname = mname
        self.rname = rname
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
        self.ttl = ttl
    }
}

public struct NewZone: Sendable {
    public var name: String
    /// 0 for a pool's catalog zone, which belongs to no account.
    public var accountID: Int64
    public var serial: Int64
    public var serialPolicy: String
    public var defaultTTL: Int64
    public var soa: ZoneSOAFields
    public var nameservers: [String]
    public var nsTTL: Int64
    public var poolID: Int64?
    public init(name: String, accountID: Int64, serial: Int64, serialPolicy: String, defaultTTL: Int64,
                soa: ZoneSOAFields, nameservers: [String], nsTTL: Int64, poolID: Int64?) {
        self.poolID = poolID
        self.name = name
        self.accountID = accountID
        self.serial = serial
        self.serialPolicy = serialPolicy
        self.defaultTTL = defaultTTL
        self.soa = soa
        self.nameservers = nameservers
        self.nsTTL = nsTTL
    }
}

/// Which zones a list shows.
public struct ZoneFilter: Sendable {
    public var accountID: Int64?
    public var exactName: String?
    public var namePrefix: String?
    /// Only these names (a token limited to some zones); nil means no such limit.
    public var onlyNames: [String]?
    public init(accountID: Int64? = nil, exactName: String? = nil, namePrefix: String? = nil, onlyNames: [String]? = nil) {
        self.accountID = accountID
        self.exactName = exactName
        self.namePrefix = namePrefix
        self.onlyNames = onlyNames
    }
}

/// SQL for zones. Name lists cross the wire newline-joined (presentation names hold no raw newline).
public enum ZoneRepository {
    static let columns = """
        id, name, COALESCE(account_id, 0) AS account_id, kind, serial, serial_policy, default_ttl, soa_mname, soa_rname, soa_refresh,
        soa_retry, soa_expire, soa_minimum, soa_ttl, array_to_string(nameservers, E'\\n') AS nameservers,
        ns_ttl, record_count, pool_id,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
        to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at
        """

    public static func insert(_ zone: NewZone, on db: PostgresConnection) throws -> ZoneRow {
        let result = try db.query(
            """
            INSERT INTO zones (name, account_id, serial, serial_policy, default_ttl, soa_mname, soa_rname,
                               soa_refresh, soa_retry, soa_expire, soa_minimum, soa_ttl, nameservers, ns_ttl, pool_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, string_to_array($13, E'\\n'), $14, $15)
            RETURNING \(columns)
            """,
            [.text(zone.name), .int(zone.accountID), .int(zone.serial), .text(zone.serialPolicy),
             .int(zone.defaultTTL), .text(zone.soa.mname), .text(zone.soa.rname), .int(zone.soa.refresh),
             .int(zone.soa.retry), .int(zone.soa.expire), .int(zone.soa.minimum), .int(zone.soa.ttl),
             .text(zone.nameservers.joined(separator: "\n")), .int(zone.nsTTL), zone.poolID.map(PostgresParameter.int) ?? .null])
        return try zoneRow(from: result.rows[0])
    }

    public static func find(id: Int64, on db: PostgresConnection) throws -> ZoneRow? {
        try db.query("SELECT \(columns) FROM zones WHERE id = $1", [.int(id)]).rows.first.map(zoneRow(from:))
    }

    public static func find(name: String, on db: PostgresConnection) throws -> ZoneRow? {
        try db.query("SELECT \(columns) FROM zones WHERE name = $1", [.text(name)]).rows.first.map(zoneRow(from:))
    }

    /// Reads the zone and holds its row lock until the transaction ends: every change of one zone
    /// goes through here first, so changes of one zone run one after the other, each seeing the
    /// serial the previous one committed.
    public static func lock(id: Int64, on db: PostgresConnection) throws -> ZoneRow? {
        try db.query("SELECT \(columns) FROM zones WHERE id = $1 FOR UPDATE", [.int(id)]).rows.first.map(zoneRow(from:))
    }

    /// `lock(id:)` by name, in one statement.
    public static func lock(name: String, on db: PostgresConnection) throws -> ZoneRow? {
        try db.query("SELECT \(columns) FROM zones WHERE name = $1 FOR UPDATE", [.text(name)]).rows.first.map(zoneRow(from:))
    }

    /// Locks the zones with these ids until the transaction ends, in id order, or fails at once
    /// (lock_not_available) when another transaction holds one of them.
    public static func lockStatement(ids: [Int64]) -> PostgresStatement {
        PostgresStatement("SELECT id FROM zones WHERE id = ANY(string_to_array($1, ',')::bigint[]) ORDER BY id FOR UPDATE NOWAIT",
                          [.text(ids.map(String.init).joined(separator: ","))])
    }

    /// Locks every zone named by id or by name until the transaction ends, and reads each with
    /// its account (nil if missing), in one round trip. Rows are locked in id order, so two
    /// transactions locking overlapping sets of zones wait for each other but never deadlock.
    /// With `skipLocked`, zones another transaction holds are not waited for: they come back in
    /// `busy`, read but not locked (one more round trip, only then).
    ///
    /// `then` runs in the same round trip, after the lock (so it sees what the lock waited
    /// for); its result comes back as `then`. Each locked zone comes with the versions of the
    /// rows read, for a later batch to plan from them without reading (`RowVersions`).
    public static func lockWithAccounts(ids: [Int64], names: [String], skipLocked: Bool = false, then: PostgresStatement? = nil,
                                        on db: PostgresConnection) throws
        -> (locked: [(zone: ZoneRow, account: AccountRow?, versions: RowVersions)], busy: [ZoneRow], then: PostgresResult?) {
        let parameters: [PostgresParameter] = [.text(ids.map(String.init).joined(separator: ",")), .text(names.joined(separator: "\n"))]
        let named = "id = ANY(string_to_array($1, ',')::bigint[]) OR name = ANY(string_to_array($2, E'\\n'))"
        let results = try db.queries([PostgresStatement(
            """
            SELECT z.*, \(AccountRepository.prefixedColumns(table: "a", prefix: "account_row_")), a.xmin::text AS account_row_version
            FROM (SELECT \(columns), xmin::text AS row_version FROM zones WHERE \(named) ORDER BY id FOR UPDATE\(skipLocked ? " SKIP LOCKED" : "")) z
            LEFT JOIN accounts a ON a.id = z.account_id
            """,
            parameters)] + (then.map { [$0] } ?? []))
        let result = results[0]
        let locked = try result.rows.map { row in
            let account = row["account_row_id"] == nil ? nil : try AccountRepository.account(from: row, prefix: "account_row_")
            let versions = RowVersions(zone: try row.string("row_version"), account: try row.optionalString("account_row_version") ?? "-")
            return (zone: try zoneRow(from: row), account: account, versions: versions)
        }
        let lockedIDs = Set(locked.map(\.zone.id))
        let lockedNames = Set(locked.map(\.zone.name))
        let thenResult = then == nil ? nil : results[1]
        guard skipLocked, !Set(ids).isSubset(of: lockedIDs) || !Set(names).isSubset(of: lockedNames) else { return (locked, [], thenResult) }
        let busy = try db.query("SELECT \(columns) FROM zones WHERE \(named)", parameters).rows
            .map(zoneRow(from:)).filter { !lockedIDs.contains($0.id) }
        return (locked, busy, thenResult)
    }

    /// Zones in byte order of their names (collation "C": the same on every database locale,
    /// so cursors stay valid) after `afterName`.
    public static func list(_ filter: ZoneFilter, afterName: String?, limit: Int, on db: PostgresConnection) throws -> [ZoneRow] {
        let result = try db.query(
            """
            SELECT \(columns) FROM zones
            WHERE ($1::text IS NULL OR name COLLATE "C" > $1)
              AND ($2::bigint IS NULL OR account_id = $2)
              AND ($3::text IS NULL OR name = $3)
              AND ($4::text IS NULL OR starts_with(name, $4))
              AND ($5::text IS NULL OR name = ANY (string_to_array($5, E'\\n')))
              AND kind = 'primary'
            ORDER BY name COLLATE "C" LIMIT $6
            """,
            [afterName.map(PostgresParameter.text) ?? .null, filter.accountID.map(PostgresParameter.int) ?? .null,
             filter.exactName.map(PostgresParameter.text) ?? .null, filter.namePrefix.map(PostgresParameter.text) ?? .null,
             filter.onlyNames.map { .text($0.joined(separator: "\n")) } ?? .null, .int(Int64(limit))],
            planEachCall: true)
        return try result.rows.map(zoneRow(from:))
    }

    public static func count(accountID: Int64, on db: PostgresConnection) throws -> Int64 {
        try db.query("SELECT count(*) AS n FROM zones WHERE account_id = $1", [.int(accountID)]).rows[0].int("n")
    }

    /// Records a committed change's new serial and record count; the zone as it now is.
    @discardableResult
    public static func setSerial(id: Int64, serial: Int64, recordCount: Int64, on db: PostgresConnection) throws -> ZoneRow? {
        try db.query(
            "UPDATE zones SET serial = $2, record_count = $3, updated_at = now() WHERE id = $1 RETURNING \(columns)",
            [.int(id), .int(serial), .int(recordCount)]).rows.first.map(zoneRow(from:))
    }

    /// Settings that do not change the zone's content (default TTL, serial policy).
    public static func updateSettings(id: Int64, serialPolicy: String, defaultTTL: Int64, soa: ZoneSOAFields,
                                      on db: PostgresConnection) throws -> ZoneRow {
        let result = try db.query(
            """
            UPDATE zones SET serial_policy = $2, default_ttl = $3, soa_refresh = $4, soa_retry = $5,
                             soa_expire = $6, soa_minimum = $7, soa_ttl = $8, updated_at = now()
            WHERE id = $1
            RETURNING \(columns)
            """,
            [.int(id), .text(serialPolicy), .int(defaultTTL), .int(soa.refresh), .int(soa.retry),
             .int(soa.expire), .int(soa.minimum), .int(soa.ttl)])
        return try zoneRow(from: result.rows[0])
    }

    /// The ids of a pool's zones.
    public static func memberIDs(poolID: Int64, on db: PostgresConnection) throws -> [Int64] {
        try db.query("SELECT id FROM zones WHERE pool_id = $1 ORDER BY id", [.int(poolID)]).rows.map { try $0.int("id") }
    }

    /// The service-owned apex data a pool publishes; the caller bumps the serial in the same
    /// transaction, since this changes the zone's content.
    public static func setPublisher(id: Int64, nameservers: [String], nsTTL: Int64, mname: String, rname: String,
                                    on db: PostgresConnection) throws {
        _ = try db.query(
            """
            UPDATE zones SET nameservers = string_to_array($2, E'\\n'), ns_ttl = $3, soa_mname = $4, soa_rname = $5,
                             updated_at = now()
            WHERE id = $1
            """,
            [.int(id), .text(nameservers.joined(separator: "\n")), .int(nsTTL), .text(mname), .text(rname)])
    }

    public static func delete(id: Int64, on db: PostgresConnection) throws -> Bool {
        try db.query("DELETE FROM zones WHERE id = $1", [.int(id)]).affectedRows == 1
    }

    static func zoneRow(from row: PostgresRow) throws -> ZoneRow {
        ZoneRow(
            id: try row.int("id"), name: try row.string("name"), accountID: try row.int("account_id"),
            serial: try row.int("serial"), serialPolicy: try row.string("serial_policy"),
            defaultTTL: try row.int("default_ttl"),
            soa: ZoneSOAFields(
                mname: try row.string("soa_mname"), rname: try row.string("soa_rname"),
                refresh: try row.int("soa_refresh"), retry: try row.int("soa_retry"),
                expire: try row.int("soa_expire"), minimum: try row.int("soa_minimum"), ttl: try row.int("soa_ttl")),
            nameservers: try row.string("nameservers").split(separator: "\n").map(String.init),
            nsTTL: try row.int("ns_ttl"), recordCount: try row.int("record_count"), poolID: try row.optionalInt("pool_id"),
            kind: try row.string("kind"), createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"))
    }
}

/// Which versions of a zone's row and of its account's row something was read from (their
/// `xmin`: every update of a row makes a new version with a new one). A batch planned from rows
/// it did not read again is written only if both rows are still these versions
/// (`ZoneWrite.expected`).
public struct RowVersions: Sendable, Equatable {
    public var zone: String
    public var account: String
    public init(zone: String, account: String) {
        self.zone = zone
        self.account = account
    }
}

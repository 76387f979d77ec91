/// A customer account as stored: the unit of ownership and quotas.
public struct AccountRow: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var maxZones: Int64
    public var maxRecordsPerZone: Int64
    public var minTTL: Int64
    public var createdAt: String
    public var updatedAt: String
}

/// The quota fields an operator may set; nil leaves the stored (or default) value.
public struct AccountChanges: Sendable {
    public var name: String?
    public var maxZones: Int64?
    public var maxRecordsPerZone: Int64?
    public var minTTL: Int64?
    public init(name: String? = nil, maxZones: Int64? = nil, maxRecordsPerZone: Int64? = nil, minTTL: Int64? = nil) {
        self.name = name
        self.maxZones = maxZones
        self.maxRecordsPerZone = maxRecordsPerZone
        self.minTTL = minTTL
    }
}

/// SQL for accounts. Timestamps leave PostgreSQL already in RFC 3339 UTC form.
public enum AccountRepository {
    static let columns = """
        id, name, max_zones, max_records_per_zone, min_ttl,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
        to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at
        """

    public static func create(_ changes: AccountChanges, on db: PostgresConnection) throws -> AccountRow {
        let result = try db.query(
            """
            INSERT INTO accounts (name, max_zones, max_records_per_zone, min_ttl)
            VALUES ($1, COALESCE($2::int, 100), COALESCE($3::int, 10000), COALESCE($4::int, 60))
            RETURNING \(columns)
            """,
            [.text(changes.name ?? ""), optionalInt(changes.maxZones), optionalInt(changes.maxRecordsPerZone),
             optionalInt(changes.minTTL)])
        return try account(from: result.rows[0])
    }

    public static func find(id: Int64, on db: PostgresConnection) throws -> AccountRow? {
        let result = try db.query("SELECT \(columns) FROM accounts WHERE id = $1", [.int(id)])
        return try result.rows.first.map(account(from:))
    }

    /// Reads the account and holds its row lock until the transaction ends (zone creation counts
    /// the account's zones under it, so concurrent creations cannot overrun the quota).
    public static func lock(id: Int64, on db: PostgresConnection) throws -> AccountRow? {
        let result = try db.query("SELECT \(columns) FROM accounts WHERE id = $1 FOR UPDATE", [.int(id)])
        return try result.rows.first.map(account(from:))
    }

    /// Accounts in id order after `afterID`, at most `limit` of them.
    public static func list(afterID: Int64, limit: Int, on db: PostgresConnection) throws -> [AccountRow] {
        let result = try db.query(
            "SELECT \(columns) FROM accounts WHERE id > $1 ORDER BY id LIMIT $2",
            [.int(afterID), .int(Int64(limit))])
        return try result.rows.map(account(from:))
    }

    public static func update(id: Int64, _ changes: AccountChanges, on db: PostgresConnection) throws -> AccountRow? {
        let result = try db.query(
            """
            UPDATE accounts SET
                name = COALESCE($2, name),
                max_zones = COALESCE($3::int, max_zones),
                max_records_per_zone = COALESCE($4::int, max_records_per_zone),
                min_ttl = COALESCE($5::int, min_ttl),
                updated_at = now()
            WHERE id = $1
            RETURNING \(columns)
            """,
            [.int(id), changes.name.map(PostgresParameter.text) ?? .null, optionalInt(changes.maxZones),
             optionalInt(changes.maxRecordsPerZone), optionalInt(changes.minTTL)])
        return try result.rows.first.map(account(from:))
    }

    /// True when the account existed. Its tokens go with it (ON DELETE CASCADE).
    public static func delete(id: Int64, on db: PostgresConnection) throws -> Bool {
        try db.query("DELETE FROM accounts WHERE id = $1", [.int(id)]).affectedRows == 1
    }

    static func account(from row: PostgresRow) throws -> AccountRow {
        try account(from: row, prefix: "")
    }

    static func account(from row: PostgresRow, prefix: String) throws -> AccountRow {
        AccountRow(
            id: try row.int(prefix + "id"), name: try row.string(prefix + "name"), maxZones: try row.int(prefix + "max_zones"),
            maxRecordsPerZone: try row.int(prefix + "max_records_per_zone"), minTTL: try row.int(prefix + "min_ttl"),
            createdAt: try row.string(prefix + "created_at"), updatedAt: try row.string(prefix + "updated_at"))
    }

    /// `columns` of the table aliased `table`, each named with `prefix` (for joins).
    static func prefixedColumns(table: String, prefix: String) -> String {
        """
        \(table).id AS \(prefix)id, \(table).name AS \(prefix)name, \(table).max_zones AS \(prefix)max_zones,
        \(table).max_records_per_zone AS \(prefix)max_records_per_zone, \(table).min_ttl AS \(prefix)min_ttl,
        to_char(\(table).created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS \(prefix)created_at,
        to_char(\(table).updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS \(prefix)updated_at
        """
    }

    static func optionalInt(_ value: Int64?) -> PostgresParameter {
        value.map(PostgresParameter.int) ?? .null
    }
}

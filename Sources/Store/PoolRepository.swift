/// A pool of secondaries as stored.
public struct PoolRow: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var nameservers: [String]
    public var nsTTL: Int64
    public var soaMname: String
    public var soaRname: String
    public var catalogZone: String?
    /// The catalog zone's current serial (nil without a catalog).
    public var catalogSerial: Int64?
    public var createdAt: String
    public var updatedAt: String
}

/// What creating or changing a pool sets; nil leaves the stored value.
public struct PoolChanges: Sendable {
    public var name: String?
    public var nameservers: [String]?
    public var nsTTL: Int64?
    public var soaMname: String?
    public var soaRname: String?
    /// `.some(nil)` removes the catalog zone.
    public var catalogZone: String??
    public init(name: String? = nil, nameservers: [String]? = nil, nsTTL: Int64? = nil, soaMname: String? = nil,
                soaRname: String? = nil, catalogZone: String?? = nil) {
        self.name = name
        self.nameservers = nameservers
        self.nsTTL = nsTTL
        self.soaMname = soaMname
        self.soaRname = soaRname
        self.catalogZone = catalogZone
    }
}

public enum PoolRepository {
    static let columns = """
        id, name, array_to_string(nameservers, E'\\n') AS nameservers, ns_ttl, soa_mname, soa_rname, catalog_zone,
        (SELECT serial FROM zones WHERE zones.pool_id = pools.id AND zones.kind = 'catalog') AS catalog_serial,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at,
        to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS updated_at
        """

    /// What a pool's catalog is called when its creation names none: `pool-<id>.` before this.
    public static let defaultCatalogSuffix = "catalog.zonectl.invalid."

    /// Creates a pool. Without `catalogZone` (not even null) it gets the default catalog name,
    /// which needs its id: a second statement, so call this inside a transaction.
    public static func create(_ pool: PoolChanges, on db: PostgresConnection) throws -> PoolRow {
        if pool.catalogZone == nil {
            var named = pool
            named.catalogZone = .some(nil)
            let created = try create(named, on: db)
            let result = try db.query(
                "UPDATE pools SET catalog_zone = 'pool-' || id || '.' || $2 WHERE id = $1 RETURNING \(columns)",
                [.int(created.id), .text(defaultCatalogSuffix)])
            return try poolRow(from: result.rows[0])
        }
        let result = try db.query(
            """
            INSERT INTO pools (name, nameservers, ns_ttl, soa_mname, soa_rname, catalog_zone)
            VALUES ($1, string_to_array($2, E'\\n'), COALESCE($3::int, 86400), $4, $5, $6)
            RETURNING \(columns)
            """,
            [.text(pool.name ?? ""), .text((pool.nameservers ?? []).joined(separator: "\n")),
             pool.nsTTL.map(PostgresParameter.int) ?? .null, .text(pool.soaMname ?? ""), .text(pool.soaRname ?? ""),
             (pool.catalogZone ?? nil).map(PostgresParameter.text) ?? .null])
        return try poolRow(from: result.rows[0])
    }

    public static func find(id: Int64, on db: PostgresConnection) throws -> PoolRow? {
        try db.query("SELECT \(columns) FROM pools WHERE id = $1", [.int(id)]).rows.first.map(poolRow(from:))
    }

    public static func find(name: String, on db: PostgresConnection) throws -> PoolRow? {
        try db.query("SELECT \(columns) FROM pools WHERE name = $1", [.text(name)]).rows.first.map(poolRow(from:))
    }

    /// Reads the pool and holds its row lock: changes of its NS set are applied to every member
    /// zone one pool change at a time.
    public static func lock(id: Int64, on db: PostgresConnection) throws -> PoolRow? {
        try db.query("SELECT \(columns) FROM pools WHERE id = $1 FOR UPDATE", [.int(id)]).rows.first.map(poolRow(from:))
    }

    /// Reads the pool and holds a share lock: a zone created meanwhile cannot miss a concurrent
    /// change of the pool's NS names (that change waits, then republishes the new zone too).
    public static func share(id: Int64, on db: PostgresConnection) throws -> PoolRow? {
        try db.query("SELECT \(columns) FROM pools WHERE id = $1 FOR SHARE", [.int(id)]).rows.first.map(poolRow(from:))
    }

    public static func list(afterID: Int64, limit: Int, on db: PostgresConnection) throws -> [PoolRow] {
        try db.query("SELECT \(columns) FROM pools WHERE id > $1 ORDER BY id LIMIT $2", [.int(afterID), .int(Int64(limit))])
            .rows.map(poolRow(from:))
    }

    public static func update(id: Int64, _ changes: PoolChanges, on db: PostgresConnection) throws -> PoolRow? {
        let result = try db.query(
            """
            UPDATE pools SET
                name = COALESCE($2, name),
                nameservers = COALESCE(string_to_array($3, E'\\n'), nameservers),
                ns_ttl = COALESCE($4::int, ns_ttl),
                soa_mname = COALESCE($5, soa_mname),
                soa_rname = COALESCE($6, soa_rname),
                catalog_zone = CASE WHEN $7::boolean THEN $8 ELSE catalog_zone END,
                updated_at = now()
            WHERE id = $1
            RETURNING \(columns)
            """,
            [.int(id), changes.name.map(PostgresParameter.text) ?? .null,
             changes.nameservers.map { .text($0.joined(separator: "\n")) } ?? .null,
             changes.nsTTL.map(PostgresParameter.int) ?? .null, changes.soaMname.map(PostgresParameter.text) ?? .null,
             changes.soaRname.map(PostgresParameter.text) ?? .null, .bool(changes.catalogZone != nil),
             (changes.catalogZone ?? nil).map(PostgresParameter.text) ?? .null])
        return try result.rows.first.map(poolRow(from:))
    }

    public static func delete(id: Int64, on db: PostgresConnection) throws -> Bool {
        try db.query("DELETE FROM pools WHERE id = $1", [.int(id)]).affectedRows == 1
    }

    static func poolRow(from row: PostgresRow) throws -> PoolRow {
        PoolRow(
            id: try row.int("id"), name: try row.string("name"),
            nameservers: try row.string("nameservers").split(separator: "\n").map(String.init),
            nsTTL: try row.int("ns_ttl"), soaMname: try row.string("soa_mname"), soaRname: try row.string("soa_rname"),
            catalogZone: try row.optionalString("catalog_zone"), catalogSerial: try row.optionalInt("catalog_serial"),
            createdAt: try row.string("created_at"), updatedAt: try row.string("updated_at"))
    }
}

/// A secondary name server of a pool.
public struct PoolServerRow: Sendable, Equatable {
    public var id: Int64
    public var poolID: Int64
    public var address: String
    public var port: Int64
    public var tsigKey: String?
    public var description: String
    /// Whether the server reads the pool's catalog zone (and is sent its NOTIFYs).
    public var catalog: Bool
    public var createdAt: String
}

public struct PoolServerChanges: Sendable {
    public var address: String?
    public var port: Int64?
    /// `.some(nil)` removes the key.
    public var tsigKey: String??
    public var description: String?
    public var catalog: Bool?
    public init(address: String? = nil, port: Int64? = nil, tsigKey: String?? = nil, description: String? = nil,
                catalog: Bool? = nil) {
        self.address = address
        self.port = port
        self.tsigKey = tsigKey
        self.description = description
        self.catalog = catalog
    }
}

public enum PoolServerRepository {
    static let columns = """
        id, pool_id, host(address) AS address, port, tsig_key, description, catalog,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at
        """

    public static func create(poolID: Int64, _ server: PoolServerChanges, on db: PostgresConnection) throws -> PoolServerRow {
        let result = try db.query(
            """
            INSERT INTO pool_servers (pool_id, address, port, tsig_key, description, catalog)
            VALUES ($1, $2::inet, COALESCE($3::int, 53), $4, COALESCE($5, ''), COALESCE($6::boolean, true))
            RETURNING \(columns)
            """,
            [.int(poolID), .text(server.address ?? ""), server.port.map(PostgresParameter.int) ?? .null,
             (server.tsigKey ?? nil).map(PostgresParameter.text) ?? .null, server.description.map(PostgresParameter.text) ?? .null,
             server.catalog.map(PostgresParameter.bool) ?? .null])
        return try serverRow(from: result.rows[0])
    }

    public static func find(poolID: Int64, id: Int64, on db: PostgresConnection) throws -> PoolServerRow? {
        try db.query("SELECT \(columns) FROM pool_servers WHERE pool_id = $1 AND id = $2", [.int(poolID), .int(id)])
            .rows.first.map(serverRow(from:))
    }

    public static func list(poolID: Int64, afterID: Int64, limit: Int, on db: PostgresConnection) throws -> [PoolServerRow] {
        try db.query(
            "SELECT \(columns) FROM pool_servers WHERE pool_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            [.int(poolID), .int(afterID), .int(Int64(limit))]).rows.map(serverRow(from:))
    }

    public static func update(poolID: Int64, id: Int64, _ changes: PoolServerChanges, on db: PostgresConnection) throws -> PoolServerRow? {
        let result = try db.query(
            """
            UPDATE pool_servers SET
                address = COALESCE($3::inet, address),
                port = COALESCE($4::int, port),
                tsig_key = CASE WHEN $5::boolean THEN $6 ELSE tsig_key END,
                description = COALESCE($7, description),
                catalog = COALESCE($8::boolean, catalog)
            WHERE pool_id = $1 AND id = $2
            RETURNING \(columns)
            """,
            [.int(poolID), .int(id), changes.address.map(PostgresParameter.text) ?? .null,
             changes.port.map(PostgresParameter.int) ?? .null, .bool(changes.tsigKey != nil),
             (changes.tsigKey ?? nil).map(PostgresParameter.text) ?? .null, changes.description.map(PostgresParameter.text) ?? .null,
             changes.catalog.map(PostgresParameter.bool) ?? .null])
        return try result.rows.first.map(serverRow(from:))
    }

    public static func delete(poolID: Int64, id: Int64, on db: PostgresConnection) throws -> Bool {
        try db.query("DELETE FROM pool_servers WHERE pool_id = $1 AND id = $2", [.int(poolID), .int(id)]).affectedRows == 1
    }

    static func serverRow(from row: PostgresRow) throws -> PoolServerRow {
        PoolServerRow(
            id: try row.int("id"), poolID: try row.int("pool_id"), address: try row.string("address"),
            port: try row.int("port"), tsigKey: try row.optionalString("tsig_key"),
            description: try row.string("description"), catalog: try row.bool("catalog"), createdAt: try row.string("created_at"))
    }
}

/// A TSIG key as stored. The secret never leaves the service after creation.
public struct TSIGKeyRow: Sendable, Equatable {
    public var name: String
    public var algorithm: String
    public var secret: [UInt8]
    public var createdAt: String
}

public enum TSIGKeyRepository {
    static let columns = """
        name, algorithm, secret,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at
        """

    public static func create(name: String, algorithm: String, secret: [UInt8], on db: PostgresConnection) throws -> TSIGKeyRow {
        let result = try db.query(
            "INSERT INTO tsig_keys (name, algorithm, secret) VALUES ($1, $2, $3) RETURNING \(columns)",
            [.text(name), .text(algorithm), .bytea(secret)])
        return try keyRow(from: result.rows[0])
    }

    public static func find(name: String, on db: PostgresConnection) throws -> TSIGKeyRow? {
        try db.query("SELECT \(columns) FROM tsig_keys WHERE name = $1", [.text(name)]).rows.first.map(keyRow(from:))
    }

    public static func list(afterName: String, limit: Int, on db: PostgresConnection) throws -> [TSIGKeyRow] {
        try db.query("SELECT \(columns) FROM tsig_keys WHERE name COLLATE \"C\" > $1 ORDER BY name COLLATE \"C\" LIMIT $2",
                     [.text(afterName), .int(Int64(limit))]).rows.map(keyRow(from:))
    }

    public static func delete(name: String, on db: PostgresConnection) throws -> Bool {
        try db.query("DELETE FROM tsig_keys WHERE name = $1", [.text(name)]).affectedRows == 1
    }

    static func keyRow(from row: PostgresRow) throws -> TSIGKeyRow {
        TSIGKeyRow(name: try row.string("name"), algorithm: try row.string("algorithm"), secret: try row.bytea("secret"),
                   createdAt: try row.string("created_at"))
    }
}

/// A zone as the transfer server needs it: the row, and the keys of its pool servers at the
/// asking address (nil for a server without a key; empty: that address is no server of its pool).
public struct TransferZone: Sendable {
    public var zone: ZoneRow
    public var serverKeys: [String?]
}

/// What the transfer server reads: who may transfer a zone, and the journal IXFR is made from.
public enum TransferRepository {
    /// The zone named `name` and its pool's servers at `address`, in one statement: a SOA
    /// query (the first thing a secondary asks after a NOTIFY) costs one round trip.
    public static func zone(named name: String, askedFrom address: String, on db: PostgresConnection) throws -> TransferZone? {
        guard let row = try db.query(
            """
            SELECT \(ZoneRepository.columns),
                   (SELECT string_agg(COALESCE(s.tsig_key, ''), E'\\n') FROM pool_servers s
                    WHERE s.pool_id = zones.pool_id AND s.address = $2::inet) AS server_keys
            FROM zones WHERE name = $1
            """,
            [.text(name), .text(address)]).rows.first else { return nil }
        let keys = try row.optionalString("server_keys").map { text in
            text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? nil : String($0) }
        } ?? []
        return TransferZone(zone: try ZoneRepository.zoneRow(from: row), serverKeys: keys)
    }

    /// The zones a pool's catalog lists: id and name, in id order.
    public static func catalogMembers(poolID: Int64, on db: PostgresConnection) throws -> [(id: Int64, name: String)] {
        try db.query("SELECT id, name FROM zones WHERE pool_id = $1 AND kind = 'primary' ORDER BY id", [.int(poolID)])
            .rows.map { (try $0.int("id"), try $0.string("name")) }
    }

    /// Every TSIG key, to check a signed request before knowing which zone it is about.
    public static func keys(on db: PostgresConnection) throws -> [TSIGKeyRow] {
        try db.query("SELECT \(TSIGKeyRepository.columns) FROM tsig_keys").rows.map(TSIGKeyRepository.keyRow(from:))
    }

    /// The journal entries after the one that produced `serial`, oldest first, at most `limit`
    /// (nil when no entry produced `serial`: the journal does not reach back that far). One
    /// statement: its first row says where the journal starts, even when nothing follows.
    public static func changes(zoneID: Int64, since serial: Int64, limit: Int, on db: PostgresConnection) throws -> [ZoneChangeRow]? {
        let rows = try db.query(
            """
            WITH start AS (SELECT max(id) AS id FROM zone_changes WHERE zone_id = $1 AND serial_to = $2)
            SELECT start.id AS start_id, c.* FROM start
            LEFT JOIN LATERAL (
                SELECT \(ZoneChangeRepository.columns) FROM zone_changes
                WHERE zone_id = $1 AND id > start.id ORDER BY id LIMIT $3
            ) c ON true
            ORDER BY c.id
            """,
            [.int(zoneID), .int(serial), .int(Int64(limit))]).rows
        guard let first = rows.first, try first.optionalInt("start_id") != nil else { return nil }
        if try first.optionalInt("id") == nil { return [] }
        return try rows.map(ZoneChangeRepository.changeRow(from:))
    }
}

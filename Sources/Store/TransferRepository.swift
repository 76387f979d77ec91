/// What the transfer server reads: who may transfer a zone, and the journal IXFR is made from.
public enum TransferRepository {
    /// The TSIG key names of the zone's pool servers at `address` (nil for a server without a
    /// key); empty when no server of the zone's pool has that address.
    public static func serverKeys(zoneID: Int64, address: String, on db: PostgresConnection) throws -> [String?] {
        try db.query(
            """
            SELECT s.tsig_key FROM pool_servers s JOIN zones z ON z.pool_id = s.pool_id
            WHERE z.id = $1 AND s.address = $2::inet
            """,
            [.int(zoneID), .text(address)]).rows.map { try $0.optionalString("tsig_key") }
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
    /// (nil when no entry produced `serial`: the journal does not reach back that far).
    public static func changes(zoneID: Int64, since serial: Int64, limit: Int, on db: PostgresConnection) throws -> [ZoneChangeRow]? {
        let start = try db.query(
            "SELECT max(id) AS id FROM zone_changes WHERE zone_id = $1 AND serial_to = $2",
            [.int(zoneID), .int(serial)]).rows[0]
        guard let startID = try start.optionalInt("id") else { return nil }
        return try db.query(
            """
            SELECT \(ZoneChangeRepository.columns) FROM zone_changes
            WHERE zone_id = $1 AND id > $2 ORDER BY id LIMIT $3
            """,
            [.int(zoneID), .int(startID), .int(Int64(limit))]).rows.map(ZoneChangeRepository.changeRow(from:))
    }
}

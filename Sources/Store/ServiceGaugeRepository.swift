/// Service-wide numbers for `/metrics`, read in one statement.
public struct ServiceGauges: Sendable, Equatable {
    public var zones: Int64
    public var catalogZones: Int64
    public var records: Int64
    public var accounts: Int64
    public var poolServers: Int64
    /// Zone × server pairs, those whose NOTIFY for the current serial is not acknowledged, and
    /// those whose server did not answer the zone's current serial (catalogs aside).
    public var propagationPairs: Int64
    public var notifiesOwed: Int64
    public var serversBehind: Int64
    /// Pairs whose last NOTIFY or check failed.
    public var propagationFailing: Int64
    public var zoneFilesOwed: Int64
    public var hookFailures: Int64
}

public enum ServiceGaugeRepository {
    public static func read(on db: PostgresConnection) throws -> ServiceGauges {
        let row = try db.query(
            """
            SELECT
              (SELECT count(*) FROM zones WHERE kind = 'primary') AS zones,
              (SELECT count(*) FROM zones WHERE kind = 'catalog') AS catalog_zones,
              (SELECT COALESCE(sum(record_count), 0) FROM zones) AS records,
              (SELECT count(*) FROM accounts) AS accounts,
              (SELECT count(*) FROM pool_servers) AS pool_servers,
              (SELECT count(*) FROM propagation_state) AS pairs,
              (SELECT count(*) FROM propagation_state p JOIN zones z ON z.id = p.zone_id
                WHERE p.notified_serial IS DISTINCT FROM z.serial) AS notifies_owed,
              (SELECT count(*) FROM propagation_state p JOIN zones z ON z.id = p.zone_id
                WHERE z.kind = 'primary' AND p.seen_serial IS DISTINCT FROM z.serial) AS servers_behind,
              (SELECT count(*) FROM propagation_state WHERE last_error IS NOT NULL) AS failing,
              (SELECT count(*) FROM zone_file_state WHERE written_serial IS DISTINCT FROM target_serial) AS files_owed,
              (SELECT count(*) FROM zone_file_state WHERE hook_error IS NOT NULL) AS hook_failures
            """).rows[0]
        return ServiceGauges(
            zones: try row.int("zones"), catalogZones: try row.int("catalog_zones"), records: try row.int("records"),
            accounts: try row.int("accounts"), poolServers: try row.int("pool_servers"),
            propagationPairs: try row.int("pairs"), notifiesOwed: try row.int("notifies_owed"),
            serversBehind: try row.int("servers_behind"), propagationFailing: try row.int("failing"),
            zoneFilesOwed: try row.int("files_owed"), hookFailures: try row.int("hook_failures"))
    }
}

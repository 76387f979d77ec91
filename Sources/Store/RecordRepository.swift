/// One stored record. The Store knows nothing of DNS: owner keys and RDATA are opaque bytes the
/// API computed (see the `records` table's comments for what the key's byte order means).
public struct RecordRow: Sendable, Equatable {
    public var owner: String
    public var ownerKey: [UInt8]
    public var type: Int64
    public var ttl: Int64
    public var rdata: [UInt8]
    public init(owner: String, ownerKey: [UInt8], type: Int64, ttl: Int64, rdata: [UInt8]) {
        self.owner = owner
        self.ownerKey = ownerKey
        self.type = type
        self.ttl = ttl
        self.rdata = rdata
    }
}

/// Names an RRset of a zone by its owner key and type.
public struct RRsetKey: Sendable, Hashable {
    public var ownerKey: [UInt8]
    public var type: Int64
    public init(ownerKey: [UInt8], type: Int64) {
        self.ownerKey = ownerKey
        self.type = type
    }
}

/// Names the records at one owner of one zone.
public struct ZoneOwnerKey: Sendable, Hashable {
    public var zoneID: Int64
    public var ownerKey: [UInt8]
    public init(zoneID: Int64, ownerKey: [UInt8]) {
        self.zoneID = zoneID
        self.ownerKey = ownerKey
    }
}

/// Names an RRset of a given zone.
public struct ZoneRRsetKey: Sendable, Hashable {
    public var zoneID: Int64
    public var rrset: RRsetKey
    public init(zoneID: Int64, rrset: RRsetKey) {
        self.zoneID = zoneID
        self.rrset = rrset
    }
}

/// SQL for records. Many rows travel as a few text parameters (newline- or comma-joined, bytea
/// as hex), unnested in the server: one round trip for any number of rows, and no SQL text ever
/// built from data.
public enum RecordRepository {
    static let columns = "owner, owner_key, type, ttl, rdata"

    /// The records of zone `zoneID` at the owner key `k.hex`: an index probe per owner whatever
    /// the statistics say (OFFSET 0 keeps the planner from merging it into a scan of the whole
    /// zone, which it chose while the zone's rows were newer than its statistics).
    static func probe(zoneID: String) -> String {
        "SELECT \(columns) FROM records WHERE zone_id = \(zoneID) AND owner_key = decode(k.hex, 'hex') OFFSET 0"
    }

    /// Every record at the given owners of the given zones, in one round trip.
    public static func records(at owners: [ZoneOwnerKey], on db: PostgresConnection) throws -> [(zoneID: Int64, row: RecordRow)] {
        let unique = Array(Set(owners))
        guard !unique.isEmpty else { return [] }
        let result = try db.query(
            """
            SELECT k.z::bigint AS zone_id, r.owner, r.owner_key, r.type, r.ttl, r.rdata
            FROM unnest(string_to_array($1, ','), string_to_array($2, E'\\n')) AS k(z, hex),
                 LATERAL (\(probe(zoneID: "k.z::bigint"))) r
            ORDER BY 1, r.owner_key, r.type, r.rdata
            """,
            [.text(unique.map { String($0.zoneID) }.joined(separator: ",")),
             .text(unique.map { ByteaHex.digits($0.ownerKey) }.joined(separator: "\n"))])
        return try zoneRecords(result)
    }

    /// The statement reading every record at the given owners of the zones with the given
    /// names (as stored: lower case, trailing dot), for `zoneRecords`. Meant to go in the same
    /// round trip as the statement that locks those zones, after it: it then reads what the
    /// lock waited for.
    public static func recordsStatement(atOwnersOf owners: [(zone: String, ownerKey: [UInt8])]) -> PostgresStatement {
        PostgresStatement(
            """
            SELECT z.id AS zone_id, r.owner, r.owner_key, r.type, r.ttl, r.rdata
            FROM unnest(string_to_array($1, E'\\n'), string_to_array($2, E'\\n')) AS k(name, hex)
                 JOIN zones z ON z.name = k.name,
                 LATERAL (\(probe(zoneID: "z.id"))) r
            ORDER BY 1, r.owner_key, r.type, r.rdata
            """,
            [.text(owners.map(\.zone).joined(separator: "\n")), .text(owners.map { ByteaHex.digits($0.ownerKey) }.joined(separator: "\n"))])
    }

    /// The rows of `records(at:)` or `recordsStatement`, with their zones.
    public static func zoneRecords(_ result: PostgresResult) throws -> [(zoneID: Int64, row: RecordRow)] {
        try result.rows.map { (try $0.int("zone_id"), try recordRow(from: $0)) }
    }

    /// Every record at the given owners of one zone.
    public static func records(zoneID: Int64, ownerKeys: [[UInt8]], on db: PostgresConnection) throws -> [RecordRow] {
        try records(at: ownerKeys.map { ZoneOwnerKey(zoneID: zoneID, ownerKey: $0) }, on: db).map(\.row)
    }

    /// Every record strictly below the owner with this key (its descendants), optionally of one type.
    public static func descendants(zoneID: Int64, of ownerKey: [UInt8], type: Int64? = nil, limit: Int,
                                   on db: PostgresConnection) throws -> [RecordRow] {
        var upper = ownerKey
        upper[upper.count - 1] += 1  // keys end in 0x00 0x00, so this never overflows
        let result = try db.query(
            """
            SELECT \(columns) FROM records
            WHERE zone_id = $1 AND owner_key > $2 AND owner_key < $3 AND ($4::int IS NULL OR type = $4)
            ORDER BY owner_key, type, rdata LIMIT $5
            """,
            [.int(zoneID), .bytea(ownerKey), .bytea(upper), type.map(PostgresParameter.int) ?? .null, .int(Int64(limit))],
            planEachCall: true)
        return try result.rows.map(recordRow(from:))
    }

    /// A page of whole RRsets in canonical order, after the RRset `after`, at most `limit` RRsets,
    /// optionally only at one owner and/or of one type.
    public static func rrsetPage(zoneID: Int64, after: RRsetKey?, ownerKey: [UInt8]?, type: Int64?, limit: Int,
                                 on db: PostgresConnection) throws -> [RecordRow] {
        let result = try db.query(
            """
            WITH page AS (
                SELECT DISTINCT owner_key, type FROM records
                WHERE zone_id = $1
                  AND ($2::bytea IS NULL OR (owner_key, type) > ($2, $3::int))
                  AND ($4::bytea IS NULL OR owner_key = $4)
                  AND ($5::int IS NULL OR type = $5)
                ORDER BY owner_key, type LIMIT $6
            )
            SELECT r.owner, r.owner_key, r.type, r.ttl, r.rdata
            FROM records r JOIN page p ON r.owner_key = p.owner_key AND r.type = p.type
            WHERE r.zone_id = $1
            ORDER BY r.owner_key, r.type, r.rdata
            """,
            [.int(zoneID), after.map { .bytea($0.ownerKey) } ?? .null, after.map { .int($0.type) } ?? .null,
             ownerKey.map(PostgresParameter.bytea) ?? .null, type.map(PostgresParameter.int) ?? .null, .int(Int64(limit))],
            planEachCall: true)
        return try result.rows.map(recordRow(from:))
    }

    /// Every record of the zone in canonical order (imports in replace mode compare against it).
    public static func all(zoneID: Int64, on db: PostgresConnection) throws -> [RecordRow] {
        // Planned for the zone at hand: a generic plan fitted to a large zone would scan the
        // whole table for every small one.
        try db.query("SELECT \(columns) FROM records WHERE zone_id = $1 ORDER BY owner_key, type, rdata", [.int(zoneID)],
                     planEachCall: true)
            .rows.map(recordRow(from:))
    }

    /// The statement deleting the given RRsets of the given zones.
    static func deleteStatement(_ rrsets: [ZoneRRsetKey]) -> PostgresStatement {
        PostgresStatement(
            """
            DELETE FROM records r
            USING unnest(string_to_array($1, ','), string_to_array($2, E'\\n'), string_to_array($3, ',')) AS d(z, k, t)
            WHERE r.zone_id = d.z::bigint AND r.owner_key = decode(d.k, 'hex') AND r.type = d.t::int
            """,
            [.text(rrsets.map { String($0.zoneID) }.joined(separator: ",")),
             .text(rrsets.map { ByteaHex.digits($0.rrset.ownerKey) }.joined(separator: "\n")),
             .text(rrsets.map { String($0.rrset.type) }.joined(separator: ","))],
            // Planned for the list at hand: a generic plan cannot know how many RRsets go.
            planEachCall: true)
    }

    /// Inserts `records` into the zone, in slices so no single parameter grows without bound
    /// (large imports; a batch's usual rows travel inside `ZoneChangeRepository.commit`).
    static func insert(zoneID: Int64, _ records: [RecordRow], on db: PostgresConnection) throws {
        for start in stride(from: 0, to: records.count, by: insertSlice) {
            try db.query(
                """
                INSERT INTO records (zone_id, owner, owner_key, type, ttl, rdata)
                SELECT $1, o, decode(substr(k, 2), 'hex'), t::int, l::int, decode(substr(r, 2), 'hex')
                FROM unnest(string_to_array($2, E'\\n'), string_to_array($3, E'\\n'), string_to_array($4, ','),
                            string_to_array($5, ','), string_to_array($6, E'\\n')) AS u(o, k, t, l, r)
                """,
                [.int(zoneID)] + insertParameters(records[start..<min(start + insertSlice, records.count)]))
        }
    }

    static let insertSlice = 20_000

    /// `$2…$6` of an insert from unnest: owners, keys, types, TTLs, RDATA. Each hex field carries
    /// a leading "x": an empty RDATA would otherwise be an empty string, which string_to_array
    /// drops when it is the only element.
    static func insertParameters(_ records: some Collection<RecordRow>) -> [PostgresParameter] {
        [.text(records.map(\.owner).joined(separator: "\n")),
         .text(records.map { "x" + ByteaHex.digits($0.ownerKey) }.joined(separator: "\n")),
         .text(records.map { String($0.type) }.joined(separator: ",")),
         .text(records.map { String($0.ttl) }.joined(separator: ",")),
         .text(records.map { "x" + ByteaHex.digits($0.rdata) }.joined(separator: "\n"))]
    }

    static func recordRow(from row: PostgresRow) throws -> RecordRow {
        RecordRow(owner: try row.string("owner"), ownerKey: try row.bytea("owner_key"), type: try row.int("type"),
                  ttl: try row.int("ttl"), rdata: try row.bytea("rdata"))
    }
}

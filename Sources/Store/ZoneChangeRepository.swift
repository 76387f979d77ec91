/// One journal entry: a committed change of a zone, from one serial to the next.
public struct ZoneChangeRow: Sendable, Equatable {
    public var id: Int64
    public var zoneID: Int64
    public var serialFrom: Int64?
    public var serialTo: Int64
    public var changedAt: String
    public var tokenID: String?
    public var kind: String
    /// JSON arrays of `{"name", "type", "ttl", "data"}` as the API wrote them.
    public var removedJSON: String
    public var addedJSON: String
}

public struct NewZoneChange: Sendable {
    public var zoneID: Int64
    public var serialFrom: Int64?
    public var serialTo: Int64
    public var tokenID: String?
    public var kind: String
    public var removedJSON: String
    public var addedJSON: String
    public init(zoneID: Int64, serialFrom: Int64?, serialTo: Int64, tokenID: String?, kind: String,
                removedJSON: String, addedJSON: String) {
        self.zoneID = zoneID
        self.serialFrom = serialFrom
        self.serialTo = serialTo
        self.tokenID = tokenID
        self.kind = kind
        self.removedJSON = removedJSON
        self.addedJSON = addedJSON
    }
}

public enum ZoneChangeRepository {
    static let columns = """
        id, zone_id, serial_from, serial_to, token_id, kind, removed::text AS removed, added::text AS added,
        to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS changed_at
        """

    /// Appends the entry and wakes listeners (`zone_changed`, payload "zone_id serial"); both take
    /// effect only when the surrounding transaction commits.
    public static func append(_ change: NewZoneChange, on db: PostgresConnection) throws {
        _ = try db.query(
            """
            WITH entry AS (
                INSERT INTO zone_changes (zone_id, serial_from, serial_to, token_id, kind, removed, added)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)
                RETURNING zone_id, serial_to
            )
            SELECT pg_notify('zone_changed', zone_id || ' ' || serial_to) FROM entry
            """,
            [.int(change.zoneID), change.serialFrom.map(PostgresParameter.int) ?? .null, .int(change.serialTo),
             change.tokenID.map(PostgresParameter.text) ?? .null, .text(change.kind),
             .text(change.removedJSON), .text(change.addedJSON)])
    }

    /// The channel and payload that announce a committed change.
    public static func notification(zoneID: Int64, serial: Int64) -> (channel: String, payload: String) {
        ("zone_changed", "\(zoneID) \(serial)")
    }

    /// The writes of one or more changes of a zone after their old RRsets are deleted, in one
    /// round trip: inserts the new records, moves the zone to `serial` (the last change's) and
    /// `recordCount`, and appends one journal entry per change, in order. The zone as it now is;
    /// nil if it is gone. Unlike `append` it does not notify: the caller does, with
    /// `PostgresConnection.notifyAfterCommit` (see there for why).
    public static func commit(_ changes: [NewZoneChange], inserting records: [RecordRow], serial: Int64, recordCount: Int64,
                              on db: PostgresConnection) throws -> ZoneRow? {
        guard let zoneID = changes.first?.zoneID else { return nil }
        precondition(changes.allSatisfy { $0.zoneID == zoneID }, "one commit writes changes of one zone")
        precondition(changes.allSatisfy { !$0.kind.contains(",") && !$0.kind.isEmpty }, "a change kind is a plain word")
        var inline = records
        if records.count > RecordRepository.insertSlice {
            // Large imports keep their sliced inserts.
            try RecordRepository.replace(zoneID: zoneID, deleting: [], inserting: records, on: db)
            inline = []
        }
        // Entries travel as comma-joined columns ("-" for NULL: string_to_array drops a lone
        // empty string) and two JSON arrays, matched up by position.
        let result = try db.query(
            """
            WITH added AS (
                INSERT INTO records (zone_id, owner, owner_key, type, ttl, rdata)
                SELECT $1, o, decode(substr(k, 2), 'hex'), t::int, l::int, decode(substr(r, 2), 'hex')
                FROM unnest(string_to_array($2, E'\\n'), string_to_array($3, E'\\n'), string_to_array($4, ','),
                            string_to_array($5, ','), string_to_array($6, E'\\n')) AS u(o, k, t, l, r)
            ), zone AS (
                UPDATE zones SET serial = $7, record_count = $8, updated_at = now() WHERE id = $1
                RETURNING \(ZoneRepository.columns)
            ), entry AS (
                INSERT INTO zone_changes (zone_id, serial_from, serial_to, token_id, kind, removed, added)
                SELECT zone.id, NULLIF(e.f, '-')::bigint, e.t::bigint, NULLIF(e.k, '-'), e.kind, r.value, a.value
                FROM zone,
                     unnest(string_to_array($9, ','), string_to_array($10, ','), string_to_array($11, ','),
                            string_to_array($12, ',')) WITH ORDINALITY AS e(f, t, k, kind, n)
                     JOIN jsonb_array_elements($13::jsonb) WITH ORDINALITY AS r(value, n) USING (n)
                     JOIN jsonb_array_elements($14::jsonb) WITH ORDINALITY AS a(value, n) USING (n)
                ORDER BY n
                RETURNING zone_id
            )
            SELECT zone.*, (SELECT count(*) FROM entry) AS journaled
            FROM zone
            """,
            [.int(zoneID)] + RecordRepository.insertParameters(inline)
                + [.int(serial), .int(recordCount),
                   .text(changes.map { $0.serialFrom.map(String.init) ?? "-" }.joined(separator: ",")),
                   .text(changes.map { String($0.serialTo) }.joined(separator: ",")),
                   .text(changes.map { $0.tokenID ?? "-" }.joined(separator: ",")),
                   .text(changes.map(\.kind).joined(separator: ",")),
                   .text("[" + changes.map(\.removedJSON).joined(separator: ",") + "]"),
                   .text("[" + changes.map(\.addedJSON).joined(separator: ",") + "]")])
        guard let row = result.rows.first else { return nil }
        let journaled = try row.int("journaled")
        guard journaled == changes.count else {
            throw DatabaseError(kind: .query, message: "\(changes.count) journal entries sent, \(journaled) written")
        }
        return try ZoneRepository.zoneRow(from: row)
    }

    /// Entries newest first, before the entry `beforeID` when given.
    public static func list(zoneID: Int64, beforeID: Int64?, limit: Int, on db: PostgresConnection) throws -> [ZoneChangeRow] {
        let result = try db.query(
            """
            SELECT \(columns) FROM zone_changes
            WHERE zone_id = $1 AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3
            """,
            [.int(zoneID), beforeID.map(PostgresParameter.int) ?? .null, .int(Int64(limit))], planEachCall: true)
        return try result.rows.map(changeRow(from:))
    }

    static func changeRow(from row: PostgresRow) throws -> ZoneChangeRow {
        ZoneChangeRow(
            id: try row.int("id"), zoneID: try row.int("zone_id"), serialFrom: try row.optionalInt("serial_from"),
            serialTo: try row.int("serial_to"), changedAt: try row.string("changed_at"),
            tokenID: try row.optionalString("token_id"), kind: try row.string("kind"),
            removedJSON: try row.string("removed"), addedJSON: try row.string("added"))
    }
}

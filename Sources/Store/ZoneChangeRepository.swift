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

/// What a batch of changes writes for one zone: the stored RRsets it replaces, the records of
/// their new content, its journal entries in order, and the zone's serial and record count
/// after the last of them.
public struct ZoneWrite: Sendable {
    public var zoneID: Int64
    public var deleting: [RRsetKey]
    public var inserting: [RecordRow]
    public var changes: [NewZoneChange]
    public var serial: Int64
    public var recordCount: Int64
    /// Set when the write was planned from rows this transaction did not read (a batch planned
    /// from what the previous one left, `ZonePlans`): the zone's and its account's rows must
    /// still be these versions, or nothing is written.
    public var expected: RowVersions?
    /// Owners (their keys) the plan took to hold no records without reading them: if one does,
    /// nothing is written.
    public var assumedEmpty: [[UInt8]]
    public init(zoneID: Int64, deleting: [RRsetKey], inserting: [RecordRow], changes: [NewZoneChange], serial: Int64, recordCount: Int64,
                expected: RowVersions? = nil, assumedEmpty: [[UInt8]] = []) {
        self.zoneID = zoneID
        self.deleting = deleting
        self.inserting = inserting
        self.changes = changes
        self.serial = serial
        self.recordCount = recordCount
        self.expected = expected
        self.assumedEmpty = assumedEmpty
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

    /// Writes what a batch of changes did to one or more zones, in one round trip: the replaced
    /// RRsets go, then one statement inserts the new records, moves each zone to its last
    /// change's serial and record count, appends one journal entry per change, in order, and
    /// wakes listeners once per entry (`zone_changed`, payload "zone_id serial", as `append`
    /// does), all taking effect when the transaction commits. Each zone as it now is, by id
    /// (none with `thenCommit`: the caller is done with the transaction).
    ///
    /// The statement checks itself: it fails, and nothing is written, when a zone is missing or
    /// not at its `expected` versions, an owner of `assumedEmpty` holds records, or a journal
    /// entry was not written.
    ///
    /// The notifications are part of the transaction. A transaction that notifies holds
    /// PostgreSQL's notify lock from its commit until its WAL flush ends, so notifying commits go
    /// one at a time; with changes batched that is one commit per batch. Sending them after the
    /// COMMIT instead cost every batch a second transaction: measured slower (see
    /// docs/architecture.md).
    @discardableResult
    public static func commit(_ writes: [ZoneWrite], on db: PostgresConnection) throws -> [Int64: ZoneRow] {
        var rows: [Int64: ZoneRow] = [:]
        for row in try write(writes, first: [], thenCommit: false, on: db) {
            let zone = try ZoneRepository.zoneRow(from: row)
            rows[zone.id] = zone
        }
        return rows
    }

    /// `commit`, with the transaction's COMMIT in the same round trip
    /// (`PostgresConnection.commit(after:)`), for a caller that has nothing left to do in it; the
    /// statements of `first` go before the write in that round trip. Returns the zones' new row
    /// versions, for the next batch to plan from (the rows themselves are not formatted: nobody
    /// would read them).
    @discardableResult
    public static func commitAndEnd(_ writes: [ZoneWrite], after first: [PostgresStatement] = [],
                                    on db: PostgresConnection) throws -> [Int64: String] {
        try versions(written: write(writes, first: first, thenCommit: true, on: db))
    }

    /// The statements `commitAndEnd` runs before its COMMIT, for a caller that sends them
    /// itself (`PostgresConnection.startCommit`); none of the writes may be a large import.
    /// `versions(written:)` reads the last one's rows.
    public static func commitStatements(_ writes: [ZoneWrite], after first: [PostgresStatement]) -> [PostgresStatement] {
        let writes = writes.filter { !$0.changes.isEmpty }
        precondition(writes.allSatisfy { $0.inserting.count <= RecordRepository.insertSlice }, "a large import goes through commitAndEnd")
        guard !writes.isEmpty else { return first }
        return first + deleteStatements(writes) + [writeStatement(writes, thenCommit: true)]
    }

    /// The zones' new row versions, by id, from the rows of the write statement.
    public static func versions(written rows: [PostgresRow]) throws -> [Int64: String] {
        var versions: [Int64: String] = [:]
        for row in rows {
            versions[try row.int("id")] = try row.string("version")
        }
        return versions
    }

    private static func write(_ writes: [ZoneWrite], first: [PostgresStatement], thenCommit: Bool,
                              on db: PostgresConnection) throws -> [PostgresRow] {
        let writes = writes.filter { !$0.changes.isEmpty }
        guard !writes.isEmpty else {
            if thenCommit { _ = try db.commit(after: first) }
            else if !first.isEmpty { _ = try db.queries(first) }
            return []
        }
        var statements = first + deleteStatements(writes)
        let large = writes.filter { $0.inserting.count > RecordRepository.insertSlice }
        if !large.isEmpty {
            // Large imports: the delete first, then one slice at a time, so that only one
            // slice's parameters are in memory at once.
            if !statements.isEmpty { _ = try db.queries(statements) }
            statements = []
            for write in large { try RecordRepository.insert(zoneID: write.zoneID, write.inserting, on: db) }
        }
        statements.append(writeStatement(writes, thenCommit: thenCommit))
        let results = thenCommit ? try db.commit(after: statements) : try db.queries(statements)
        return results[results.count - 1].rows
    }

    /// The statement deleting the RRsets the writes replace; none when they replace none.
    private static func deleteStatements(_ writes: [ZoneWrite]) -> [PostgresStatement] {
        let deleting = writes.flatMap { write in write.deleting.map { ZoneRRsetKey(zoneID: write.zoneID, rrset: $0) } }
        return deleting.isEmpty ? [] : [RecordRepository.deleteStatement(deleting)]
    }

    /// The statement that inserts the batch's records (all but those of large writes, which go
    /// in slices first), moves its zones on, journals and checks (see `commit`).
    private static func writeStatement(_ writes: [ZoneWrite], thenCommit: Bool) -> PostgresStatement {
        let changes = writes.flatMap(\.changes)
        precondition(changes.allSatisfy { !$0.kind.isEmpty && !$0.kind.utf8.contains(UInt8(ascii: ",")) }, "a change kind is a plain word")
        let assumed = writes.flatMap { write in write.assumedEmpty.map { ZoneOwnerKey(zoneID: write.zoneID, ownerKey: $0) } }
        var inline: [(zoneID: Int64, row: RecordRow)] = []
        for write in writes where write.inserting.count <= RecordRepository.insertSlice {
            inline += write.inserting.map { (write.zoneID, $0) }
        }
        // Rows, zones and entries travel as comma- or newline-joined columns ("-" for NULL:
        // string_to_array drops a lone empty string) and two text arrays of JSON, matched up by
        // position (one unnest, no joins: a smaller plan to start for every batch).
        return PostgresStatement(
            """
            WITH added AS (
                INSERT INTO records (zone_id, owner, owner_key, type, ttl, rdata)
                SELECT z::bigint, o, decode(substr(k, 2), 'hex'), t::int, l::int, decode(substr(r, 2), 'hex')
                FROM unnest(string_to_array($1, ','), string_to_array($2, E'\\n'), string_to_array($3, E'\\n'),
                            string_to_array($4, ','), string_to_array($5, ','), string_to_array($6, E'\\n')) AS u(z, o, k, t, l, r)
            ), zone AS (
                UPDATE zones SET serial = u.s::bigint, record_count = u.c::bigint, updated_at = now()
                FROM unnest(string_to_array($7, ','), string_to_array($8, ','), string_to_array($9, ','),
                            string_to_array($19, ','), string_to_array($20, ',')) AS u(i, s, c, v, av)
                WHERE zones.id = u.i::bigint
                  AND (u.v = '-' OR (zones.xmin = u.v::xid
                                     AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = zones.account_id AND a.xmin = u.av::xid)))
                RETURNING \(thenCommit ? "id, xmin::text AS version" : ZoneRepository.columns)
            ), entry AS (
                INSERT INTO zone_changes (zone_id, serial_from, serial_to, token_id, kind, removed, added)
                SELECT e.z::bigint, NULLIF(e.f, '-')::bigint, e.t::bigint, NULLIF(e.k, '-'), e.kind, e.r::jsonb, e.a::jsonb
                FROM unnest(string_to_array($10, ','), string_to_array($11, ','), string_to_array($12, ','),
                            string_to_array($13, ','), string_to_array($14, ','), $15::text[], $16::text[])
                     WITH ORDINALITY AS e(z, f, t, k, kind, r, a, n)
                ORDER BY n
                RETURNING zone_id, serial_to
            ), checked AS MATERIALIZED (
                SELECT zonectl_require(
                    (SELECT count(*) FROM zone) = $17
                        AND NOT EXISTS (SELECT FROM unnest(string_to_array($21, ','), string_to_array($22, E'\\n')) AS k(z, hex),
                                                    LATERAL (\(RecordRepository.probe(zoneID: "k.z::bigint"))) r)
                        AND (SELECT count(pg_notify('zone_changed', e.zone_id || ' ' || e.serial_to)) FROM entry e) = $18,
                    'a batch write did not find all of its ' || $17 || ' zone(s) at the versions it was planned from, '
                        || 'found records where it planned none, or did not journal all of its ' || $18 || ' change(s)') AS ok
            )
            -- checked on the outer side, so it runs even when no zone was found
            SELECT checked.ok, zone.* FROM checked LEFT JOIN zone ON true
            """,
            [.text(inline.map { String($0.zoneID) }.joined(separator: ","))]
                + RecordRepository.insertParameters(inline.map(\.row))
                + [.text(writes.map { String($0.zoneID) }.joined(separator: ",")),
                   .text(writes.map { String($0.serial) }.joined(separator: ",")),
                   .text(writes.map { String($0.recordCount) }.joined(separator: ",")),
                   .text(changes.map { String($0.zoneID) }.joined(separator: ",")),
                   .text(changes.map { $0.serialFrom.map(String.init) ?? "-" }.joined(separator: ",")),
                   .text(changes.map { String($0.serialTo) }.joined(separator: ",")),
                   .text(changes.map { $0.tokenID ?? "-" }.joined(separator: ",")),
                   .text(changes.map(\.kind).joined(separator: ",")),
                   .textArray(changes.map(\.removedJSON)),
                   .textArray(changes.map(\.addedJSON)),
                   .int(Int64(writes.count)), .int(Int64(changes.count)),
                   .text(writes.map { $0.expected?.zone ?? "-" }.joined(separator: ",")),
                   .text(writes.map { $0.expected?.account ?? "-" }.joined(separator: ",")),
                   .text(assumed.map { String($0.zoneID) }.joined(separator: ",")),
                   .text(assumed.map { ByteaHex.digits($0.ownerKey) }.joined(separator: "\n"))])
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

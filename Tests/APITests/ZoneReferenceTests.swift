import Foundation
import IntegrationHarness
import Store
import Testing

/// Records and journal entries name their zone, and the schema (foreign keys, migration 0002)
/// keeps it so whatever writes them. These tests pin that down for whoever changes how: replacing
/// the foreign keys by statement-level triggers was tried, and is in docs/architecture.md.
@Suite("Records and journal entries refer to zones that exist")
struct ZoneReferenceTests {
    /// A zone with one record and two journal entries (creation, then the change), and its id.
    static func zoneWithContent(_ api: APIFixture, _ name: String) throws -> Int64 {
        let acme = try api.createCustomer("acme-\(name.prefix(while: { $0 != "." }))")
        let zone = try api.createZone(name, token: acme.token)
        let response = try api.patch(name, token: acme.token,
                                     #"[{"action": "add", "name": "www.\#(name)", "type": "A", "records": ["192.0.2.1"]}]"#)
        try #require(response.status == 200, "\(response.text)")
        return try #require(zone["id"]?.intValue)
    }

    static func count(_ db: PostgresConnection, _ table: String, zoneID: Int64) throws -> Int64 {
        try db.query("SELECT count(*) AS n FROM \(table) WHERE zone_id = $1", [.int(zoneID)]).rows[0].int("n")
    }

    @Test("a record or journal entry for a missing zone fails its statement with 23503, and nothing of it stays")
    func missingZoneRefused() throws {
        let api = try APIFixture()
        let zoneID = try Self.zoneWithContent(api, "kept.example")
        let db = try PostgresConnection(conninfo: api.conninfo)
        defer { db.close() }
        let missing = zoneID + 1000
        // One row for a zone that exists and one for a zone that does not, in one statement.
        let record = try #require(throws: DatabaseError.self) {
            try db.query(
                """
                INSERT INTO records (zone_id, owner, owner_key, type, ttl, rdata)
                VALUES ($1, 'a.kept.example.', '\\x01'::bytea, 1, 300, '\\xc0000201'::bytea),
                       ($2, 'a.gone.example.', '\\x02'::bytea, 1, 300, '\\xc0000201'::bytea)
                """, [.int(zoneID), .int(missing)])
        }
        #expect(record.isForeignKeyViolation)
        #expect(record.table == "records")
        let entry = try #require(throws: DatabaseError.self) {
            try db.query("INSERT INTO zone_changes (zone_id, serial_to, kind) VALUES ($1, 7, 'rrsets')", [.int(missing)])
        }
        #expect(entry.isForeignKeyViolation)
        #expect(entry.table == "zone_changes")
        // Moving a row to a missing zone is refused too.
        let moved = try #require(throws: DatabaseError.self) {
            try db.query("UPDATE records SET zone_id = $2 WHERE zone_id = $1", [.int(zoneID), .int(missing)])
        }
        #expect(moved.isForeignKeyViolation)
        #expect(try Self.count(db, "records", zoneID: zoneID) == 1)
        #expect(try Self.count(db, "records", zoneID: missing) == 0)
        #expect(try Self.count(db, "zone_changes", zoneID: missing) == 0)
        // A zone's id cannot change under its rows (an identity column only takes a new one).
        let renumbered = try #require(throws: DatabaseError.self) {
            try db.query("UPDATE zones SET id = DEFAULT WHERE id = $1", [.int(zoneID)])
        }
        #expect(renumbered.isForeignKeyViolation)
    }

    @Test("deleting a zone deletes its records and journal, and only its own")
    func deletionTakesContent() throws {
        let api = try APIFixture()
        let goneID = try Self.zoneWithContent(api, "gone.example")
        let keptID = try Self.zoneWithContent(api, "kept.example")
        let db = try PostgresConnection(conninfo: api.conninfo)
        defer { db.close() }
        #expect(try Self.count(db, "records", zoneID: goneID) == 1)
        #expect(try Self.count(db, "zone_changes", zoneID: goneID) == 2)
        let response = try api.client.send("DELETE", "/v1/zones/gone.example", token: api.operatorToken)
        #expect(response.status == 204, "\(response.text)")
        #expect(try Self.count(db, "records", zoneID: goneID) == 0)
        #expect(try Self.count(db, "zone_changes", zoneID: goneID) == 0)
        #expect(try Self.count(db, "records", zoneID: keptID) == 1)
        #expect(try Self.count(db, "zone_changes", zoneID: keptID) == 2)
    }

    @Test("a zone deleted while a transaction writes rows for it waits for that transaction, then takes its rows along")
    func deletionWaitsForWriter() throws {
        let api = try APIFixture()
        let zoneID = try Self.zoneWithContent(api, "busy.example")
        let writer = try PostgresConnection(conninfo: api.conninfo)
        let deleter = try PostgresConnection(conninfo: api.conninfo)
        defer {
            writer.close()
            deleter.close()
        }
        try writer.execute("BEGIN")
        try writer.query(
            """
            INSERT INTO records (zone_id, owner, owner_key, type, ttl, rdata)
            VALUES ($1, 'late.busy.example.', '\\x03'::bytea, 1, 300, '\\xc0000202'::bytea)
            """, [.int(zoneID)])

        let delete = BackgroundCall { try deleter.query("DELETE FROM zones WHERE id = $1", [.int(zoneID)]).affectedRows }
        // The writer holds the zone FOR KEY SHARE: the delete must not get through.
        #expect(delete.outcome(within: 0.5) == nil, "the zone was deleted under an open write")

        try writer.execute("COMMIT")
        #expect(try #require(delete.outcome(within: 10)).get() == 1)
        // The record committed while the delete waited went with the zone.
        #expect(try Self.count(writer, "records", zoneID: zoneID) == 0)
        #expect(try Self.count(writer, "zone_changes", zoneID: zoneID) == 0)
    }
}

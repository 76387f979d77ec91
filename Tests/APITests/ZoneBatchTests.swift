import Foundation
import HTTPServer
import IntegrationHarness
import Store
import Testing

@testable import API

/// Changes that share one transaction (`ZoneCommitQueue`) are planned in memory, one after the
/// other, and written together at the end. These tests put chosen changes into ONE batch: the
/// test locks the zones table, so the first request's batch waits to lock its zone while the
/// others queue behind it in the order sent; when the lock goes, the queued ones commit together.
@Suite("Changes sharing one transaction")
struct ZoneBatchTests {
    typealias Request = @Sendable () throws -> APIClient.Response

    /// Runs `first`, then `rest` queued behind it in order, and returns the answers in order.
    /// Every request must wait in the lane of `zone`.
    static func batched(_ api: APIFixture, zone: String, first: @escaping Request, then rest: [Request]) throws -> [APIClient.Response] {
        let lane = api.service.commitLane(APIService.ZoneReference(zone))
        let blocker = try PostgresConnection(conninfo: api.conninfo)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        // Not a row lock: a batch does not wait for a zone another transaction holds.
        try blocker.execute("LOCK TABLE zones IN EXCLUSIVE MODE")

        var calls: [BackgroundCall<APIClient.Response>] = []
        func waitFor(_ what: String, _ condition: () -> Bool) throws {
            let deadline = Date().addingTimeInterval(10)
            while !condition() {
                guard Date() < deadline else { throw FixtureError("waited 10 s for \(what)") }
                usleep(2_000)
            }
        }
        calls.append(BackgroundCall(first))
        try waitFor("the first change to lead a batch") { api.service.zoneCommits.queued(lane: lane) != nil }
        for (offset, request) in rest.enumerated() {
            calls.append(BackgroundCall(request))
            try waitFor("change \(offset + 1) to queue") { api.service.zoneCommits.queued(lane: lane) == offset + 1 }
        }
        try blocker.execute("COMMIT")
        let answers = try calls.map { try $0.wait() }
        // They did share one transaction.
        #expect(api.service.zoneCommits.largestBatch == rest.count)
        return answers
    }

    @Test("each change is checked against the unwritten changes before it in its batch, and gets its own serial")
    func changesSeeTheirPredecessors() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        try api.createZone("batch.example", token: acme.token)
        let token = acme.token
        func patch(_ changes: String) -> Request {
            { try api.patch("batch.example", token: token, changes) }
        }
        let createTXT: Request = {
            try api.client.send("PUT", "/v1/zones/batch.example/rrsets/new.batch.example/TXT", token: token,
                                json: #"{"ttl": 300, "records": ["\"created\""]}"#, headers: ["If-None-Match": "*"])
        }
        let answers = try Self.batched(api, zone: "batch.example", first: patch(#"[{"action": "add", "name": "seed.batch.example", "type": "A", "records": ["192.0.2.1"]}]"#), then: [
            patch(#"[{"action": "add", "name": "alias.batch.example", "type": "CNAME", "records": ["target.example."]}]"#),
            // alias has a CNAME now, written or not
            patch(#"[{"action": "add", "name": "alias.batch.example", "type": "A", "records": ["192.0.2.2"]}]"#),
            createTXT,
            // the TXT RRset exists now: create-only fails
            createTXT,
            patch(#"[{"action": "add", "name": "www.sub.batch.example", "type": "TXT", "records": ["\"below\""]}]"#),
            // a delegation at sub would hide www.sub, added just before
            patch(#"[{"action": "replace", "name": "sub.batch.example", "type": "NS", "records": ["ns1.example.net."]}]"#),
            patch(#"[{"action": "remove", "name": "seed.batch.example", "type": "A", "records": ["192.0.2.1"]}]"#),
            patch(#"[{"action": "add", "name": "seed.batch.example", "type": "A", "records": ["192.0.2.9"]}]"#),
            // the same state again: no change, no serial
            patch(#"[{"action": "replace", "name": "seed.batch.example", "type": "A", "ttl": 3600, "records": ["192.0.2.9"]}]"#),
        ])
        #expect(answers.map(\.status) == [200, 200, 422, 200, 412, 200, 422, 200, 200, 200])
        #expect(try answers[2].problemPointers() == ["/changes/0"])
        #expect(try answers[6].problemPointers() == ["/changes/0"])
        #expect(try answers[3].json()["records"]?.arrayValue?.compactMap(\.stringValue) == ["\"created\""])

        let applied = [0, 1, 3, 5, 7, 8]
        let serials = try applied.map { index -> Int64 in
            if let serial = try answers[index].json()["serial"]?.intValue { return serial }
            // PUT answers with the RRset; its serial is in the ETag.
            return try #require(Int64(answers[index].header("ETag")?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) ?? ""))
        }
        #expect(serials == serials.sorted() && Set(serials).count == serials.count, "serials \(serials)")
        for index in applied { #expect(answers[index].header("ETag") != nil) }
        #expect(try answers[9].json()["changed"]?.boolValue == false)
        #expect(try answers[9].json()["serial"]?.intValue == serials.last)
        #expect(try api.serial("batch.example", token: token) == serials.last)

        let journal = try ConcurrencyTests.journal(api, zone: "batch.example", token: token)
        #expect(journal.map(\.to) == [journal[0].to] + serials)
        for (previous, next) in zip(journal, journal.dropFirst()) { #expect(next.from == previous.to) }

        #expect(try api.rrsetLines("batch.example", token: token) == [
            "alias.batch.example. CNAME 3600 target.example.",
            "new.batch.example. TXT 300 \"created\"",
            "seed.batch.example. A 3600 192.0.2.9",
            "www.sub.batch.example. TXT 3600 \"below\"",
        ])
    }

    @Test("a batch whose write fails is committed again change by change: only the change at fault fails")
    func failedWriteFallsBackToSingleChanges() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        try api.createZone("fallback.example", token: acme.token)
        let token = acme.token
        // A fault the model cannot predict: the database refuses one owner's records.
        _ = try api.databaseText("""
            CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.owner LIKE 'boom.%' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$
            """)
        _ = try api.databaseText("CREATE TRIGGER test_refuse_boom BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION test_refuse_boom()")
        func add(_ name: String) -> Request {
            { try api.patch("fallback.example", token: token, #"[{"action": "add", "name": "\#(name).fallback.example", "type": "A", "records": ["192.0.2.1"]}]"#) }
        }
        let answers = try Self.batched(api, zone: "fallback.example", first: add("ok0"), then: [add("ok1"), add("boom"), add("ok2")])
        #expect(answers.map(\.status) == [200, 200, 500, 200])
        let serials = try [0, 1, 3].map { try #require(try answers[$0].json()["serial"]?.intValue) }
        #expect(serials == serials.sorted() && Set(serials).count == 3, "serials \(serials)")
        let journal = try ConcurrencyTests.journal(api, zone: "fallback.example", token: token)
        #expect(journal.map(\.to) == [journal[0].to] + serials)
        for (previous, next) in zip(journal, journal.dropFirst()) { #expect(next.from == previous.to) }
        let owners = try api.rrsetLines("fallback.example", token: token).map { String($0.split(separator: " ")[0]) }
        #expect(owners == ["ok0.fallback.example.", "ok1.fallback.example.", "ok2.fallback.example."])
    }

    @Test("changes of several zones, named by name and by id, share a batch: each zone keeps its own serials and journal")
    func severalZonesInOneBatch() throws {
        // One lane: every change queues behind the first, whatever its zone.
        let api = try APIFixture(commitLanes: 1)
        let acme = try api.createCustomer("acme")
        try api.createZone("one.example", token: acme.token)
        let twoID = try #require(try api.createZone("two.example", token: acme.token)["id"]?.intValue)
        let token = acme.token
        func add(_ zone: String, _ name: String, _ type: String = "A", _ record: String = "192.0.2.1") -> Request {
            { try api.patch(zone, token: token, #"[{"action": "add", "name": "\#(name)", "type": "\#(type)", "records": ["\#(record)"]}]"#) }
        }
        let answers = try Self.batched(api, zone: "one.example", first: add("one.example", "x.one.example"), then: [
            add("one.example", "a.one.example"),
            add("two.example", "b.two.example"),
            add(String(twoID), "c.two.example"),
            // b.two has an A record now (unwritten, added under the zone's name): no CNAME there
            add(String(twoID), "b.two.example", "CNAME", "target.example."),
            add("ONE.example.", "d.one.example"),
        ])
        #expect(answers.map(\.status) == [200, 200, 200, 200, 422, 200])
        let serials = try answers.map { try $0.json()["serial"]?.intValue }
        for (zone, indexes) in [("one.example", [0, 1, 5]), ("two.example", [2, 3])] {
            let zoneSerials = indexes.compactMap { serials[$0] }
            #expect(zoneSerials.count == indexes.count && zoneSerials == zoneSerials.sorted() && Set(zoneSerials).count == indexes.count,
                    "\(zone): serials \(zoneSerials)")
            let journal = try ConcurrencyTests.journal(api, zone: zone, token: token)
            #expect(journal.map(\.to) == [journal[0].to] + zoneSerials)
            for (previous, next) in zip(journal, journal.dropFirst()) { #expect(next.from == previous.to) }
            #expect(try api.serial(zone, token: token) == zoneSerials.last)
        }
        #expect(try api.rrsetLines("one.example", token: token).map { String($0.split(separator: " ")[0]) }
                == ["a.one.example.", "d.one.example.", "x.one.example."])
        #expect(try api.rrsetLines("two.example", token: token).map { String($0.split(separator: " ")[0]) }
                == ["b.two.example.", "c.two.example."])
    }

    @Test("a zone another transaction holds does not hold up the changes of other zones in its lane")
    func lockedZoneWaitsAlone() throws {
        let api = try APIFixture(commitLanes: 1)
        let acme = try api.createCustomer("acme")
        try api.createZone("held.example", token: acme.token)
        try api.createZone("free.example", token: acme.token)
        let blocker = try PostgresConnection(conninfo: api.conninfo)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        _ = try blocker.query("SELECT id FROM zones WHERE name = 'held.example.' FOR UPDATE")

        let held = BackgroundCall {
            try api.patch("held.example", token: acme.token,
                          #"[{"action": "add", "name": "a.held.example", "type": "A", "records": ["192.0.2.1"]}]"#)
        }
        usleep(200_000)
        let free = try api.patch("free.example", token: acme.token,
                                 #"[{"action": "add", "name": "a.free.example", "type": "A", "records": ["192.0.2.1"]}]"#)
        #expect(free.status == 200)
        #expect(held.outcome(within: 0) == nil, "the change of the held zone did not wait for its lock")
        try blocker.execute("COMMIT")
        #expect(try held.wait(timeoutSeconds: 10).status == 200)
        #expect(try api.rrsetLines("held.example", token: acme.token) == ["a.held.example. A 3600 192.0.2.1"])
    }

    @Test("with a lock timeout, a change that waits too long for a zone another transaction holds is 503 and writes nothing")
    func lockTimeoutIsUnavailable() throws {
        let api = try APIFixture(lockTimeoutSeconds: 0.5)
        let acme = try api.createCustomer("acme")
        try api.createZone("held.example", token: acme.token)
        let before = try api.serial("held.example", token: acme.token)
        let blocker = try PostgresConnection(conninfo: api.conninfo)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        _ = try blocker.query("SELECT id FROM zones WHERE name = 'held.example.' FOR UPDATE")

        let change = #"[{"action": "add", "name": "a.held.example", "type": "A", "records": ["192.0.2.1"]}]"#
        let started = Date()
        let refused = try api.patch("held.example", token: acme.token, change)
        #expect(refused.status == 503, "\(refused.text)")
        #expect(try refused.json()["type"] == .string("urn:zonectl:problem:unavailable"))
        #expect(refused.header("Retry-After") != nil)
        #expect(Date().timeIntervalSince(started) < 5)
        try blocker.execute("COMMIT")
        #expect(try api.serial("held.example", token: acme.token) == before)
        #expect(try api.rrsetLines("held.example", token: acme.token).isEmpty)
        #expect(try api.patch("held.example", token: acme.token, change).status == 200)
        #expect(try api.serial("held.example", token: acme.token) == before + 1)
    }

    @Test("the batch write checks itself in SQL: a missing zone fails the statement, and nothing commits")
    func writeRefusesItselfWithoutItsZone() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let zoneID = try #require(try api.createZone("real.example", token: acme.token)["id"]?.intValue)
        let db = try PostgresConnection(conninfo: api.conninfo)
        defer { db.close() }
        func change(_ zone: Int64, _ to: Int64) -> NewZoneChange {
            NewZoneChange(zoneID: zone, serialFrom: to - 1, serialTo: to, tokenID: nil, kind: "rrsets", removedJSON: "[]", addedJSON: "[]")
        }
        let real = ZoneWrite(zoneID: zoneID, deleting: [], inserting: [], changes: [change(zoneID, 1_000)], serial: 1_000, recordCount: 2)
        let missing = ZoneWrite(zoneID: 999_999, deleting: [], inserting: [], changes: [change(999_999, 7)], serial: 7, recordCount: 2)
        let failure = #expect(throws: DatabaseError.self) {
            try db.transaction { db in try ZoneChangeRepository.commitAndEnd([real, missing], on: db) }
        }
        #expect(failure?.message.contains("did not find all of its 2 zone(s)") == true, "\(String(describing: failure))")
        #expect(try api.databaseText("SELECT serial::text AS all FROM zones WHERE name = 'real.example.'") != "1000")
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM zone_changes WHERE serial_to = 1000") == "0")
        // The same write without the missing zone commits.
        try db.transaction { db in try ZoneChangeRepository.commitAndEnd([real], on: db) }
        #expect(try api.databaseText("SELECT serial::text AS all FROM zones WHERE name = 'real.example.'") == "1000")
    }

    @Test("PostgreSQL stopped under a stream of changes: each is 200 or 503, none hangs; after a restart all commit and no connection stays checked out")
    func databaseOutageUnderChanges() throws {
        let cluster = try PostgresCluster.start()
        defer { try? cluster.stop() }
        let api = try APIFixture(cluster: cluster, connectTimeoutSeconds: 2)
        let acme = try api.createCustomer("acme")
        let zones = (0..<4).map { "z\($0).outage.example" }
        for zone in zones { try api.createZone(zone, token: acme.token) }
        // Eight clients, two per zone, each changing a name of its own: batches follow each
        // other on one connection (planned from plans, sent behind the COMMIT before them).
        func client(_ id: Int, _ round: String, count: Int) -> BackgroundCall<[Int]> {
            BackgroundCall {
                try (0..<count).map { n in
                    try api.patch(zones[id % zones.count], token: acme.token,
                                  #"[{"action": "add", "name": "c\#(id)-\#(round)\#(n).\#(zones[id % zones.count])", "type": "A", "records": ["192.0.2.1"]}]"#).status
                }
            }
        }
        let during = (0..<8).map { client($0, "d", count: 150) }
        usleep(300_000)
        try cluster.stop()
        let statuses = try during.flatMap { try $0.wait(timeoutSeconds: 120) }
        #expect(Set(statuses).isSubset(of: [200, 503]), "statuses: \(Set(statuses))")
        #expect(statuses.contains(200) && statuses.contains(503), "the outage did not fall inside the stream: \(Set(statuses))")

        try cluster.restart()
        var recovered = false
        for attempt in 0..<40 where !recovered {
            recovered = try api.patch(zones[0], token: acme.token,
                                      #"[{"action": "add", "name": "back\#(attempt).\#(zones[0])", "type": "A", "records": ["192.0.2.2"]}]"#).status == 200
            if !recovered { usleep(250_000) }
        }
        try #require(recovered)
        let after = (0..<8).map { client($0, "a", count: 30) }
        #expect(try after.flatMap { try $0.wait(timeoutSeconds: 60) }.allSatisfy { $0 == 200 })
        // Every connection back in the pool once the lanes are idle: none was lost with a
        // batch that broke off behind a COMMIT.
        let deadline = Date().addingTimeInterval(5)
        while api.service.pool.idleConnectionCount != api.service.pool.openConnectionCount && Date() < deadline { usleep(10_000) }
        #expect(api.service.pool.idleConnectionCount == api.service.pool.openConnectionCount,
                "open \(api.service.pool.openConnectionCount), idle \(api.service.pool.idleConnectionCount)")
        // What was acknowledged after the restart is stored: 30 names per client.
        for (index, zone) in zones.enumerated() {
            let names = try api.rrsetLines(zone, token: acme.token).filter { $0.contains("-a") }
            #expect(names.count == 60, "\(zone) (clients \(index) and \(index + 4)): \(names.count) names from after the restart")
        }
    }
}

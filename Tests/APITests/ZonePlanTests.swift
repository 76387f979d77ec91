import Foundation
import HTTPServer
import IntegrationHarness
import Store
import Testing

@testable import API

/// A batch of changes of zones whose previous batch left a plan (`ZonePlans`) is planned from it
/// without reading and committed in one round trip; the write checks the plan is still true.
/// These tests change a zone behind the plan's back and check the next change sees it.
@Suite("Changes planned from the previous batch")
struct ZonePlanTests {
    /// An account with a zone and a first change through the commit queue, which leaves a plan.
    static func planned(_ api: APIFixture) throws -> APIFixture.Customer {
        let acme = try api.createCustomer("acme")
        try api.createZone("plans.example", token: acme.token)
        let first = try addA(api, acme, "www", "192.0.2.1")
        try #require(first.status == 200, "\(first.text)")
        return acme
    }

    /// Adds an A record at `name` in plans.example.
    static func addA(_ api: APIFixture, _ customer: APIFixture.Customer, _ name: String, ttl: Int? = nil,
                     _ address: String) throws -> APIClient.Response {
        let ttlMember = ttl.map { #""ttl": \#($0), "# } ?? ""
        return try api.patch("plans.example", token: customer.token,
                             #"[{"action": "add", "name": "\#(name).plans.example", "type": "A", \#(ttlMember)"records": ["\#(address)"]}]"#)
    }

    @Test("changes of new names commit from the plan; a record stored behind its back is found, and the change refused")
    func recordStoredElsewhere() throws {
        let api = try APIFixture()
        let acme = try Self.planned(api)
        let second = try Self.addA(api, acme, "mail", "192.0.2.2")
        #expect(second.status == 200)
        #expect(api.service.zonePlans.counts == (hits: 1, misses: 0))

        // Another process (here: plain SQL) stores a record at a name the plan never saw.
        _ = try api.databaseText("""
            INSERT INTO records (zone_id, owner, owner_key, type, ttl, rdata)
            SELECT zone_id, 'alias.plans.example.', substring(owner_key FROM 1 FOR length(owner_key) - 5) || '\\x616c6961730000'::bytea,
                   type, ttl, rdata
            FROM records WHERE owner = 'www.plans.example.'
            """)
        let cname = try api.patch("plans.example", token: acme.token,
                                  #"[{"action": "add", "name": "alias.plans.example", "type": "CNAME", "records": ["www.plans.example."]}]"#)
        #expect(cname.status == 422, "\(cname.text)")
        #expect(try cname.problemPointers() == ["/changes/0"])
        #expect(api.service.zonePlans.counts == (hits: 1, misses: 1))
        #expect(try api.rrsetLines("plans.example", token: acme.token).filter { $0.contains("CNAME") }.isEmpty)
    }

    @Test("a zone setting changed since the plan is what the next change uses")
    func zoneRowChangedElsewhere() throws {
        let api = try APIFixture()
        let acme = try Self.planned(api)
        let settings = try api.client.send("PATCH", "/v1/zones/plans.example", token: acme.token, json: #"{"default_ttl": 1234}"#)
        try #require(settings.status == 200, "\(settings.text)")
        let change = try Self.addA(api, acme, "new", "192.0.2.3")
        #expect(change.status == 200, "\(change.text)")
        #expect(try api.rrsetLines("plans.example", token: acme.token).contains("new.plans.example. A 1234 192.0.2.3"))
        #expect(api.service.zonePlans.counts.misses == 1)
    }

    @Test("an account limit changed since the plan is what the next change is held to")
    func accountRowChangedElsewhere() throws {
        let api = try APIFixture()
        let acme = try Self.planned(api)
        let limit = try api.client.send("PATCH", "/v1/accounts/\(acme.accountID)", token: api.operatorToken, json: #"{"min_ttl": 600}"#)
        try #require(limit.status == 200, "\(limit.text)")
        let change = try Self.addA(api, acme, "low", ttl: 300, "192.0.2.4")
        #expect(change.status == 422, "\(change.text)")
        #expect(change.text.contains("minimum TTL of 600"))
        #expect(api.service.zonePlans.counts.misses == 1)
    }

    @Test("a zone another transaction holds fails its planned batch at once; that change waits alone, another zone's commits")
    func zoneLockedElsewhere() throws {
        let api = try APIFixture(commitLanes: 1)
        let acme = try Self.planned(api)
        try api.createZone("free.example", token: acme.token)
        let blocker = try PostgresConnection(conninfo: api.conninfo)
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        _ = try blocker.query("SELECT id FROM zones WHERE name = 'plans.example.' FOR UPDATE")

        let held = BackgroundCall { try Self.addA(api, acme, "held", "192.0.2.5") }
        // The planned batch's write locks without waiting: it fails, and the change goes on
        // waiting for the lock in its own thread, out of the lane.
        let deadline = Date().addingTimeInterval(10)
        while api.service.zonePlans.counts.misses == 0 {
            try #require(Date() < deadline, "the planned batch did not fail on the held zone")
            usleep(10_000)
        }
        let free = try api.patch("free.example", token: acme.token,
                                 #"[{"action": "add", "name": "a.free.example", "type": "A", "records": ["192.0.2.1"]}]"#)
        #expect(free.status == 200, "\(free.text)")
        #expect(held.outcome(within: 0) == nil, "the change of the held zone did not wait for its lock")
        try blocker.execute("COMMIT")
        #expect(try held.wait(timeoutSeconds: 10).status == 200)
        #expect(try api.rrsetLines("plans.example", token: acme.token).contains("held.plans.example. A 3600 192.0.2.5"))
    }
}

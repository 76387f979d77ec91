import Foundation
import HTTPServer
import Testing

@Suite("Zones: create, list, read, settings, delete")
struct ZoneTests {
    @Test("a created zone is normalised, has a serial, an ETag and the service's SOA and NS")
    func createAndRead() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let created = try api.client.send("POST", "/v1/zones", token: acme.token, json: #"{"name": "Example.COM", "serial_policy": "increment"}"#)
        #expect(created.status == 201, "\(created.text)")
        let zone = try created.json()
        #expect(zone["name"] == .string("example.com."))
        #expect(zone["account_id"] == .int(acme.accountID))
        #expect(zone["serial_policy"] == .string("increment"))
        #expect(zone["record_count"] == .int(0))
        #expect(zone["nameservers"]?.arrayValue?.isEmpty == false)
        let serial = try #require(zone["serial"]?.intValue)
        #expect(created.header("ETag") == "\"\(serial)\"")
        #expect(created.header("Location") == "/v1/zones/example.com.")

        let id = try #require(zone["id"]?.intValue)
        for reference in ["example.com", "example.com.", "EXAMPLE.com.", String(id)] {
            let read = try api.client.send("GET", "/v1/zones/\(reference)", token: acme.token)
            #expect(read.status == 200, "\(reference)")
            #expect(try read.json()["serial"]?.intValue == serial)
        }
        let soa = try api.client.send("GET", "/v1/zones/example.com/rrsets/example.com/SOA", token: acme.token)
        #expect(soa.status == 200)
        #expect(try soa.json()["records"]?.arrayValue?.first?.stringValue?.contains(" \(serial) ") == true)
    }

    @Test("an IDN zone name becomes its A-label form")
    func idnName() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let zone = try api.createZone("bücher.example", token: acme.token)
        #expect(zone["name"] == .string("xn--bcher-kva.example."))
    }

    @Test("bad zone requests are 4xx naming the field")
    func badRequests() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let cases: [(String, String, Int, String)] = [
            (acme.token, #"{"name": "bad..name"}"#, 422, "/name"),
            (acme.token, #"{"name": 12}"#, 422, "/name"),
            (acme.token, #"{}"#, 422, "/name"),
            (acme.token, #"{"name": "ok.example", "serial_policy": "weekly"}"#, 422, "/serial_policy"),
            (acme.token, #"{"name": "ok.example", "default_ttl": -1}"#, 422, "/default_ttl"),
            (acme.token, #"{"name": "ok.example", "soa": {"serial": 5}}"#, 422, "/soa/serial"),
            (acme.token, #"{"name": "ok.example", "colour": "red"}"#, 422, "/colour"),
            (api.operatorToken, #"{"name": "ok.example"}"#, 422, "/account_id"),
        ]
        for (token, body, status, pointer) in cases {
            let response = try api.client.send("POST", "/v1/zones", token: token, json: body)
            #expect(response.status == status, "\(body): \(response.text)")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(try response.problemPointers().contains(pointer), "\(body): \(response.text)")
        }
        let invalidJSON = try api.client.send("POST", "/v1/zones", token: acme.token, json: #"{"name": "#)
        #expect(invalidJSON.status == 400)
        #expect(try api.client.send("GET", "/v1/zones?limit=0", token: acme.token).status == 400)
        // Nothing of the refused requests was written.
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM zones") == "0")
    }

    @Test("an existing zone is 409; the zone quota is 403 naming the limit")
    func conflictAndQuota() throws {
        let api = try APIFixture()
        let small = try api.createCustomer("small", quotas: #""max_zones": 1"#)
        try api.createZone("one.example", token: small.token)
        let again = try api.client.send("POST", "/v1/zones", token: small.token, json: #"{"name": "ONE.example."}"#)
        #expect(again.status == 409)
        let over = try api.client.send("POST", "/v1/zones", token: small.token, json: #"{"name": "two.example"}"#)
        #expect(over.status == 403)
        #expect(try over.problemDetail().contains("limit of 1 zone"))
    }

    @Test("listing filters by name and account and pages with next_cursor and Link")
    func listing() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let other = try api.createCustomer("other")
        for name in ["a.example", "b.example", "c.example", "shop.test"] {
            try api.createZone(name, token: acme.token)
        }
        try api.createZone("other.example", token: other.token)

        let first = try api.client.send("GET", "/v1/zones?limit=2", token: acme.token)
        #expect(first.status == 200)
        let firstNames = try first.json()["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(firstNames == ["a.example.", "b.example."])
        let cursor = try #require(try first.json()["next_cursor"]?.stringValue)
        #expect(first.header("Link")?.contains("rel=\"next\"") == true)
        let second = try api.client.send("GET", "/v1/zones?limit=2&cursor=\(cursor)", token: acme.token)
        #expect(try second.json()["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["c.example.", "shop.test."])
        #expect(try second.json()["next_cursor"] == .null)

        let exact = try api.client.send("GET", "/v1/zones?name=SHOP.test", token: acme.token).json()
        #expect(exact["items"]?.arrayValue?.count == 1)
        let prefix = try api.client.send("GET", "/v1/zones?name_prefix=b", token: acme.token).json()
        #expect(prefix["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["b.example."])
        // PostgreSQL text cannot hold U+0000: a prefix with it is a bad parameter, not a 500.
        let nulPrefix = try api.client.send("GET", "/v1/zones?name_prefix=b%00", token: acme.token)
        #expect(nulPrefix.status == 400, "\(nulPrefix.text)")
        let all = try api.client.send("GET", "/v1/zones", token: api.operatorToken).json()
        #expect(all["items"]?.arrayValue?.count == 5)
        let byAccount = try api.client.send("GET", "/v1/zones?account=\(other.accountID)", token: api.operatorToken).json()
        #expect(byAccount["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["other.example."])
    }

    @Test("SOA timers are content (new serial, journal entry); the default TTL is not")
    func settings() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        try api.createZone("example.com", token: acme.token, extra: #""serial_policy": "increment""#)
        let before = try api.serial("example.com", token: acme.token)
        let ttlOnly = try api.client.send("PATCH", "/v1/zones/example.com", token: acme.token, json: #"{"default_ttl": 600}"#)
        #expect(ttlOnly.status == 200)
        #expect(try ttlOnly.json()["default_ttl"] == .int(600))
        #expect(try ttlOnly.json()["serial"]?.intValue == before)
        let timers = try api.client.send("PATCH", "/v1/zones/example.com", token: acme.token, json: #"{"soa": {"refresh": 1800}}"#)
        #expect(timers.status == 200)
        #expect(try timers.json()["soa"]?["refresh"] == .int(1800))
        #expect(try timers.json()["serial"]?.intValue == before + 1)
        let journal = try api.client.send("GET", "/v1/zones/example.com/changes", token: acme.token).json()
        #expect(journal["items"]?.arrayValue?.first?["kind"] == .string("settings"))
        let stale = try api.client.send("PATCH", "/v1/zones/example.com", token: acme.token, json: #"{"soa": {"retry": 900}}"#,
                                        headers: ["If-Match": "\"\(before)\""])
        #expect(stale.status == 412)
    }

    @Test("deleting a zone removes it and its records; an account with zones cannot be deleted")
    func delete() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        try api.createZone("example.com", token: acme.token)
        #expect(try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "www.example.com", "type": "A", "records": ["192.0.2.1"]}]"#).status == 200)
        let refused = try api.client.send("DELETE", "/v1/accounts/\(acme.accountID)", token: api.operatorToken)
        #expect(refused.status == 409)
        #expect(try api.client.send("DELETE", "/v1/zones/example.com", token: acme.token).status == 204)
        #expect(try api.client.send("GET", "/v1/zones/example.com", token: acme.token).status == 404)
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM records") == "0")
        #expect(try api.client.send("DELETE", "/v1/accounts/\(acme.accountID)", token: api.operatorToken).status == 204)
    }
}

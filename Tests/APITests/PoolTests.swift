import Foundation
import HTTPServer
import IntegrationHarness
import Store
import Testing

@Suite("Pools, servers and TSIG keys")
struct PoolTests {
    static let pool = #"{"name": "main", "nameservers": ["ns1.example.net", "ns2.example.net."], "soa_mname": "ns1.example.net", "soa_rname": "hostmaster.example.net"}"#

    @Test("a TSIG key's secret is shown once, at creation, and never listed")
    func tsigKeys() throws {
        let api = try APIFixture()
        let created = try api.client.send("POST", "/v1/tsig-keys", token: api.operatorToken, json: #"{"name": "Transfer.Example."}"#)
        #expect(created.status == 201, "\(created.text)")
        let secret = try #require(try created.json()["secret"]?.stringValue)
        #expect(Data(base64Encoded: secret)?.count == 32)
        #expect(try created.json()["name"] == .string("transfer.example."))
        let read = try api.client.send("GET", "/v1/tsig-keys/transfer.example", token: api.operatorToken)
        #expect(read.status == 200)
        #expect(try read.json()["secret"] == nil)
        #expect(!(try api.client.send("GET", "/v1/tsig-keys", token: api.operatorToken).text.contains(secret)))

        let given = try api.client.send("POST", "/v1/tsig-keys", token: api.operatorToken,
                                        json: #"{"name": "k2.example", "algorithm": "hmac-sha512", "secret": "\#(Data(repeating: 7, count: 64).base64EncodedString())"}"#)
        #expect(given.status == 201)
        #expect(try api.client.send("POST", "/v1/tsig-keys", token: api.operatorToken, json: #"{"name": "k2.example"}"#).status == 409)
        let bad = try api.client.send("POST", "/v1/tsig-keys", token: api.operatorToken, json: #"{"name": "k3.example", "algorithm": "md5", "secret": "x"}"#)
        #expect(bad.status == 422)
        #expect(Set(try bad.problemPointers()) == ["/algorithm", "/secret"])
        let customer = try api.createCustomer("acme")
        #expect(try api.client.send("GET", "/v1/tsig-keys", token: customer.token).status == 403)
    }

    @Test("pools and servers: create, validate, conflicts, keys in use")
    func poolsAndServers() throws {
        let api = try APIFixture()
        let created = try api.client.send("POST", "/v1/pools", token: api.operatorToken, json: Self.pool)
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json()["nameservers"] == .array([.string("ns1.example.net."), .string("ns2.example.net.")]))
        #expect(try api.client.send("POST", "/v1/pools", token: api.operatorToken, json: Self.pool).status == 409)
        // Digits alone would be read as a pool id wherever a pool is named.
        let digits = try api.client.send("POST", "/v1/pools", token: api.operatorToken,
                                         json: Self.pool.replacingOccurrences(of: #""name": "main""#, with: #""name": "2024""#))
        #expect(digits.status == 422)
        #expect(try digits.problemPointers() == ["/name"])
        let renamed = try api.client.send("PATCH", "/v1/pools/main", token: api.operatorToken, json: #"{"name": "7"}"#)
        #expect(renamed.status == 422)
        #expect(try renamed.problemPointers() == ["/name"])
        // No pool name can hold U+0000 (PostgreSQL text cannot): such a reference is 404, not a 500.
        #expect(try api.client.send("GET", "/v1/pools/ma%00in", token: api.operatorToken).status == 404)
        let bad = try api.client.send("POST", "/v1/pools", token: api.operatorToken,
                                      json: #"{"name": "x", "nameservers": ["ok.example", "bad..name"], "soa_mname": "a.example", "soa_rname": 5}"#)
        #expect(bad.status == 422)
        #expect(Set(try bad.problemPointers()) == ["/nameservers/1", "/soa_rname"])

        #expect(try api.client.send("POST", "/v1/tsig-keys", token: api.operatorToken, json: #"{"name": "xfr.example"}"#).status == 201)
        let server = try api.client.send("POST", "/v1/pools/main/servers", token: api.operatorToken,
                                         json: #"{"address": "127.0.0.1", "port": 5353, "tsig_key": "xfr.example"}"#)
        #expect(server.status == 201, "\(server.text)")
        #expect(try server.json()["tsig_key"] == .string("xfr.example."))
        #expect(try api.client.send("POST", "/v1/pools/main/servers", token: api.operatorToken, json: #"{"address": "127.0.0.1", "port": 5353}"#).status == 409)
        let unknownKey = try api.client.send("POST", "/v1/pools/main/servers", token: api.operatorToken, json: #"{"address": "::1", "tsig_key": "nope.example"}"#)
        #expect(unknownKey.status == 422)
        #expect(try unknownKey.problemPointers() == ["/tsig_key"])
        let badAddress = try api.client.send("POST", "/v1/pools/main/servers", token: api.operatorToken, json: #"{"address": "ns1.example.net"}"#)
        #expect(try badAddress.problemPointers() == ["/address"])
        #expect(try api.client.send("DELETE", "/v1/tsig-keys/xfr.example", token: api.operatorToken).status == 409)
        let servers = try api.client.send("GET", "/v1/pools/main/servers", token: api.operatorToken).json()
        #expect(servers["items"]?.arrayValue?.count == 1)
        let id = try #require(try server.json()["id"]?.intValue)
        #expect(try api.client.send("PATCH", "/v1/pools/main/servers/\(id)", token: api.operatorToken, json: #"{"tsig_key": null}"#).status == 200)
        #expect(try api.client.send("DELETE", "/v1/tsig-keys/xfr.example", token: api.operatorToken).status == 204)
        let customer = try api.createCustomer("acme")
        #expect(try api.client.send("GET", "/v1/pools", token: customer.token).status == 403)
    }

    @Test("a zone takes its SOA and NS from its pool; changing the pool's NS is a new serial in every member zone")
    func membersFollowThePool() throws {
        let api = try APIFixture()
        #expect(try api.client.send("POST", "/v1/pools", token: api.operatorToken, json: Self.pool).status == 201)
        let acme = try api.createCustomer("acme")
        let zone = try api.createZone("example.com", token: acme.token, extra: #""pool": "main", "serial_policy": "increment""#)
        #expect(zone["nameservers"] == .array([.string("ns1.example.net."), .string("ns2.example.net.")]))
        #expect(zone["soa"]?["mname"] == .string("ns1.example.net."))
        let unknown = try api.client.send("POST", "/v1/zones", token: acme.token, json: #"{"name": "other.example", "pool": "nope"}"#)
        #expect(unknown.status == 422)
        #expect(try unknown.problemPointers() == ["/pool"])
        // The zone-file form names its pool in the query, with the same answers.
        let file = "@ 3600 IN SOA a. b. 1 2 3 4 5\nwww 300 IN A 192.0.2.1\n"
        let fromFile = try api.client.sendZoneFile("POST", "/v1/zones?name=file.example&pool=main", token: acme.token, zone: file)
        #expect(fromFile.status == 201, "\(fromFile.text)")
        let created = try api.client.send("GET", "/v1/zones/file.example", token: acme.token).json()
        #expect(created["nameservers"] == .array([.string("ns1.example.net."), .string("ns2.example.net.")]))
        #expect(created["pool_id"] == zone["pool_id"])
        let nowhere = try api.client.sendZoneFile("POST", "/v1/zones?name=nowhere.example&pool=nope", token: acme.token, zone: file)
        #expect(nowhere.status == 422)
        #expect(try nowhere.problemPointers() == ["/pool"])
        #expect(try api.client.send("GET", "/v1/zones/nowhere.example", token: acme.token).status == 404)
        #expect(try api.client.send("DELETE", "/v1/zones/file.example", token: acme.token).status == 204)

        let before = try api.serial("example.com", token: acme.token)
        let changed = try api.client.send("PATCH", "/v1/pools/main", token: api.operatorToken, json: #"{"nameservers": ["ns3.example.net"]}"#)
        #expect(changed.status == 200, "\(changed.text)")
        #expect(try api.serial("example.com", token: acme.token) == before + 1)
        let export = try api.client.send("GET", "/v1/zones/example.com/export", token: acme.token).text
        #expect(export.contains("ns3.example.net."))
        #expect(!export.contains("ns1.example.net.\n"))
        let journal = try api.client.send("GET", "/v1/zones/example.com/changes?limit=1", token: acme.token).json()
        #expect(journal["items"]?.arrayValue?.first?["kind"] == .string("pool"))
        // A rename alone publishes nothing new and costs no serial.
        #expect(try api.client.send("PATCH", "/v1/pools/main", token: api.operatorToken, json: #"{"name": "primary"}"#).status == 200)
        #expect(try api.serial("example.com", token: acme.token) == before + 1)
        #expect(try api.client.send("DELETE", "/v1/pools/primary", token: api.operatorToken).status == 409)
        #expect(try api.client.send("DELETE", "/v1/zones/example.com", token: acme.token).status == 204)
        #expect(try api.client.send("DELETE", "/v1/pools/primary", token: api.operatorToken).status == 204)
    }
}

extension PoolTests {
    @Test("an empty or missing NS list is 422, never a server error, and nothing is written")
    func emptyNameservers() throws {
        let api = try APIFixture()
        for nameservers in [#""nameservers": []"#, #""nameservers": null"#, ""] {
            let body = #"{"name": "p", \#(nameservers.isEmpty ? "" : nameservers + ",") "soa_mname": "a.example", "soa_rname": "b.example"}"#
            let response = try api.client.send("POST", "/v1/pools", token: api.operatorToken, json: body)
            #expect(response.status == 422, "\(body): \(response.text)")
            #expect(try response.problemPointers() == ["/nameservers"], "\(body)")
        }
        #expect(try api.client.send("POST", "/v1/pools", token: api.operatorToken, json: Self.pool).status == 201)
        let emptied = try api.client.send("PATCH", "/v1/pools/main", token: api.operatorToken, json: #"{"name": "renamed", "nameservers": []}"#)
        #expect(emptied.status == 422)
        #expect(try api.client.send("GET", "/v1/pools/main", token: api.operatorToken).status == 200)
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM pools") == "1")
    }
}

extension PoolTests {
    @Test("a server added to a pool that is deleted meanwhile is 404, not a complaint about its TSIG key")
    func serverForPoolDeletedMeanwhile() throws {
        let api = try APIFixture()
        #expect(try api.client.send("POST", "/v1/pools", token: api.operatorToken, json: Self.pool).status == 201)
        let deleter = try PostgresConnection(conninfo: api.conninfo)
        defer { deleter.close() }
        // The pool's row is deleted but not committed: the request still finds the pool, and its
        // insert waits on the foreign key until the delete commits.
        try deleter.execute("BEGIN")
        #expect(try deleter.query("DELETE FROM pools WHERE name = 'main'").affectedRows == 1)

        let call = BackgroundCall {
            try api.client.send("POST", "/v1/pools/main/servers", token: api.operatorToken, json: #"{"address": "192.0.2.53"}"#)
        }
        #expect(call.outcome(within: 0.5) == nil, "the server was written beside an uncommitted pool delete")
        try deleter.execute("COMMIT")
        let response = try #require(call.outcome(within: 10)).get()
        #expect(response.status == 404, "\(response.text)")
        #expect(try response.problemPointers().isEmpty)
    }
}

import Foundation
import HTTPServer
import Testing

/// One customer can never see or touch another's zones, and restricted tokens stay restricted.
@Suite("Tenant isolation on zone routes")
struct TenantTests {
    /// Every zone route with a body that would be valid for the zone's owner.
    static let routes: [(String, String, String?)] = [
        ("GET", "/v1/zones/mine.example", nil),
        ("PATCH", "/v1/zones/mine.example", #"{"default_ttl": 600}"#),
        ("GET", "/v1/zones/mine.example/rrsets", nil),
        ("PATCH", "/v1/zones/mine.example/rrsets", #"{"changes": [{"action": "add", "name": "x.mine.example", "type": "A", "records": ["192.0.2.1"]}]}"#),
        ("GET", "/v1/zones/mine.example/rrsets/www.mine.example/A", nil),
        ("PUT", "/v1/zones/mine.example/rrsets/www.mine.example/A", #"{"records": ["192.0.2.7"]}"#),
        ("DELETE", "/v1/zones/mine.example/rrsets/www.mine.example/A", nil),
        ("GET", "/v1/zones/mine.example/export", nil),
        ("GET", "/v1/zones/mine.example/changes", nil),
        ("DELETE", "/v1/zones/mine.example", nil),
    ]

    @Test("another account's token gets 404 on every zone route and never sees the zone listed")
    func otherAccount() throws {
        let api = try APIFixture()
        let owner = try api.createCustomer("owner")
        let stranger = try api.createCustomer("stranger")
        let zone = try api.createZone("mine.example", token: owner.token)
        #expect(try api.patch("mine.example", token: owner.token, #"[{"action": "add", "name": "www.mine.example", "type": "A", "records": ["192.0.2.1"]}]"#).status == 200)
        let serial = try api.serial("mine.example", token: owner.token)
        let id = try #require(zone["id"]?.intValue)

        for (method, path, body) in Self.routes + [("GET", "/v1/zones/\(id)", nil)] {
            let response = try api.client.send(method, path, token: stranger.token, json: body)
            #expect(response.status == 404, "\(method) \(path): \(response.status)")
        }
        let imported = try api.client.sendZoneFile("POST", "/v1/zones/mine.example/import?mode=merge", token: stranger.token,
                                                   zone: "www 300 IN A 192.0.2.66\n")
        #expect(imported.status == 404)
        let listed = try api.client.send("GET", "/v1/zones", token: stranger.token).json()
        #expect(listed["items"]?.arrayValue?.isEmpty == true)
        let sneaky = try api.client.send("GET", "/v1/zones?account=\(owner.accountID)", token: stranger.token).json()
        #expect(sneaky["items"]?.arrayValue?.isEmpty == true)
        // Nothing the stranger sent changed the zone.
        #expect(try api.serial("mine.example", token: owner.token) == serial)
        #expect(try api.rrsetLines("mine.example", token: owner.token) == ["www.mine.example. A 3600 192.0.2.1"])
    }

    @Test("a read-only token reads but gets 403 on every write")
    func readOnly() throws {
        let api = try APIFixture()
        let owner = try api.createCustomer("owner")
        try api.createZone("mine.example", token: owner.token)
        #expect(try api.patch("mine.example", token: owner.token, #"[{"action": "add", "name": "www.mine.example", "type": "A", "records": ["192.0.2.1"]}]"#).status == 200)
        let reader = try api.createToken(accountID: owner.accountID, readOnly: true)
        for (method, path, body) in Self.routes {
            let response = try api.client.send(method, path, token: reader, json: body)
            #expect(response.status == (method == "GET" ? 200 : 403), "\(method) \(path): \(response.status)")
        }
        #expect(try api.client.send("POST", "/v1/zones", token: reader, json: #"{"name": "new.example"}"#).status == 403)
    }

    @Test("a token limited to one zone cannot reach the account's other zones")
    func zoneLimited() throws {
        let api = try APIFixture()
        let owner = try api.createCustomer("owner")
        try api.createZone("mine.example", token: owner.token)
        try api.createZone("other.example", token: owner.token)
        let created = try api.client.send("POST", "/v1/tokens", token: owner.token, json: #"{"zones": ["mine.example"]}"#)
        #expect(created.status == 201, "\(created.text)")
        let limited = try #require(try created.json()["token"]?.stringValue)
        #expect(try api.client.send("GET", "/v1/zones/mine.example", token: limited).status == 200)
        #expect(try api.client.send("GET", "/v1/zones/other.example", token: limited).status == 404)
        #expect(try api.patch("other.example", token: limited, #"[{"action": "add", "name": "x.other.example", "type": "A", "records": ["192.0.2.1"]}]"#).status == 404)
        #expect(try api.patch("mine.example", token: limited, #"[{"action": "add", "name": "x.mine.example", "type": "A", "records": ["192.0.2.1"]}]"#).status == 200)
        let listed = try api.client.send("GET", "/v1/zones", token: limited).json()
        #expect(listed["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["mine.example."])
        #expect(try api.client.send("DELETE", "/v1/zones/mine.example", token: limited).status == 403)
    }
}

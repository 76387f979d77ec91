import Foundation
import HTTPServer
import Store
import Testing

@Suite("RRsets: one at a time, atomic batches, zone rules, quotas")
struct RRsetTests {
    /// A fixture with one customer owning example.com under the increment policy.
    static func setUp(quotas: String = "") throws -> (APIFixture, APIFixture.Customer) {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme", quotas: quotas)
        try api.createZone("example.com", token: acme.token, extra: #""serial_policy": "increment""#)
        return (api, acme)
    }

    @Test("PUT creates and replaces an RRset under a new serial; the same PUT again changes nothing")
    func putGetDelete() throws {
        let (api, acme) = try Self.setUp()
        let start = try api.serial("example.com", token: acme.token)
        let put = try api.client.send("PUT", "/v1/zones/example.com/rrsets/www.example.com/A", token: acme.token,
                                      json: #"{"ttl": 300, "records": ["192.0.2.2", "192.0.2.1"]}"#)
        #expect(put.status == 200, "\(put.text)")
        #expect(put.header("ETag") == "\"\(start + 1)\"")
        let read = try api.client.send("GET", "/v1/zones/example.com/rrsets/www.example.com./a", token: acme.token)
        #expect(read.status == 200)
        #expect(try read.json()["ttl"] == .int(300))
        #expect(Set(try read.json()["records"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["192.0.2.1", "192.0.2.2"])

        let same = try api.client.send("PUT", "/v1/zones/example.com/rrsets/www.example.com/A", token: acme.token,
                                       json: #"{"ttl": 300, "records": ["192.0.2.1", "192.0.2.2"]}"#)
        #expect(same.status == 200)
        #expect(try api.serial("example.com", token: acme.token) == start + 1)

        let create = try api.client.send("PUT", "/v1/zones/example.com/rrsets/www.example.com/A", token: acme.token,
                                         json: #"{"records": ["192.0.2.9"]}"#, headers: ["If-None-Match": "*"])
        #expect(create.status == 412)

        #expect(try api.client.send("DELETE", "/v1/zones/example.com/rrsets/www.example.com/A", token: acme.token).status == 204)
        #expect(try api.serial("example.com", token: acme.token) == start + 2)
        #expect(try api.client.send("GET", "/v1/zones/example.com/rrsets/www.example.com/A", token: acme.token).status == 404)
        // Deleting what is not there is fine and costs no serial.
        #expect(try api.client.send("DELETE", "/v1/zones/example.com/rrsets/www.example.com/A", token: acme.token).status == 204)
        #expect(try api.serial("example.com", token: acme.token) == start + 2)
    }

    @Test("every record type is accepted in canonical form and listed back")
    func everyType() throws {
        let (api, acme) = try Self.setUp()
        let records: [(String, String, String)] = [
            ("a", "A", "192.0.2.1"),
            ("aaaa", "AAAA", "2001:DB8:0:0:0:0:0:1"),
            ("cname", "CNAME", "target.example.net"),
            ("mx", "MX", "10 mail.example.com."),
            ("txt", "TXT", #""v=spf1 -all""#),
            ("sub", "NS", "ns1.example.net."),
            ("_sip._tcp", "SRV", "10 60 5060 sip.example.com."),
            ("caa", "CAA", #"0 issue "letsencrypt.org""#),
            ("ptr", "PTR", "host.example.com."),
            ("sub", "DS", "60485 8 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A"),
            ("_443._tcp", "TLSA", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"),
            ("ssh", "SSHFP", "4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789"),
            ("naptr", "NAPTR", #"100 10 "S" "SIP+D2U" "" _sip._udp.example.com."#),
            ("svc", "SVCB", "1 svc.example.net. port=8443 alpn=h2"),
            ("web", "HTTPS", #"1 . alpn="h2,h3" ipv4hint=192.0.2.10"#),
            ("old", "DNAME", "new.example.net."),
            ("loc", "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
            ("uri", "URI", #"10 1 "https://www.example.com/""#),
            ("generic", "TYPE65280", ##"\# 4 0A000001"##),
        ]
        let changes = records.map { #"{"action": "replace", "name": "\#($0.0).example.com", "type": "\#($0.1)", "ttl": 600, "records": ["\#($0.2.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))"]}"# }
        let response = try api.patch("example.com", token: acme.token, "[" + changes.joined(separator: ",") + "]")
        #expect(response.status == 200, "\(response.text)")
        #expect(try response.json()["records_added"] == .int(Int64(records.count)))
        let lines = try api.rrsetLines("example.com", token: acme.token)
        #expect(lines.count == records.count)
        #expect(lines.contains("aaaa.example.com. AAAA 600 2001:db8::1"))
        #expect(lines.contains("cname.example.com. CNAME 600 target.example.net."))
        #expect(lines.contains("generic.example.com. TYPE65280 600 \\# 4 0A000001"))
    }

    @Test("bad RDATA of each type is 422 pointing at the record")
    func badRecords() throws {
        let (api, acme) = try Self.setUp()
        let bad: [(String, String)] = [
            ("A", "192.0.2.300"), ("A", "1.2.3"), ("AAAA", "2001:db8::g"), ("CNAME", "bad..name."),
            ("MX", "mail.example.com."), ("TXT", #""never closed"#), ("NS", #""ns.example.net.""#), ("SRV", "10 60 5060"),
            ("CAA", #"0 is$sue "x""#), ("PTR", "a..b."), ("DS", "60485 8 2 ABCD"), ("TLSA", "3 1 1 ZZ"),
            ("SSHFP", "4 2 1234"), ("NAPTR", "100 10 S"), ("SVCB", "1 . port=99999"), ("HTTPS", "1 . alpn="),
            ("DNAME", ""), ("LOC", "91 0 0 N 0 0 0 E 0m"), ("URI", "10 1"),
        ]
        let before = try api.serial("example.com", token: acme.token)
        for (type, record) in bad {
            let escaped = record.replacingOccurrences(of: "\"", with: "\\\"")
            let response = try api.patch("example.com", token: acme.token,
                                         #"[{"action": "add", "name": "x.example.com", "type": "\#(type)", "records": ["\#(escaped)"]}]"#)
            #expect(response.status == 422, "\(type) \(record): \(response.text)")
            #expect(try response.problemPointers() == ["/changes/0/records/0"], "\(type) \(record): \(response.text)")
        }
        #expect(try api.serial("example.com", token: acme.token) == before)
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM records") == "0")
    }

    @Test("a batch with one bad change commits nothing and lists every problem")
    func atomicBatch() throws {
        let (api, acme) = try Self.setUp()
        let before = try api.serial("example.com", token: acme.token)
        let response = try api.patch("example.com", token: acme.token, """
            [{"action": "replace", "name": "ok.example.com", "type": "A", "records": ["192.0.2.1"]},
             {"action": "replace", "name": "www.other.org", "type": "A", "records": ["192.0.2.1"]},
             {"action": "add", "name": "dup.example.com", "type": "A", "records": ["192.0.2.1", "192.0.2.1"]},
             {"action": "frobnicate", "name": "x.example.com", "type": "A", "records": []},
             {"action": "add", "name": "ttl.example.com", "type": "A", "ttl": "long", "records": ["192.0.2.1"]},
             {"action": "add", "name": "u.example.com", "type": "A", "records": ["192.0.2.1"], "x/y~z": 1, "a/\\u0301": 2}]
            """)
        #expect(response.status == 422)
        let pointers = Set(try response.problemPointers())
        // An unknown member's name is escaped as RFC 6901 says ("/" as "~1", "~" as "~0").
        #expect(pointers.isSuperset(of: ["/changes/1/name", "/changes/2/records/1", "/changes/3/action", "/changes/4/ttl",
                                         "/changes/5/x~1y~0z", "/changes/5/a~1\u{301}"]), "\(response.text)")
        #expect(try api.serial("example.com", token: acme.token) == before)
        #expect(try api.rrsetLines("example.com", token: acme.token).isEmpty)
    }

    @Test("add, remove, replace and delete in one batch commit under one serial")
    func allActions() throws {
        let (api, acme) = try Self.setUp()
        _ = try api.patch("example.com", token: acme.token, """
            [{"action": "replace", "name": "a.example.com", "type": "A", "ttl": 300, "records": ["192.0.2.1", "192.0.2.2"]},
             {"action": "replace", "name": "b.example.com", "type": "TXT", "records": ["\\"old\\""]}]
            """)
        let before = try api.serial("example.com", token: acme.token)
        let response = try api.patch("example.com", token: acme.token, """
            [{"action": "add", "name": "a.example.com", "type": "A", "records": ["192.0.2.3", "192.0.2.1"]},
             {"action": "remove", "name": "a.example.com", "type": "A", "records": ["192.0.2.2", "192.0.2.99"]},
             {"action": "delete", "name": "b.example.com", "type": "TXT"},
             {"action": "add", "name": "c.example.com", "type": "MX", "records": ["10 mail.example.com."]}]
            """)
        #expect(response.status == 200, "\(response.text)")
        #expect(try response.json()["serial"]?.intValue == before + 1)
        #expect(try api.rrsetLines("example.com", token: acme.token) == [
            "a.example.com. A 300 192.0.2.1", "a.example.com. A 300 192.0.2.3",
            "c.example.com. MX 3600 10 mail.example.com.",
        ])
        let journal = try api.client.send("GET", "/v1/zones/example.com/changes?limit=1", token: acme.token).json()
        let entry = try #require(journal["items"]?.arrayValue?.first)
        #expect(entry["serial_from"]?.intValue == before)
        #expect(entry["serial_to"]?.intValue == before + 1)
        #expect(entry["removed"]?.arrayValue?.count == 2)
        #expect(entry["added"]?.arrayValue?.count == 2)
    }

    @Test("zone rules: CNAME exclusivity and apex, service-owned SOA/NS, delegations hide data")
    func zoneRules() throws {
        let (api, acme) = try Self.setUp()
        #expect(try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "www.example.com", "type": "A", "records": ["192.0.2.1"]}]"#).status == 200)
        let cases: [(String, String)] = [
            (#"[{"action": "add", "name": "www.example.com", "type": "CNAME", "records": ["other.example.net."]}]"#, "/changes/0"),
            (#"[{"action": "add", "name": "example.com", "type": "CNAME", "records": ["other.example.net."]}]"#, "/changes/0"),
            (#"[{"action": "add", "name": "example.com", "type": "NS", "records": ["ns9.example.net."]}]"#, "/changes/0"),
            (#"[{"action": "replace", "name": "example.com", "type": "SOA", "records": ["a. b. 1 2 3 4 5"]}]"#, "/changes/0"),
            (#"[{"action": "add", "name": "sub.example.com", "type": "NS", "records": ["ns.example.net."]}, {"action": "add", "name": "deep.sub.example.com", "type": "TXT", "records": ["\"hidden\""]}]"#, "/changes/1"),
        ]
        for (changes, pointer) in cases {
            let response = try api.patch("example.com", token: acme.token, changes)
            #expect(response.status == 422, "\(changes): \(response.text)")
            #expect(try response.problemPointers().contains(pointer), "\(changes): \(response.text)")
        }
        // Glue below a delegation is fine.
        let glue = try api.patch("example.com", token: acme.token, """
            [{"action": "add", "name": "sub.example.com", "type": "NS", "records": ["ns.sub.example.com."]},
             {"action": "add", "name": "ns.sub.example.com", "type": "A", "records": ["192.0.2.53"]}]
            """)
        #expect(glue.status == 200, "\(glue.text)")
    }

    @Test("minimum TTL and records-per-zone quota are enforced with the limit named")
    func quotas() throws {
        let (api, acme) = try Self.setUp(quotas: #""min_ttl": 300, "max_records_per_zone": 3"#)
        let low = try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "a.example.com", "type": "A", "ttl": 60, "records": ["192.0.2.1"]}]"#)
        #expect(low.status == 422)
        #expect(try low.problemPointers() == ["/changes/0/ttl"])
        #expect(try low.problemDetail().contains("minimum TTL of 300"))
        let three = try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "a.example.com", "type": "A", "records": ["192.0.2.1", "192.0.2.2", "192.0.2.3"]}]"#)
        #expect(three.status == 200, "\(three.text)")
        let four = try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "b.example.com", "type": "A", "records": ["192.0.2.4"]}]"#)
        #expect(four.status == 403)
        #expect(try four.problemDetail().contains("limit of 3 records"))
        // Replacing within the limit still works.
        #expect(try api.patch("example.com", token: acme.token, #"[{"action": "replace", "name": "a.example.com", "type": "A", "records": ["192.0.2.9"]}]"#).status == 200)
    }

    @Test("If-Match with an old ETag is 412 and changes nothing")
    func ifMatch() throws {
        let (api, acme) = try Self.setUp()
        let etag = "\"\(try api.serial("example.com", token: acme.token))\""
        #expect(try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "a.example.com", "type": "A", "records": ["192.0.2.1"]}]"#, headers: ["If-Match": etag]).status == 200)
        let stale = try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "b.example.com", "type": "A", "records": ["192.0.2.1"]}]"#, headers: ["If-Match": etag])
        #expect(stale.status == 412)
        #expect(try api.rrsetLines("example.com", token: acme.token).count == 1)
    }

    @Test("listing rrsets filters by name and type and pages")
    func listing() throws {
        let (api, acme) = try Self.setUp()
        let changes = (0..<25).map { #"{"action": "add", "name": "h\#($0).example.com", "type": "A", "records": ["192.0.2.\#($0)"]}"# }
        #expect(try api.patch("example.com", token: acme.token, "[" + changes.joined(separator: ",") + "]").status == 200)
        #expect(try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "h1.example.com", "type": "TXT", "records": ["\"t\""]}]"#).status == 200)
        #expect(try api.rrsetLines("example.com", token: acme.token).count == 26)
        let page = try api.client.send("GET", "/v1/zones/example.com/rrsets?limit=10", token: acme.token)
        #expect(try page.json()["items"]?.arrayValue?.count == 10)
        #expect(try page.json()["next_cursor"]?.stringValue != nil)
        let byName = try api.client.send("GET", "/v1/zones/example.com/rrsets?name=h1.example.com", token: acme.token).json()
        #expect(byName["items"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["A", "TXT"])
        let byType = try api.client.send("GET", "/v1/zones/example.com/rrsets?type=TXT", token: acme.token).json()
        #expect(byType["items"]?.arrayValue?.count == 1)
        #expect(try api.client.send("GET", "/v1/zones/example.com/rrsets?name=elsewhere.org", token: acme.token).status == 400)
    }
}

@Suite("Change notifications")
struct ChangeNotificationTests {
    @Test("a committed change wakes zone_changed listeners with the zone id and the new serial; a refused one does not")
    func notifiesAfterCommit() throws {
        let (api, acme) = try RRsetTests.setUp()
        let listener = try PostgresConnection(conninfo: api.conninfo)
        defer { listener.close() }
        try listener.listen("zone_changed")
        let zoneID = try #require(try api.client.send("GET", "/v1/zones/example.com", token: acme.token).json()["id"]?.intValue)

        let refused = try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "a.example.com", "type": "A", "records": ["300.0.0.1"]}]"#)
        #expect(refused.status == 422)
        #expect(try listener.notifications(timeoutSeconds: 0.5).isEmpty)

        let response = try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "a.example.com", "type": "A", "records": ["192.0.2.1"]}]"#)
        let serial = try #require(try response.json()["serial"]?.intValue)
        let received = try listener.notifications(timeoutSeconds: 5)
        #expect(received.map(\.payload) == ["\(zoneID) \(serial)"])
    }

    @Test("NOTIFY workers are woken (propagation_due) only when a change owes a server something")
    func propagationDueOnlyWithServers() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        #expect(try api.client.send("POST", "/v1/pools", token: api.operatorToken, json: PoolTests.pool).status == 201)
        _ = try api.createZone("example.com", token: acme.token, extra: #""pool": "main""#)
        let listener = try PostgresConnection(conninfo: api.conninfo)
        defer { listener.close() }
        try listener.listen("propagation_due")
        let add = #"[{"action": "add", "name": "a.example.com", "type": "A", "records": ["192.0.2.1"]}]"#

        // No server in the pool: the change owes nobody anything, so no worker is woken.
        #expect(try api.patch("example.com", token: acme.token, add).status == 200)
        #expect(try listener.notifications(timeoutSeconds: 0.5).isEmpty)

        // A server joins and is owed the pool's zones: that wakes the workers.
        let server = try api.client.send("POST", "/v1/pools/main/servers", token: api.operatorToken, json: #"{"address": "127.0.0.1", "port": 5353}"#)
        #expect(server.status == 201, "\(server.text)")
        #expect(try listener.notifications(timeoutSeconds: 5).map(\.channel) == ["propagation_due"])

        // From now on each change wakes them.
        #expect(try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "b.example.com", "type": "A", "records": ["192.0.2.2"]}]"#).status == 200)
        #expect(try listener.notifications(timeoutSeconds: 5).map(\.channel) == ["propagation_due"])
        #expect(try api.databaseText("SELECT string_agg(target_serial::text, ',') AS all FROM propagation_state p JOIN zones z ON z.id = p.zone_id WHERE z.name = 'example.com.'")
                == (try api.serial("example.com", token: acme.token)).description)
    }
}

import DNSModel
import DNSWire
import Foundation
import HTTPServer
import IntegrationHarness
import Testing
import ZoneFile

/// zonectl as a hidden primary, asked directly: what it answers, to whom, and how.
@Suite("Transfer server (SOA, AXFR, IXFR, ACL, TSIG)", .serialized)
struct TransferServerTests {
    /// A zone in a pool whose only server is 127.0.0.1 on the discard port: transfers from
    /// 127.0.0.1 are allowed; NOTIFYs to it fail, which the status API must show.
    static func setUp(_ server: ZonectlServer, zone: String = "xfr.test.") throws -> Int64 {
        try server.must(201, "POST", "/v1/pools", #"{"name": "p", "nameservers": ["ns1.p.test.", "ns2.p.test."], "soa_mname": "ns1.p.test.", "soa_rname": "hostmaster.p.test."}"#)
        try server.must(201, "POST", "/v1/pools/p/servers", #"{"address": "127.0.0.1", "port": 9}"#)
        let account = try server.must(201, "POST", "/v1/accounts", #"{"name": "xfr"}"#)["id"]?.intValue ?? 0
        try server.must(201, "POST", "/v1/zones", #"{"name": "\#(zone)", "account_id": \#(account), "pool": "p"}"#)
        return account
    }

    static func change(_ server: ZonectlServer, _ zone: String, _ changes: String) throws -> UInt32 {
        let reply = try server.must(200, "PATCH", "/v1/zones/\(zone)/rrsets", #"{"changes": \#(changes)}"#)
        return UInt32(reply["serial"]?.intValue ?? -1)
    }

    static func soa(_ serial: UInt32, zone: DomainName) -> SOAData {
        SOAData(mname: zone, rname: zone, serial: ZoneSerial(rawValue: serial), refresh: 0, retry: 0, expire: 0, minimum: 0)
    }

    static func text(_ record: DNSRecord) throws -> String {
        let rr = try record.resourceRecord()
        return "\(rr.owner) \(rr.ttl) \(rr.type) \(rr.rdata.presentation())"
    }

    @Test("SOA over UDP; AXFR equals the export; IXFR from the previous serial holds only the difference")
    func transfers() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        _ = try Self.setUp(server)
        let zone = try DomainName(presentation: "xfr.test.", origin: .root)
        _ = try Self.change(server, "xfr.test", #"[{"action": "replace", "name": "www.xfr.test.", "type": "A", "ttl": 300, "records": ["192.0.2.1"]}, {"action": "replace", "name": "xfr.test.", "type": "MX", "records": ["10 mail.xfr.test."]}, {"action": "replace", "name": "mail.xfr.test.", "type": "AAAA", "records": ["2001:db8::25"]}, {"action": "replace", "name": "xfr.test.", "type": "TXT", "records": ["\"v=spf1 mx -all\""]}]"#)
        let before = try Self.change(server, "xfr.test", #"[{"action": "replace", "name": "old.xfr.test.", "type": "A", "records": ["192.0.2.9"]}]"#)
        let after = try Self.change(server, "xfr.test", #"[{"action": "replace", "name": "www.xfr.test.", "type": "A", "ttl": 300, "records": ["192.0.2.2"]}, {"action": "delete", "name": "old.xfr.test.", "type": "A"}]"#)
        let client = DNSTestClient(port: server.dnsPort)

        let soaAnswer = try client.udp(.query(id: 1, name: zone, type: .soa))
        #expect(soaAnswer.rcode == .noError && soaAnswer.isAuthoritative)
        #expect(soaAnswer.answerSOA(for: zone)?.serial.rawValue == after)

        let axfr = try client.transfer(.query(id: 2, name: zone, type: .axfr))
        #expect(axfr.first?.type == .soa && axfr.last?.type == .soa && axfr.count >= 3)
        #expect(try SOAData(RData(type: .soa, wire: axfr[0].rdata)).serial.rawValue == after)
        let exported = try ZoneFileParser.parse(Array(server.export("xfr.test").utf8), origin: zone).get()
        let exportedSet = Set(try exported.records.map { try Self.text(DNSRecord($0)) })
        let transferredSet = Set(try axfr.dropLast().map(Self.text))
        #expect(transferredSet == exportedSet)
        #expect(axfr.count - 1 == exported.records.count)

        // RFC 1995: new SOA, then old SOA, removed records, new SOA, added records; new SOA again.
        let ixfr = try client.transfer(.incrementalTransferQuery(id: 3, zone: zone, currentSOA: Self.soa(before, zone: zone)))
        let serials = ixfr.filter { $0.type == .soa }.compactMap { try? SOAData(RData(type: .soa, wire: $0.rdata)).serial.rawValue }
        #expect(serials == [after, before, after, after])
        let body = try ixfr.map(Self.text)
        #expect(body.count == 7)
        #expect(Array(body[2...3]).sorted() == ["old.xfr.test. 3600 A 192.0.2.9", "www.xfr.test. 300 A 192.0.2.1"])
        #expect(body[5] == "www.xfr.test. 300 A 192.0.2.2")

        // Up to date: one SOA. Unknown serial: the whole zone, as AXFR sends it.
        let current = try client.transfer(.incrementalTransferQuery(id: 4, zone: zone, currentSOA: Self.soa(after, zone: zone)))
        #expect(current.count == 1 && current[0].type == .soa)
        let unknown = try client.transfer(.incrementalTransferQuery(id: 5, zone: zone, currentSOA: Self.soa(7, zone: zone)))
        #expect(try Set(unknown.map(Self.text)) == Set(axfr.map(Self.text)) && unknown.count == axfr.count)

        // A settings change is not in the journal as records: IXFR across it sends the whole zone.
        let settings = try server.must(200, "PATCH", "/v1/zones/xfr.test", #"{"soa": {"refresh": 7200}}"#)
        let newest = UInt32(settings["serial"]?.intValue ?? 0)
        let across = try client.transfer(.incrementalTransferQuery(id: 6, zone: zone, currentSOA: Self.soa(after, zone: zone)))
        #expect(across.count == axfr.count)
        #expect(try SOAData(RData(type: .soa, wire: across[0].rdata)).refresh == 7200)
        #expect(try SOAData(RData(type: .soa, wire: across[0].rdata)).serial.rawValue == newest)

        // IXFR over UDP gets the current SOA only: come back over TCP (RFC 1995 §2).
        let overUDP = try client.udp(.incrementalTransferQuery(id: 7, zone: zone, currentSOA: Self.soa(before, zone: zone)))
        #expect(overUDP.answers.count == 1 && overUDP.answers[0].type == .soa)
    }

    @Test("a large zone's AXFR is split into messages under 16 KiB that together hold every record")
    func largeTransfer() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        let account = try Self.setUp(server)
        try server.must(200, "PATCH", "/v1/accounts/\(account)", #"{"max_records_per_zone": 10000}"#)
        var file = "$ORIGIN xfr.test.\n$TTL 300\n"
        for index in 0..<3000 {
            file += "host\(index) IN A 10.0.\(index / 256).\(index % 256)\nhost\(index) IN TXT \"record number \(index) of the large zone\"\n"
        }
        let response = try HTTPTestClient(port: Int(server.httpPort)).send(
            "POST", "/v1/zones/xfr.test/import?mode=merge",
            headers: [("Authorization", "Bearer \(server.token)"), ("Content-Type", "text/dns")], body: Array(file.utf8))
        #expect(response.status == 200, "\(response.text)")

        let zone = try DomainName(presentation: "xfr.test.", origin: .root)
        let messages = try DNSTestClient(port: server.dnsPort).tcp(.query(id: 9, name: zone, type: .axfr))
        #expect(messages.count > 1)
        #expect(messages.allSatisfy { $0.encode().count <= 16384 && $0.rcode == .noError })
        let records = messages.flatMap(\.answers)
        // SOA, two apex NS, 6,000 records, SOA.
        #expect(records.count == 6004)
        #expect(Set(try records.map(Self.text)).count == 6003)
    }

    @Test("only the pool's servers may ask: others, other zones, other types are refused")
    func refusals() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        _ = try Self.setUp(server)
        let zone = try DomainName(presentation: "xfr.test.", origin: .root)
        let stranger = DNSTestClient(port: server.dnsPort, source: "127.0.0.2")
        #expect(try stranger.tcp(.query(id: 1, name: zone, type: .axfr)).first?.rcode == .refused)
        #expect(try stranger.udp(.query(id: 2, name: zone, type: .soa)).rcode == .refused)
        let member = DNSTestClient(port: server.dnsPort)
        let other = try DomainName(presentation: "not-hosted.test.", origin: .root)
        #expect(try member.udp(.query(id: 3, name: other, type: .soa)).rcode == .refused)
        #expect(try member.udp(.query(id: 4, name: zone, type: .a)).rcode == .refused)
        #expect(try member.udp(.query(id: 5, name: zone, type: .axfr)).rcode == .formatError)
        #expect(server.log.contains("refused AXFR of xfr.test. to 127.0.0.2"))
    }

    @Test("a keyed server must sign with its key: unsigned and other keys are refused, a wrong secret is NOTAUTH, the right key gets signed answers")
    func tsig() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        _ = try Self.setUp(server)
        let created = try server.must(201, "POST", "/v1/tsig-keys", #"{"name": "xfr-key.", "algorithm": "hmac-sha256"}"#)
        let secret = try #require(created["secret"]?.stringValue)
        let otherSecret = try #require(try server.must(201, "POST", "/v1/tsig-keys", #"{"name": "other-key.", "algorithm": "hmac-sha256"}"#)["secret"]?.stringValue)
        try server.must(201, "POST", "/v1/pools/p/servers", #"{"address": "127.0.0.3", "port": 9, "tsig_key": "xfr-key."}"#)
        let zone = try DomainName(presentation: "xfr.test.", origin: .root)
        let keyName = try DomainName(presentation: "xfr-key.", origin: .root)
        let key = try TSIGKey(name: keyName, algorithm: .hmacSHA256, base64Secret: secret)

        let unsigned = DNSTestClient(port: server.dnsPort, source: "127.0.0.3")
        #expect(try unsigned.tcp(.query(id: 1, name: zone, type: .axfr)).first?.rcode == .refused)

        let wrongSecret = try TSIGKey(name: keyName, algorithm: .hmacSHA256, secret: Array(repeating: 7, count: 32))
        let forged = try DNSTestClient(port: server.dnsPort, source: "127.0.0.3").tcpUnverified(
            .query(id: 2, name: zone, type: .axfr), signedWith: wrongSecret)
        #expect(forged.rcode == .notAuthoritative)

        // A key zonectl knows, but not this server's: a signed REFUSED.
        let otherKey = try TSIGKey(name: DomainName(presentation: "other-key.", origin: .root), algorithm: .hmacSHA256, base64Secret: otherSecret)
        let wrongKey = DNSTestClient(port: server.dnsPort, source: "127.0.0.3", key: otherKey)
        #expect(try wrongKey.tcp(.query(id: 5, name: zone, type: .axfr)).first?.rcode == .refused)

        let signed = DNSTestClient(port: server.dnsPort, source: "127.0.0.3", key: key)
        let records = try signed.transfer(.query(id: 3, name: zone, type: .axfr))
        #expect(records.first?.type == .soa && records.last?.type == .soa)
        #expect(try signed.udp(.query(id: 4, name: zone, type: .soa)).rcode == .noError)
    }

    @Test("status lists each pool server with its serial and last error; the zone carries the summary; POST notify owes the serial again")
    func status() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        _ = try Self.setUp(server)
        let serial = try Self.change(server, "xfr.test", #"[{"action": "replace", "name": "www.xfr.test.", "type": "A", "records": ["192.0.2.1"]}]"#)
        // Nobody listens on port 9: the NOTIFY fails, and status says so.
        var entry: JSONValue?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let status = try server.must(200, "GET", "/v1/zones/xfr.test/status")
            entry = status["servers"]?.arrayValue?.first
            if (entry?["attempts"]?.intValue ?? 0) >= 1 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let status = try server.must(200, "GET", "/v1/zones/xfr.test/status")
        #expect(status["serial"]?.intValue == Int64(serial))
        #expect(status["in_sync"]?.boolValue == false)
        #expect(entry?["port"]?.intValue == 9)
        #expect(entry?["in_sync"]?.boolValue == false)
        #expect(entry?["notified_serial"] == .null)
        #expect(entry?["last_error"]?.stringValue?.contains("NOTIFY for serial \(serial)") == true, "\(String(describing: entry))")
        let zone = try server.must(200, "GET", "/v1/zones/xfr.test")
        #expect(zone["in_sync"]?.boolValue == false)
        #expect(zone["propagation"]?["servers"]?.intValue == 1)
        #expect(zone["propagation"]?["servers_in_sync"]?.intValue == 0)

        let notify = try server.must(202, "POST", "/v1/zones/xfr.test/notify")
        #expect(notify["servers"]?.intValue == 1)
        let after = try server.must(200, "GET", "/v1/zones/xfr.test/status")
        #expect(after["servers"]?.arrayValue?.first?["attempts"]?.intValue == 0 || after["servers"]?.arrayValue?.first?["last_notify_sent"] != entry?["last_notify_sent"])

        // Another account's token sees neither.
        let other = try server.must(201, "POST", "/v1/accounts", #"{"name": "other"}"#)["id"]?.intValue ?? 0
        let token = try server.must(201, "POST", "/v1/tokens", #"{"account_id": \#(other)}"#)["token"]?.stringValue ?? ""
        let foreign = try HTTPTestClient(port: Int(server.httpPort)).send(
            "GET", "/v1/zones/xfr.test/status", headers: [("Authorization", "Bearer \(token)")])
        #expect(foreign.status == 404)
    }
}

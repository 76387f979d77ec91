import DNSModel
import DNSWire
import Foundation
import IntegrationHarness
import Testing

/// The zone the interop tests serve: one record of every type DNSModel knows (each under its
/// own owner so BIND's zone rules are met), and what zonectl expects to read back.
enum InteropZone {
    static let origin = RecordExamples.origin

    static func records() throws -> [ResourceRecord] {
        var lines: [(String, RRType, String)] = [
            ("@", .soa, "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"),
            ("@", .ns, "ns1.example.com."),
            ("ns1", .a, "192.0.2.53"),
        ]
        for (type, text) in RecordExamples.texts where type != .soa {
            let owner = type == .ds ? "t-ns" : "t-\(type.description.lowercased())"
            lines.append((owner, type, text))
        }
        return try lines.map { owner, type, text in
            ResourceRecord(
                owner: try DomainName(presentation: owner, origin: origin), type: type, ttl: 300,
                rdata: try RData.parse(type: type, text: text, origin: origin, mode: .api))
        }
    }

    static func zoneText() throws -> String {
        try records().map { "\($0.owner) \($0.ttl) IN \($0.type) \($0.rdata.presentation())" }.joined(separator: "\n") + "\n"
    }

    static func bigZoneText(records count: Int) -> String {
        var text = "$ORIGIN big.test.\n$TTL 300\n@ IN SOA ns1.big.test. hostmaster.big.test. 7 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n"
        for index in 0..<count {
            text += "r\(index) IN TXT \"record \(index) \(String(repeating: "x", count: 80))\"\n"
        }
        return text
    }
}

/// Talks to a real BIND 9: its compressed answers decode to the zone's data, it accepts
/// zonectl's TSIG signatures, and zonectl verifies its signed answers and transfers.
@Suite("Interop with BIND 9 (named)", .serialized)
struct NamedInteropTests {
    static let key256 = try! TSIGKey(name: name("zonectl-test."), algorithm: .hmacSHA256, base64Secret: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    static let key512 = TSIGKey(name: name("zonectl-512."), algorithm: .hmacSHA512, secret: Array(0..<64))
    static let bigZone = name("big.test.")
    static let bigRecordCount = 3000

    func withNamed<T>(_ body: (NamedServer) throws -> T) throws -> T {
        let named = try NamedServer(
            zones: [
                NamedServer.Zone(name: "example.com", text: try InteropZone.zoneText(), options: "allow-transfer { any; };"),
                NamedServer.Zone(
                    name: "big.test", text: InteropZone.bigZoneText(records: Self.bigRecordCount),
                    options: "allow-transfer { key zonectl-test; key zonectl-512; }; allow-query { key zonectl-test; key zonectl-512; };"),
            ],
            keys: [Self.key256, Self.key512])
        defer { named.stop() }
        return try body(named)
    }

    /// Reads an AXFR over TCP until the closing SOA.
    func transfer(_ query: [UInt8], port: UInt16) throws -> [[UInt8]] {
        var soaCount = 0
        return try LoopbackDNS.tcp(query, port: port, timeout: 20) { bytes in
            guard let message = try? DNSMessage.decode(bytes) else { return true }
            if message.rcode != .noError { return true }
            soaCount += message.answers.count { $0.type == .soa }
            return soaCount >= 2
        }
    }

    @Test("BIND's compressed answers and AXFR decode to exactly the zone's records")
    func decodesRealAnswers() throws {
        let expected = try InteropZone.records()
        try withNamed { named in
            // UDP: the SOA and an MX, whose RDATA names BIND compresses.
            for type in [RRType.soa, .mx] {
                let owner = type == .soa ? InteropZone.origin : name("t-mx.example.com.")
                let reply = try #require(try LoopbackDNS.udp(DNSMessage.query(id: 100, name: owner, type: type).encode(), port: named.port))
                let message = try DNSMessage.decode(reply)
                #expect(message.id == 100 && message.isResponse && message.isAuthoritative && message.rcode == .noError)
                let records = try message.answers.map { try $0.resourceRecord() }
                #expect(records == expected.filter { $0.owner == owner && $0.type == type })
                #expect(reply.count < message.encode(compress: false).count, "BIND compressed the answer")
            }

            let messages = try transfer(DNSMessage.query(id: 101, name: InteropZone.origin, type: .axfr).encode(), port: named.port)
            var records: [ResourceRecord] = []
            var uncompressedSize = 0
            for bytes in messages {
                let message = try DNSMessage.decode(bytes)
                #expect(message.rcode == .noError && message.id == 101)
                records += try message.answers.map { try $0.resourceRecord() }
                uncompressedSize += message.encode(compress: false).count
            }
            #expect(messages.reduce(0) { $0 + $1.count } < uncompressedSize)
            #expect(records.first?.type == .soa && records.last?.type == .soa)
            #expect(Set(records.dropLast()) == Set(expected))
            #expect(records.count - 1 == expected.count)
        }
    }

    func signedSOAQuery(key: TSIGKey, id: UInt16, clock: TSIGClock = .system) throws -> TSIGSignedMessage {
        try TSIG.signRequest(DNSMessage.query(id: id, name: Self.bigZone, type: .soa).encode(), key: key, clock: clock)
    }

    @Test("named answers our signed queries, refuses unsigned ones, and we verify its signature", arguments: [key256, key512])
    func signedQueries(key: TSIGKey) throws {
        try withNamed { named in
            let signed = try signedSOAQuery(key: key, id: 200)
            let reply = try #require(try LoopbackDNS.udp(signed.bytes, port: named.port))
            var verifier = TSIGResponseVerifier(key: key, requestMAC: signed.mac)
            let answer = try verifier.verify(reply)
            try verifier.finish()
            #expect(answer.rcode == .noError)
            #expect(answer.answerSOA(for: Self.bigZone)?.serial == ZoneSerial(rawValue: 7))

            // The same answer with one octet changed does not verify.
            var changed = reply
            changed[changed.count / 2] ^= 0x01
            var strict = TSIGResponseVerifier(key: key, requestMAC: signed.mac)
            #expect(throws: TSIGError.self) { _ = try strict.verify(changed) }

            let unsigned = try #require(try LoopbackDNS.udp(DNSMessage.query(id: 201, name: Self.bigZone, type: .soa).encode(), port: named.port))
            #expect(try DNSMessage.decode(unsigned).rcode == .refused)
        }
    }

    @Test("named refuses a wrong secret with BADSIG and a skewed clock with a signed BADTIME")
    func namedRefusals() throws {
        try withNamed { named in
            let impostor = TSIGKey(name: Self.key256.name, algorithm: .hmacSHA256, secret: Array(repeating: 0x55, count: 32))
            let forged = try signedSOAQuery(key: impostor, id: 300)
            let reply = try #require(try LoopbackDNS.udp(forged.bytes, port: named.port))
            let answer = try DNSMessage.decode(reply)
            #expect(answer.rcode == .notAuthoritative)
            #expect(try TSIGRecord(try #require(answer.tsig)).error == .badSignature)
            var verifier = TSIGResponseVerifier(key: impostor, requestMAC: forged.mac)
            #expect(throws: TSIGError.self) { _ = try verifier.verify(reply) }

            let unknown = TSIGKey(name: name("nobody."), algorithm: .hmacSHA256, secret: Self.key256.secret)
            let stranger = try signedSOAQuery(key: unknown, id: 301)
            let strangerReply = try DNSMessage.decode(try #require(try LoopbackDNS.udp(stranger.bytes, port: named.port)))
            #expect(strangerReply.rcode == .notAuthoritative)
            #expect(try TSIGRecord(try #require(strangerReply.tsig)).error == .badKey)

            let now = TSIGClock.system.secondsSince1970()
            let late = try signedSOAQuery(key: Self.key256, id: 302, clock: .fixed(now - 1000))
            let lateReply = try #require(try LoopbackDNS.udp(late.bytes, port: named.port))
            var lateVerifier = TSIGResponseVerifier(key: Self.key256, requestMAC: late.mac, clock: .fixed(now - 1000))
            let error = try #require(throws: TSIGError.self) { _ = try lateVerifier.verify(lateReply) }
            #expect(error.code == .badTime)
        }
    }

    @Test("a TSIG-signed AXFR from named: every message verified, and a changed one caught")
    func signedTransfer() throws {
        try withNamed { named in
            let request = try TSIG.signRequest(DNSMessage.query(id: 400, name: Self.bigZone, type: .axfr).encode(), key: Self.key256)
            let messages = try transfer(request.bytes, port: named.port)
            #expect(messages.count > 5, "a multi-message transfer")
            var verifier = TSIGResponseVerifier(key: Self.key256, requestMAC: request.mac)
            var records: [DNSRecord] = []
            for bytes in messages {
                records += try verifier.verify(bytes).answers
            }
            try verifier.finish()
            #expect(records.count == Self.bigRecordCount + 4)
            #expect(records.filter { $0.type == .txt }.count == Self.bigRecordCount)

            // Change one TXT octet in the third message: that message (or the next signed one) fails.
            var tampered = messages
            let target = 2
            tampered[target][tampered[target].count - 200] ^= 0x20
            var strict = TSIGResponseVerifier(key: Self.key256, requestMAC: request.mac)
            var caught = false
            for bytes in tampered {
                do { _ = try strict.verify(bytes) } catch {
                    caught = true
                    break
                }
            }
            #expect(caught)

            let unsigned = try transfer(DNSMessage.query(id: 401, name: Self.bigZone, type: .axfr).encode(), port: named.port)
            #expect(try DNSMessage.decode(try #require(unsigned.first)).rcode == .refused)
        }
    }
}

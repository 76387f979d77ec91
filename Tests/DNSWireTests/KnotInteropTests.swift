import DNSModel
import DNSWire
import Foundation
import Testing

/// The same checks against Knot DNS, which compresses and splits transfers its own way.
@Suite("Interop with Knot DNS (knotd)", .serialized)
struct KnotInteropTests {
    static let key = NamedInteropTests.key512

    @Test("Knot's AXFR decodes to the zone's records; its TSIG-signed AXFR verifies")
    func transfers() throws {
        let knot = try KnotServer(zones: [
            KnotServer.Zone(name: "example.com", text: try InteropZone.zoneText(), transferKey: nil),
            KnotServer.Zone(name: "big.test", text: InteropZone.bigZoneText(records: 3000), transferKey: Self.key),
        ])
        defer { knot.stop() }
        let expected = try InteropZone.records()

        let soaReply = try #require(try LoopbackDNS.udp(DNSMessage.query(id: 7, name: InteropZone.origin, type: .soa).encode(), port: knot.port))
        let soa = try DNSMessage.decode(soaReply)
        #expect(try soa.answers.map { try $0.resourceRecord() } == [expected[0]])

        var soaCount = 0
        let messages = try LoopbackDNS.tcp(DNSMessage.query(id: 8, name: InteropZone.origin, type: .axfr).encode(), port: knot.port) { bytes in
            soaCount += (try? DNSMessage.decode(bytes))?.answers.count { $0.type == .soa } ?? 2
            return soaCount >= 2
        }
        let records = try messages.flatMap { try DNSMessage.decode($0).answers }.map { try $0.resourceRecord() }
        #expect(Set(records.dropLast()) == Set(expected))
        #expect(records.count - 1 == expected.count)

        let request = try TSIG.signRequest(DNSMessage.query(id: 9, name: name("big.test."), type: .axfr).encode(), key: Self.key)
        soaCount = 0
        let signed = try LoopbackDNS.tcp(request.bytes, port: knot.port, timeout: 20) { bytes in
            guard let message = try? DNSMessage.decode(bytes), message.rcode == .noError else { return true }
            soaCount += message.answers.count { $0.type == .soa }
            return soaCount >= 2
        }
        #expect(signed.count > 1)
        var verifier = TSIGResponseVerifier(key: Self.key, requestMAC: request.mac)
        var transferred = 0
        for bytes in signed { transferred += try verifier.verify(bytes).answers.count }
        try verifier.finish()
        #expect(transferred == 3000 + 4)

        // Without the key Knot refuses the transfer.
        let refused = try LoopbackDNS.tcp(DNSMessage.query(id: 10, name: name("big.test."), type: .axfr).encode(), port: knot.port) { _ in true }
        #expect(try DNSMessage.decode(try #require(refused.first)).rcode != .noError)
    }
}

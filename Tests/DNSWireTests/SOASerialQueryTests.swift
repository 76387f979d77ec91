import Foundation
@testable import IntegrationHarness
import Testing

/// The harness's hand-written SOA reader against a real named reply, and against the odd
/// replies a server in trouble (or a test's fake one) may send: it must say nil, not crash or
/// hang.
@Suite("SecondaryServer SOA query")
struct SOASerialQueryTests {
    static let zone = "odd.test"

    static func realReply() throws -> [UInt8] {
        let named = try NamedServer(
            zones: [.init(name: zone, text: SecondaryServerTests.zoneText(zone, serial: 42), options: "")], keys: [])
        defer { named.stop() }
        let labels = try #require(SOASerialQuery.labels(of: zone + "."))
        return try #require(try LoopbackDNS.udp(SOASerialQuery.query(id: 0x1234, labels: labels), port: named.port))
    }

    @Test func readsNamedsAnswerAndRefusesDamagedCopies() throws {
        let reply = try Self.realReply()
        let labels = try #require(SOASerialQuery.labels(of: "ODD.test."))
        #expect(SOASerialQuery.serial(in: reply, zone: labels) == 42)
        #expect(SOASerialQuery.serial(in: reply, zone: try #require(SOASerialQuery.labels(of: "other.test."))) == nil)

        // Cut anywhere: never a crash, never a wrong serial; nothing before the SOA's serial is complete.
        for length in 0..<reply.count {
            let serial = SOASerialQuery.serial(in: Array(reply[0..<length]), zone: labels)
            #expect(serial == nil || serial == 42)
            if length < 12 + 14 + 12 { #expect(serial == nil) }
        }

        var notAuthoritative = reply
        notAuthoritative[2] &= ~0x04
        #expect(SOASerialQuery.serial(in: notAuthoritative, zone: labels) == nil)
        var refused = reply
        refused[3] = (refused[3] & 0xf0) | 5
        #expect(SOASerialQuery.serial(in: refused, zone: labels) == nil)
        var query = reply
        query[2] &= ~0x80
        #expect(SOASerialQuery.serial(in: query, zone: labels) == nil)
    }

    @Test func survivesLoopsAndNoise() throws {
        let labels = try #require(SOASerialQuery.labels(of: Self.zone + "."))
        // One answer whose owner name points at itself.
        let loop: [UInt8] = [0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 0]
        #expect(SOASerialQuery.serial(in: loop, zone: labels) == nil)
        // An answer claiming more RDATA than the message holds.
        let long: [UInt8] = [0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 6, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 0]
        #expect(SOASerialQuery.serial(in: long, zone: []) == nil)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var noise = (0..<Int.random(in: 0..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if noise.count > 3 { noise[2] = 0x84; noise[3] = 0 }
            _ = SOASerialQuery.serial(in: noise, zone: labels)
        }
    }

    /// Over the network: a reply with another id is not taken for the answer, a REFUSED is
    /// "not served", and a closed port is "no reply" at once.
    @Test func exchangeMatchesIdAndRcode() throws {
        let wrongID = try LoopbackDNSServer(port: FreePort.tcpAndUDP()) { request, _ in
            var reply = request
            reply[0] ^= 0xff
            reply[2] |= 0x84
            return [reply]
        }
        defer { wrongID.stop() }
        let started = Date()
        #expect(SOASerialQuery.ask(zone: Self.zone, port: wrongID.port, timeout: 0.5) == .noReply)
        #expect(Date().timeIntervalSince(started) < 3)

        let refusing = try LoopbackDNSServer(port: FreePort.tcpAndUDP()) { request, _ in
            var reply = request
            reply[2] |= 0x84
            reply[3] = 5
            return [reply]
        }
        defer { refusing.stop() }
        #expect(SOASerialQuery.ask(zone: Self.zone, port: refusing.port, timeout: 1) == .notServed)
        #expect(SOASerialQuery.answers(zone: Self.zone, port: refusing.port, timeout: 1))

        #expect(SOASerialQuery.ask(zone: Self.zone, port: FreePort.tcpAndUDP(), timeout: 1) == .noReply)
    }
}

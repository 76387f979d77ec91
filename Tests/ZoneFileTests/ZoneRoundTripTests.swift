import DNSModel
import Foundation
import Testing
@testable import ZoneFile

/// Property-style: random valid rrsets (odd owner octets, every type, random TTLs), rendered
/// and parsed back, are the same rrsets. Seeded, so a failure repeats.
@Suite struct ZoneRoundTripTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let apex = try! DomainName(presentation: "random.example.", origin: nil)

    /// A label that is usually a plain host label, sometimes full of octets that need escapes.
    func label(_ rng: inout Generator) -> [UInt8] {
        let length = Int.random(in: 1...12, using: &rng)
        if Bool.random(using: &rng) {
            let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
            return (0..<length).map { _ in letters.randomElement(using: &rng)! }
        }
        // Any octet but '*' (wildcards only as a whole label) and upper case (folded anyway).
        return (0..<length).map { _ in
            var byte: UInt8
            repeat { byte = UInt8.random(in: 0...255, using: &rng) } while byte == UInt8(ascii: "*") || (byte >= 0x41 && byte <= 0x5A)
            return byte
        }
    }

    func owner(_ rng: inout Generator) throws -> DomainName {
        let depth = Int.random(in: 0...3, using: &rng)
        var labels = (0..<depth).map { _ in label(&rng) }
        if depth > 0 && Int.random(in: 0..<8, using: &rng) == 0 { labels[0] = [UInt8(ascii: "*")] }
        return try DomainName(wire: labels + Self.apex.labels)
    }

    /// A target host name: letters and digits, in the zone or outside it.
    func hostName(_ rng: inout Generator) throws -> DomainName {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        let labels = (0..<Int.random(in: 1...3, using: &rng)).map { _ in
            (0..<Int.random(in: 1...10, using: &rng)).map { _ in letters.randomElement(using: &rng)! }
        }
        return try DomainName(wire: labels + (Bool.random(using: &rng) ? Self.apex.labels : [Array("example".utf8), Array("net".utf8)]))
    }

    func octets(_ count: Int, _ rng: inout Generator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    func characterString(_ rng: inout Generator) -> [UInt8] {
        let data = octets(Int.random(in: 0...40, using: &rng), &rng)
        return [UInt8(data.count)] + data
    }

    func u16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    /// Random RDATA of a random type, built as wire and checked by `RData(type:wire:)`.
    func rdata(_ rng: inout Generator) throws -> RData {
        let name = try hostName(&rng)
        switch Int.random(in: 0..<15, using: &rng) {
        case 0: return try RData(type: .a, wire: octets(4, &rng))
        case 1: return try RData(type: .aaaa, wire: octets(16, &rng))
        case 2: return try RData(type: .mx, wire: u16(.random(in: 0...65535, using: &rng)) + name.wire)
        case 3:
            let count = Int.random(in: 1...3, using: &rng)
            return try RData(type: .txt, wire: (0..<count).flatMap { _ in characterString(&rng) })
        case 4: return try RData(type: .srv, wire: octets(6, &rng) + name.wire)
        case 5:
            let tags = ["issue", "issuewild", "iodef", "tag9"]
            let tag = Array(tags.randomElement(using: &rng)!.utf8)
            return try RData(type: .caa, wire: [UInt8.random(in: 0...255, using: &rng), UInt8(tag.count)] + tag + octets(Int.random(in: 0...30, using: &rng), &rng))
        case 6: return try RData(type: .cds, wire: octets(3, &rng) + [2] + octets(32, &rng))
        case 7: return try RData(type: .tlsa, wire: [3, 1, 1] + octets(32, &rng))
        case 8: return try RData(type: .sshfp, wire: [4, 2] + octets(32, &rng))
        case 9:
            return try RData(type: .naptr, wire: octets(4, &rng) + [1, UInt8(ascii: "S")] + characterString(&rng) + characterString(&rng) + name.wire)
        case 10: return try RData(type: .uri, wire: octets(4, &rng) + [UInt8(ascii: "x")] + octets(Int.random(in: 0...20, using: &rng), &rng))
        case 11:
            var wire: [UInt8] = [0, 0x12, 0x16, 0x13]
            wire.appendBigEndian(UInt32((1 << 31) + Int64.random(in: -324_000_000...324_000_000, using: &rng)))
            wire.appendBigEndian(UInt32((1 << 31) + Int64.random(in: -648_000_000...648_000_000, using: &rng)))
            wire.appendBigEndian(UInt32.random(in: 0...UInt32.max, using: &rng))
            return try RData(type: .loc, wire: wire)
        case 12:
            // ServiceMode with alpn, port and ipv4hint, keys in order.
            let alpn = characterString(&rng).dropFirst()
            let alpnValue = [UInt8(max(1, alpn.count))] + (alpn.isEmpty ? [UInt8(ascii: "h")] : Array(alpn))
            var wire = u16(.random(in: 1...65535, using: &rng)) + name.wire
            wire += u16(1) + u16(UInt16(alpnValue.count)) + alpnValue
            wire += u16(3) + u16(2) + octets(2, &rng)
            wire += u16(4) + u16(8) + octets(8, &rng)
            return try RData(type: .https, wire: wire)
        case 13: return try RData(type: RRType(rawValue: UInt16.random(in: 65280...65534, using: &rng)), wire: octets(Int.random(in: 0...20, using: &rng), &rng))
        default: return try RData(type: .ptr, wire: name.wire)
        }
    }

    func randomZone(seed: UInt64) throws -> [RRset] {
        var rng = Generator(state: seed)
        let soa = SOAData(mname: try DomainName(presentation: "ns1.example.net.", origin: nil),
                          rname: try DomainName(presentation: "hostmaster.random.example.", origin: nil),
                          serial: ZoneSerial(rawValue: UInt32.random(in: 0...UInt32.max, using: &rng)),
                          refresh: 7200, retry: 3600, expire: 1_209_600, minimum: 300)
        var sets: [RRsetKey: RRset] = [:]
        sets[RRsetKey(owner: Self.apex, type: .soa)] = RRset(owner: Self.apex, type: .soa, ttl: 3600, rdatas: [soa.rdata])
        sets[RRsetKey(owner: Self.apex, type: .ns)] = RRset(owner: Self.apex, type: .ns, ttl: 3600, rdatas: [
            try RData.parse(type: .ns, text: "ns1.example.net.", origin: nil, mode: .api),
        ])
        for _ in 0..<200 {
            let data = try rdata(&rng)
            // A, AAAA and MX owners must be host names (owner-not-hostname).
            let hostOwner = data.type == .a || data.type == .aaaa || data.type == .mx
            var name = try owner(&rng)
            if hostOwner && ZoneRules.hostNameProblem(name, allowWildcard: true) != nil {
                name = try DomainName(wire: [Array("h\(Int.random(in: 0...99, using: &rng))".utf8)] + Self.apex.labels)
            }
            let key = RRsetKey(owner: name, type: data.type)
            if var existing = sets[key] {
                if !existing.rdatas.contains(data) { existing.rdatas.append(data) }
                sets[key] = existing
            } else {
                let ttl = [UInt32(0), 60, 3600, 86400, TimeToLive.maximum].randomElement(using: &rng)!
                sets[key] = RRset(owner: name, type: data.type, ttl: ttl, rdatas: [data])
            }
        }
        return Array(sets.values)
    }

    struct RRsetKey: Hashable {
        let owner: DomainName
        let type: RRType
    }

    @Test(arguments: [1, 2, 3, 42, 2024] as [UInt64])
    func randomRRsetsRenderAndParseBackToThemselves(seed: UInt64) throws {
        let rrsets = try randomZone(seed: seed)
        #expect(ZoneRules.check(apex: Self.apex, rrsets: rrsets).isEmpty)
        let renderer = ZoneFileRenderer(origin: Self.apex, defaultTTL: 3600)
        let text = renderer.render(zone: rrsets)
        let zone = try ZoneFileParser.parse(text, origin: Self.apex).get()
        #expect(zone.warnings.isEmpty)
        #expect(Set(zone.rrsets.map(sortedByWire)) == Set(rrsets.map(sortedByWire)), "\(String(decoding: text, as: UTF8.self))")
    }

    /// RRsets compare with their records in one order.
    func sortedByWire(_ rrset: RRset) -> RRset {
        var copy = rrset
        copy.rdatas.sort { $0.wire.lexicographicallyPrecedes($1.wire) }
        return copy
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
}

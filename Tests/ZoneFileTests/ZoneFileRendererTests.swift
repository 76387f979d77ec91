import DNSModel
import Testing
@testable import ZoneFile

@Suite struct ZoneFileRendererTests {
    let apex = try! DomainName(presentation: "example.com.", origin: nil)

    func rrset(_ owner: String, _ type: RRType, ttl: UInt32 = 3600, _ data: String...) throws -> RRset {
        RRset(owner: try DomainName(presentation: owner, origin: apex), type: type, ttl: ttl,
              rdatas: try data.map { try RData.parse(type: type, text: $0, origin: apex, mode: .api) })
    }

    @Test func headerOrderRelativeNamesAndTTLColumn() throws {
        let renderer = ZoneFileRenderer(origin: apex, defaultTTL: 3600)
        let zone = [
            try rrset("www", .a, "192.0.2.1"),
            try rrset("@", .mx, "10 mail.example.com.", "20 mx.example.net."),
            try rrset("b.a", .txt, ttl: 60, "\"say \\\"hi\\\"\""),
            try rrset("@", .ns, "ns1.example.com.", "ns2.example.net."),
            try rrset("a", .a, "192.0.2.2"),
            try rrset("@", .soa, "ns1 hostmaster 1 7200 3600 1209600 300"),
        ]
        let text = String(decoding: renderer.render(zone: zone), as: UTF8.self)
        #expect(text == """
            $ORIGIN example.com.
            $TTL 3600
            @\tIN\tSOA\tns1 hostmaster 1 7200 3600 1209600 300
            @\tIN\tNS\tns1
            @\tIN\tNS\tns2.example.net.
            @\tIN\tMX\t10 mail
            @\tIN\tMX\t20 mx.example.net.
            a\tIN\tA\t192.0.2.2
            b.a\t60\tIN\tTXT\t"say \\"hi\\""
            www\tIN\tA\t192.0.2.1

            """)
    }

    @Test func ownersThatLookLikeSyntaxAreEscaped() throws {
        let renderer = ZoneFileRenderer(origin: apex, defaultTTL: 3600)
        let dollar = RRset(owner: try DomainName(wire: [Array("$ttl".utf8)] + apex.labels), type: .txt, ttl: 3600,
                           rdatas: [try RData.parse(type: .txt, text: "1", origin: nil, mode: .api)])
        let at = RRset(owner: try DomainName(wire: [Array("@".utf8)] + apex.labels), type: .txt, ttl: 3600,
                       rdatas: [try RData.parse(type: .txt, text: "2", origin: nil, mode: .api)])
        let spaced = RRset(owner: try DomainName(wire: [Array("a b;c".utf8)] + apex.labels), type: .txt, ttl: 3600,
                           rdatas: [try RData.parse(type: .txt, text: "3", origin: nil, mode: .api)])
        let lines = String(decoding: renderer.render(dollar) + renderer.render(at) + renderer.render(spaced), as: UTF8.self)
        #expect(lines == "\\$ttl\tIN\tTXT\t\"1\"\n\\@\tIN\tTXT\t\"2\"\na\\032b\\;c\tIN\tTXT\t\"3\"\n")
        // And they read back as the same names.
        let soa = "@ SOA ns1.example.net. h 1 2 3 4 5\n@ NS ns1.example.net.\n"
        let parsed = try ZoneFileParser.parse(renderer.header() + Array(soa.utf8) + Array(lines.utf8), origin: apex).get()
        #expect(Set(parsed.rrsets.map(\.owner)).isSuperset(of: [dollar.owner, at.owner, spaced.owner]))
    }

    @Test func renderingIsStreamedRRsetByRRset() throws {
        let renderer = ZoneFileRenderer(origin: apex, defaultTTL: 300)
        let set = try rrset("x", .a, ttl: 300, "192.0.2.1", "192.0.2.2")
        var buffer = renderer.header()
        let headerCount = buffer.count
        renderer.render(set, into: &buffer)
        #expect(Array(buffer[headerCount...]) == renderer.render(set))
        #expect(String(decoding: renderer.render(set), as: UTF8.self) == "x\tIN\tA\t192.0.2.1\nx\tIN\tA\t192.0.2.2\n")
    }
}

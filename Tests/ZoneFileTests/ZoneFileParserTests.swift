import DNSModel
import Testing
@testable import ZoneFile

@Suite struct ZoneFileParserTests {
    let apex = try! DomainName(presentation: "example.com.", origin: nil)

    func parse(_ text: String) -> Result<ParsedZone, ZoneFileErrors> {
        ZoneFileParser.parse(Array(text.utf8), origin: apex)
    }

    func zone(_ text: String) throws -> ParsedZone {
        try parse(text).get()
    }

    func errors(_ text: String) -> [ZoneFileError] {
        if case .failure(let failure) = parse(text) { return failure.errors }
        return []
    }

    func records(_ zone: ParsedZone) -> [String] {
        zone.records.map { "\($0.owner) \($0.ttl) \($0.type) \($0.rdata.presentation())" }
    }

    static let head = """
        $ORIGIN example.com.
        $TTL 1h
        @ IN SOA ns1.example.net. hostmaster 1 7200 3600 1209600 300
          IN NS ns1.example.net.

        """

    @Test func ownersTTLsClassesAndParentheses() throws {
        let parsed = try zone(Self.head + """
            www 300 IN A 192.0.2.1
                IN 600 AAAA 2001:db8::1
            mail A 192.0.2.2 ; comment
            txt TXT ( "one"
                      "two" ) ; split over lines
            ttl1 1h30m A 192.0.2.3
            ttl2 2W in a 192.0.2.4
            $ORIGIN sub.example.com.
            deep A 192.0.2.5
            @ MX 10 mail.example.com.
            """)
        #expect(records(parsed).dropFirst(2) == [
            "www.example.com. 300 A 192.0.2.1",
            "www.example.com. 600 AAAA 2001:db8::1",
            "mail.example.com. 3600 A 192.0.2.2",
            "txt.example.com. 3600 TXT \"one\" \"two\"",
            "ttl1.example.com. 5400 A 192.0.2.3",
            "ttl2.example.com. 1209600 A 192.0.2.4",
            "deep.sub.example.com. 3600 A 192.0.2.5",
            "sub.example.com. 3600 MX 10 mail.example.com.",
        ])
        // RRsets come out in zone order: SOA, apex NS, then canonical order.
        #expect(parsed.rrsets.map(\.type).prefix(2) == [.soa, .ns])
        #expect(parsed.rrsets.map { $0.owner.description }.dropFirst(2) == [
            "mail.example.com.", "sub.example.com.", "deep.sub.example.com.", "ttl1.example.com.",
            "ttl2.example.com.", "txt.example.com.", "www.example.com.", "www.example.com.",
        ])
    }

    @Test func withoutDollarTTLTheSOAMinimumIsTheDefault() throws {
        let parsed = try zone("""
            @ IN SOA ns1.example.net. hostmaster 1 7200 3600 1209600 300
              IN NS ns1.example.net.
            a A 192.0.2.1
            """)
        #expect(parsed.records.map(\.ttl) == [300, 300, 300])
        #expect(errors("a A 192.0.2.1\n@ SOA ns1.example.net. h 1 2 3 4 5\n@ NS ns.example.net.\n").map(\.rule) == ["missing-ttl"])
    }

    @Test func duplicatesAndTTLMismatchesAreWarnings() throws {
        let parsed = try zone(Self.head + """
            a 300 A 192.0.2.1
            a 600 A 192.0.2.2
            a A 192.0.2.2
            """)
        #expect(parsed.warnings.map(\.rule) == ["rrset-ttl-mismatch", "duplicate-record"])
        #expect(parsed.warnings.map(\.line) == [6, 7])
        let set = try #require(parsed.rrsets.first { $0.owner.description == "a.example.com." })
        #expect(set.ttl == 600)
        #expect(set.rdatas.count == 2)
    }

    @Test func directivesThatAreRefused() {
        let found = errors(Self.head + """
            $INCLUDE other.zone
            $GENERATE 1-10 host$ A 192.0.2.$
            $FOO bar
            """)
        #expect(found.map(\.rule) == ["directive-not-supported", "directive-not-supported", "unknown-directive"])
        #expect(found.map(\.line) == [5, 6, 7])
        #expect(found[0].message.contains("$INCLUDE"))
    }

    @Test func everyErrorIsReportedWithLineColumnAndRule() {
        let found = errors(Self.head + """
            a A 192.0.2.300
            b MX 10
            c CH A 192.0.2.1
            d BOGUS x
            e TXT "\(String(repeating: "x", count: 256))"
            f..g A 192.0.2.1
            h 99999999999 A 192.0.2.1
            i CNAME j
            i A 192.0.2.9
            """)
        #expect(found.map(\.rule) == ["bad-rdata", "bad-rdata", "class-not-in", "unknown-type", "bad-rdata", "bad-name", "bad-ttl", "cname-and-other-data"])
        #expect(found.map(\.line) == [5, 6, 7, 8, 9, 10, 11, 13])
        #expect(found[0].column == 5)
        #expect(found[0].message.contains("192.0.2.300"))
    }

    @Test func zoneLevelProblems() {
        #expect(errors("$TTL 1h\na A 192.0.2.1\n").map(\.rule) == ["missing-soa"])
        #expect(errors("$TTL 1h\n@ SOA ns1.example.net. h 1 2 3 4 5\n").map(\.rule) == ["missing-ns"])
        #expect(errors(Self.head + "@ SOA ns2.example.net. h 2 2 3 4 5\n").map(\.rule) == ["multiple-soa"])
        #expect(errors(Self.head + "x SOA ns2.example.net. h 2 2 3 4 5\n").map(\.rule) == ["soa-not-at-apex"])
        #expect(errors(Self.head + "www.example.org. A 192.0.2.1\n").map(\.rule) == ["out-of-zone"])
    }

    @Test func blankOwnerWithoutAPreviousRecord() {
        let found = errors("$TTL 1h\n  A 192.0.2.1\n@ SOA ns1.example.net. h 1 2 3 4 5\n@ NS ns.example.net.\n")
        #expect(found.map(\.rule) == ["missing-owner"])
        #expect(found.map(\.line) == [2])
    }
}

import DNSModel
import Testing

@Suite struct ZoneRulesTests {
    let apex = try! DomainName(presentation: "example.com.", origin: nil)

    func rrset(_ owner: String, _ type: RRType, _ data: String..., ttl: UInt32 = 3600) throws -> RRset {
        let name = try DomainName(presentation: owner, origin: apex)
        let rdatas = try data.map { try RData.parse(type: type, text: $0, origin: apex, mode: .api) }
        return RRset(owner: name, type: type, ttl: ttl, rdatas: rdatas)
    }

    func rules(_ rrsets: [RRset]) -> [String] {
        ZoneRules.check(apex: apex, rrsets: rrsets).map(\.rule).sorted()
    }

    var baseline: [RRset] {
        get throws {
            [
                try rrset("@", .soa, "ns1.example.net. hostmaster 1 7200 3600 1209600 300"),
                try rrset("@", .ns, "ns1.example.net.", "ns2.example.net."),
                try rrset("@", .a, "192.0.2.1"),
                try rrset("@", .mx, "10 mail", "0 ."),
                try rrset("mail", .a, "192.0.2.2"),
                try rrset("www", .cname, "@"),
                try rrset("sub", .ns, "ns.sub"),
                try rrset("sub", .ds, "60485 8 2 \(String(repeating: "AB", count: 32))"),
                try rrset("ns.sub", .a, "192.0.2.53"),
                try rrset("old", .dname, "new.example.net."),
                try rrset("_sip._tcp", .srv, "10 60 5060 sip"),
                try rrset("_dmarc", .txt, "\"v=DMARC1\""),
            ]
        }
    }

    @Test func aValidZoneBreaksNoRule() throws {
        #expect(ZoneRules.check(apex: apex, rrsets: try baseline).isEmpty)
    }

    @Test func eachRuleNamesTheRecordAndTheRule() throws {
        let cases: [(RRset, String, String)] = [
            (try rrset("www", .a, "192.0.2.9"), "cname-and-other-data", "www.example.com."),
            (try rrset("@", .cname, "other.example.net."), "cname-at-apex", "example.com."),
            (try rrset("old", .cname, "x.example.net."), "cname-and-dname", "old.example.com."),
            (try rrset("host.sub", .txt, "\"x\""), "occluded-by-delegation", "host.sub.example.com."),
            (try rrset("sub", .mx, "10 mail"), "occluded-by-delegation", "sub.example.com."),
            (try rrset("a.old", .a, "192.0.2.3"), "occluded-by-dname", "a.old.example.com."),
            (try rrset("www.example.net.", .a, "192.0.2.4"), "out-of-zone", "www.example.net."),
            (try rrset("dup", .a, "192.0.2.5", "192.0.2.5"), "duplicate-record", "dup.example.com."),
            (try rrset("t", .a, "192.0.2.6", ttl: 2_147_483_648), "ttl-out-of-range", "t.example.com."),
            (try rrset("m", .mx, "10 _mail.example.net."), "target-not-hostname", "m.example.com."),
            (try rrset("n", .ns, "*.example.net."), "target-not-hostname", "n.example.com."),
            (try rrset("n2", .ns, "."), "target-not-hostname", "n2.example.com."),
            (try rrset("_x", .a, "192.0.2.10"), "owner-not-hostname", "_x.example.com."),
            (try rrset("-mx", .mx, "10 mail"), "owner-not-hostname", "-mx.example.com."),
            (try rrset("two", .cname, "a.example.net.", "b.example.net."), "multiple-cname", "two.example.com."),
            (try rrset("nods", .ds, "1 8 2 \(String(repeating: "AB", count: 32))"), "ds-without-delegation", "nods.example.com."),
            (try rrset("@", .ds, "1 8 2 \(String(repeating: "AB", count: 32))"), "ds-without-delegation", "example.com."),
            (try rrset("www2", .soa, "ns1.example.net. hostmaster 1 2 3 4 5"), "soa-not-at-apex", "www2.example.com."),
        ]
        for (added, rule, owner) in cases {
            let violations = ZoneRules.check(apex: apex, rrsets: try baseline + [added])
            #expect(violations.map(\.rule) == [rule], "adding \(added.owner) \(added.type)")
            #expect(violations.first?.owner.description == owner)
            #expect(violations.first?.message.isEmpty == false)
        }
    }

    @Test func glueBelowADelegationIsAllowed() throws {
        let zone = try baseline + [try rrset("ns2.sub", .aaaa, "2001:db8::53"), try rrset("sub", .a, "192.0.2.54")]
        #expect(rules(zone) == [])
    }

    @Test func workOnASubsetOfTheZone() throws {
        // Only the rrsets at and around one changed name.
        let subset = [try rrset("www", .cname, "@"), try rrset("www", .txt, "\"x\"")]
        #expect(rules(subset) == ["cname-and-other-data"])
        #expect(rules([try rrset("www", .cname, "@")]) == [])
    }

    @Test func hostNames() throws {
        #expect(ZoneRules.hostNameProblem(try DomainName(presentation: "mail-1.example.com.", origin: nil)) == nil)
        #expect(ZoneRules.hostNameProblem(try DomainName(presentation: "1mail.example.com.", origin: nil)) == nil)
        #expect(ZoneRules.hostNameProblem(try DomainName(presentation: "-mail.example.com.", origin: nil)) != nil)
        #expect(ZoneRules.hostNameProblem(try DomainName(presentation: "mail_1.example.com.", origin: nil)) != nil)
    }
}

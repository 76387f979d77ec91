import DNSModel
import Testing

/// One record's data as a user might write it, and the canonical form zonectl gives back.
struct RDataExample: CustomTestStringConvertible, Sendable {
    let type: RRType
    let input: String
    let canonical: String

    init(_ type: RRType, _ input: String, _ canonical: String? = nil) {
        self.type = type
        self.input = input
        self.canonical = canonical ?? input
    }

    var testDescription: String { "\(type) \(input)" }
}

/// Data that must be refused, and a piece of the message that says why.
struct RDataRefusal: CustomTestStringConvertible, Sendable {
    let type: RRType
    let input: String
    let fragment: String

    init(_ type: RRType, _ input: String, _ fragment: String) {
        self.type = type
        self.input = input
        self.fragment = fragment
    }

    var testDescription: String { "\(type) \(input)" }
}

let origin = try! DomainName(presentation: "example.com.", origin: nil)

let digest32 = String(repeating: "ab", count: 32)
let digest20 = String(repeating: "0f", count: 20)

/// Every supported type, with the canonical form of what was typed.
let canonicalExamples: [RDataExample] = [
    RDataExample(.a, "192.0.2.1"),
    RDataExample(.a, "0.0.0.0"),
    RDataExample(.a, "255.255.255.255"),
    RDataExample(.aaaa, "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    RDataExample(.aaaa, "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    RDataExample(.aaaa, "2001:0db8:0000:0001:0000:0000:0000:0001", "2001:db8:0:1::1"),
    RDataExample(.aaaa, "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    RDataExample(.aaaa, "::", "::"),
    RDataExample(.aaaa, "::1"),
    RDataExample(.aaaa, "fe80::"),
    RDataExample(.aaaa, "::ffff:192.0.2.1"),
    RDataExample(.aaaa, "::FFFF:C000:0201", "::ffff:192.0.2.1"),
    RDataExample(.aaaa, "64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    RDataExample(.cname, "Target.Example.NET.", "target.example.net."),
    RDataExample(.cname, "www", "www.example.com."),
    RDataExample(.dname, "target.example.net."),
    RDataExample(.ns, "ns1.example.net."),
    RDataExample(.ptr, "host.example.com."),
    RDataExample(.mx, "10 mail", "10 mail.example.com."),
    RDataExample(.mx, "0 .", "0 ."),
    RDataExample(.txt, "\"v=spf1 -all\""),
    RDataExample(.txt, "unquoted", "\"unquoted\""),
    RDataExample(.txt, "\"a\" \"b\" \"\"", "\"a\" \"b\" \"\""),
    RDataExample(.txt, "\"with \\\"quotes\\\" and \\\\\"", "\"with \\\"quotes\\\" and \\\\\""),
    RDataExample(.txt, "\"semi\\059colon\"", "\"semi;colon\""),
    RDataExample(.txt, "\"caf\\195\\169\"", "\"caf\\195\\169\""),
    RDataExample(.txt, "\"café\"", "\"caf\\195\\169\""),
    RDataExample(.txt, "\"tab\\009x\"", "\"tab\\009x\""),
    RDataExample(.srv, "10 60 5060 sip.example.com."),
    RDataExample(.srv, "0 0 0 ."),
    RDataExample(.caa, "0 issue \"letsencrypt.org\""),
    RDataExample(.caa, "128 issue \"ca.example.net; account=230123\""),
    RDataExample(.caa, "0 iodef \"mailto:security@example.com\""),
    RDataExample(.caa, "0 issuewild \";\""),
    RDataExample(.caa, "0 issue letsencrypt.org", "0 issue \"letsencrypt.org\""),
    RDataExample(.soa, "ns1.example.net. hostmaster.example.com. 2024010101 7200 3600 1209600 300"),
    RDataExample(.soa, "ns1 admin\\.ops 1 3h 1h 2w 5m", "ns1.example.com. admin\\.ops.example.com. 1 10800 3600 1209600 300"),
    RDataExample(.ds, "60485 8 2 \(digest32.uppercased())"),
    RDataExample(.ds, "60485 8 2 \(digest32)", "60485 8 2 \(digest32.uppercased())"),
    RDataExample(.ds, "60485 8 2 \(digest32.prefix(20)) \(digest32.dropFirst(20))", "60485 8 2 \(digest32.uppercased())"),
    RDataExample(.ds, "1 13 1 \(digest20)", "1 13 1 \(digest20.uppercased())"),
    RDataExample(.ds, "1 13 4 \(String(repeating: "12", count: 48))"),
    RDataExample(.tlsa, "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"),
    RDataExample(.tlsa, "3 1 2 \(String(repeating: "AB", count: 64))"),
    RDataExample(.tlsa, "3 0 0 3082", "3 0 0 3082"),
    RDataExample(.sshfp, "4 2 \(digest32.uppercased())"),
    RDataExample(.sshfp, "1 1 \(digest20)", "1 1 \(digest20.uppercased())"),
    RDataExample(.naptr, "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."),
    RDataExample(.naptr, "100 50 \"a\" \"z3950+N2L+N2C\" \"!^urn:cid:.+@([^\\\\.]+\\\\.)(.*)$!\\\\2!i\" ."),
    RDataExample(.uri, "10 1 \"https://www.example.com/\""),
    RDataExample(.uri, "10 1 ftp://ftp1.example.com/public", "10 1 \"ftp://ftp1.example.com/public\""),
    RDataExample(.loc, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
    RDataExample(.loc, "52 22 23 N 4 53 32 E -2m 0m", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
    RDataExample(.loc, "42 21 54 N 71 06 18 W -24m 30m", "42 21 54.000 N 71 6 18.000 W -24.00m 30m 10000m 10m"),
    RDataExample(.loc, "32 7 19 S 116 2 25 E 10m", "32 7 19.000 S 116 2 25.000 E 10.00m 1m 10000m 10m"),
    RDataExample(.loc, "90 S 180 W 0m 1m 1m 1m", "90 0 0.000 S 180 0 0.000 W 0.00m 1m 1m 1m"),
    RDataExample(.loc, "0 0 0.5 N 0 0 0.25 E 42849672.95m 0.5m 90000000m 0.01m", "0 0 0.500 N 0 0 0.250 E 42849672.95m 0.50m 90000000m 0.01m"),
    RDataExample(.svcb, "1 svc-host.example.com. port=8443 alpn=h2", "1 svc-host.example.com. alpn=\"h2\" port=8443"),
    RDataExample(.svcb, "0 target.example.net."),
    RDataExample(.https, "1 . alpn=\"h2,h3\" ipv4hint=192.0.2.10", "1 . alpn=\"h2,h3\" ipv4hint=192.0.2.10"),
    RDataExample(.https, "1 . mandatory=port,alpn port=443 alpn=h3 no-default-alpn ipv6hint=2001:DB8::1,2001:db8::2", "1 . mandatory=alpn,port alpn=\"h3\" no-default-alpn port=443 ipv6hint=2001:db8::1,2001:db8::2"),
    RDataExample(.https, "1 . ech=AEX+DQBBpQAgACB/RRp5 key65000=\"hello\\032world\" key7=/dns-query{?dns}", "1 . ech=\"AEX+DQBBpQAgACB/RRp5\" key7=\"/dns-query{?dns}\" key65000=\"hello world\""),
    RDataExample(.https, "1 . alpn=\"a\\\\\\\\,b,c\"", "1 . alpn=\"a\\\\\\\\,b,c\""),
    RDataExample(.hinfo, "\"PC\" \"Linux\""),
    RDataExample(RRType(rawValue: 65280), "\\# 4 0A000001"),
    RDataExample(RRType(rawValue: 65280), "\\# 0"),
    RDataExample(.openpgpkey, "\\# 3 abcdef", "\\# 3 ABCDEF"),
    // RFC 3597 form of a known type becomes its own canonical form.
    RDataExample(.a, "\\# 4 C0000201", "192.0.2.1"),
    RDataExample(.cname, "\\# 17 03777777076578616D706C6503636F6D00", "www.example.com."),
    RDataExample(.ns, "\\# 17 03575757076578616D706C6503636F6D00", "www.example.com."),
]

let refusals: [RDataRefusal] = [
    RDataRefusal(.a, "1.2.3", "not an IPv4 address"),
    RDataRefusal(.a, "192.0.2.300", "not an IPv4 address"),
    RDataRefusal(.a, "010.1.1.1", "not an IPv4 address"),
    RDataRefusal(.a, "0x7f.0.0.1", "not an IPv4 address"),
    RDataRefusal(.a, "1.2.3.4.5", "not an IPv4 address"),
    RDataRefusal(.a, "192.0.2.1 192.0.2.2", "unexpected"),
    RDataRefusal(.a, "", "ends before"),
    RDataRefusal(.a, "\"192.0.2.1\"", "must not be quoted"),
    RDataRefusal(.aaaa, "2001:db8::1::1", "not an IPv6 address"),
    RDataRefusal(.aaaa, "2001:db8:1", "not an IPv6 address"),
    RDataRefusal(.aaaa, "12345::1", "not an IPv6 address"),
    RDataRefusal(.aaaa, "1:2:3:4:5:6:7:8:9", "not an IPv6 address"),
    RDataRefusal(.aaaa, "192.0.2.1", "not an IPv6 address"),
    RDataRefusal(.aaaa, "fe80::1%eth0", "not an IPv6 address"),
    RDataRefusal(.aaaa, ":1:2:3:4:5:6:7", "not an IPv6 address"),
    RDataRefusal(.aaaa, "::ffff:1.2.3", "not an IPv6 address"),
    RDataRefusal(.mx, "65536 mail.example.com.", "out of range"),
    RDataRefusal(.mx, "-1 mail.example.com.", "not a decimal number"),
    RDataRefusal(.mx, "10", "ends before its mail exchange"),
    RDataRefusal(.mx, "10 a..b.", "not a domain name"),
    RDataRefusal(.cname, "a.*.example.", "wildcard"),
    RDataRefusal(.srv, "10 60 70000 sip.example.com.", "out of range"),
    RDataRefusal(.txt, "\"\(String(repeating: "x", count: 256))\"", "at most 255"),
    RDataRefusal(.txt, "\"bad \\300 escape\"", "not an octet"),
    RDataRefusal(.caa, "256 issue \"x\"", "out of range"),
    RDataRefusal(.caa, "0 is-sue \"x\"", "letters and digits"),
    RDataRefusal(.caa, "0 issue \"a\" \"b\"", "one field"),
    RDataRefusal(.ds, "60485 8 2 ABCD", "needs 32 octets"),
    RDataRefusal(.ds, "60485 8 1 \(digest32)", "needs 20 octets"),
    RDataRefusal(.ds, "60485 8 4 \(digest32)", "needs 48 octets"),
    RDataRefusal(.ds, "60485 8 2 \(digest32.dropLast())", "odd number"),
    RDataRefusal(.ds, "60485 8 2 \(digest32.dropLast(2))zz", "not a hex digit"),
    RDataRefusal(.ds, "60485 8 2", "ends before its digest"),
    RDataRefusal(.tlsa, "3 1 1 ABCD", "needs 32 octets"),
    RDataRefusal(.tlsa, "3 1 2 \(digest32)", "needs 64 octets"),
    RDataRefusal(.sshfp, "1 1 \(digest32)", "needs 20 octets"),
    RDataRefusal(.sshfp, "4 2 \(digest20)", "needs 32 octets"),
    RDataRefusal(.naptr, "100 10 \"S+\" \"SIP+D2U\" \"\" .", "letters and digits"),
    RDataRefusal(.uri, "10 1 \"\"", "must not be empty"),
    RDataRefusal(.soa, "ns1.example.net. host.example.com. 1 2 3 4", "ends before its minimum"),
    RDataRefusal(.soa, "ns1.example.net. host.example.com. 4294967296 2 3 4 5", "out of range"),
    RDataRefusal(.soa, "ns1.example.net. host.example.com. 1 2x 3 4 5", "not a time"),
    RDataRefusal(.loc, "91 N 0 E 0m", "0…90"),
    RDataRefusal(.loc, "52 60 N 0 E 0m", "0…59"),
    RDataRefusal(.loc, "52 22 23 X 0 E 0m", "hemisphere"),
    RDataRefusal(.loc, "52 N 181 E 0m", "0…180"),
    RDataRefusal(.loc, "52 N 4 E -100000.01m", "altitude"),
    RDataRefusal(.loc, "52 N 4 E 0m 90000000.01m", "size"),
    RDataRefusal(.svcb, "0 target.example.net. alpn=h2", "AliasMode"),
    RDataRefusal(.svcb, "1 . mandatory=port", "has no port"),
    RDataRefusal(.svcb, "1 . mandatory=mandatory", "list itself"),
    RDataRefusal(.svcb, "1 . no-default-alpn", "needs an alpn"),
    RDataRefusal(.svcb, "1 . port=80 port=81", "twice"),
    RDataRefusal(.svcb, "1 . port=http", "not a port"),
    RDataRefusal(.svcb, "1 . ipv4hint=1.2.3", "not an IPv4"),
    RDataRefusal(.svcb, "1 . ipv6hint=1.2.3.4", "not an IPv6"),
    RDataRefusal(.svcb, "1 . color=blue", "not a SvcParam key"),
    RDataRefusal(.svcb, "1 . key65535=x", "not a SvcParam key"),
    RDataRefusal(.svcb, "1 . alpn=", "needs a value"),
    RDataRefusal(.svcb, "1 . ech=!!!", "base64"),
    RDataRefusal(RRType(rawValue: 65280), "1 2 3", "RFC 3597"),
    RDataRefusal(RRType(rawValue: 65280), "\\# 4 0A0000", "\\# says 4 octets"),
    RDataRefusal(RRType(rawValue: 65280), "\\# 2 0A000001", "\\# says 2 octets"),
    RDataRefusal(.a, "\\# 3 0A0000", "cut short"),
    RDataRefusal(.any, "\\# 0", "query or transport type"),
]

@Suite struct RDataTests {
    @Test(arguments: canonicalExamples)
    func parsePresentParse(example: RDataExample) throws {
        let parsed = try RData.parse(type: example.type, text: example.input, origin: origin, mode: .api)
        #expect(parsed.type == example.type)
        let text = parsed.presentation()
        #expect(text == example.canonical)
        // Canonical text reads back to the same data, absolute and relative to the origin.
        #expect(try RData.parse(type: example.type, text: text, origin: nil, mode: .zoneFile) == parsed)
        let relative = parsed.presentation(origin: origin)
        #expect(try RData.parse(type: example.type, text: relative, origin: origin, mode: .zoneFile) == parsed)
        // The wire form checks out and stays canonical.
        #expect(try RData(type: example.type, wire: parsed.wire) == parsed)
    }

    @Test(arguments: refusals)
    func invalidDataIsRefusedWithAMessage(refusal: RDataRefusal) {
        #expect {
            try RData.parse(type: refusal.type, text: refusal.input, origin: origin, mode: .zoneFile)
        } throws: { error in
            guard let error = error as? RDataError else { return false }
            return error.message.contains(refusal.fragment)
        }
    }

    @Test func errorsPointAtTheToken() throws {
        let tokens = try PresentationToken.tokenize("10 60 70000 sip.example.com.")
        #expect {
            try RData.parse(type: .srv, tokens: tokens, origin: nil, mode: .zoneFile)
        } throws: { error in
            (error as? RDataError)?.tokenIndex == 2
        }
    }

    @Test func relativePresentation() throws {
        let mx = try RData.parse(type: .mx, text: "10 mail.example.com.", origin: nil, mode: .api)
        #expect(mx.presentation(origin: origin) == "10 mail")
        #expect(mx.presentation() == "10 mail.example.com.")
        let apex = try RData.parse(type: .cname, text: "example.com.", origin: nil, mode: .api)
        #expect(apex.presentation(origin: origin) == "@")
        let outside = try RData.parse(type: .ns, text: "ns1.example.net.", origin: nil, mode: .api)
        #expect(outside.presentation(origin: origin) == "ns1.example.net.")
    }

    @Test func longTXTIsSplitForTheAPIAndRefusedInZoneFiles() throws {
        let long = String(repeating: "k", count: 600)
        let split = try RData.parse(type: .txt, text: "\"\(long)\"", origin: nil, mode: .api)
        #expect(split.wire.count == 600 + 3)
        #expect(split.wire[0] == 255 && split.wire[256] == 255 && split.wire[512] == 90)
        #expect(split.presentation() == "\"\(String(repeating: "k", count: 255))\" \"\(String(repeating: "k", count: 255))\" \"\(String(repeating: "k", count: 90))\"")
        #expect(throws: RDataError.self) {
            try RData.parse(type: .txt, text: "\"\(long)\"", origin: nil, mode: .zoneFile)
        }
        // Exactly 255 is one string either way.
        let exact = try RData.parse(type: .txt, text: "\"\(String(repeating: "k", count: 255))\"", origin: nil, mode: .zoneFile)
        #expect(exact.wire.count == 256)
    }

    @Test func equalityIsOnCanonicalWire() throws {
        let a = try RData.parse(type: .aaaa, text: "2001:DB8::1", origin: nil, mode: .api)
        let b = try RData.parse(type: .aaaa, text: "2001:db8:0:0::0:1", origin: nil, mode: .api)
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        let upper = try RData(type: .cname, wire: [3, 87, 87, 87, 0])
        #expect(upper.wire == [3, 119, 119, 119, 0])
    }

    @Test func wireIsCheckedWhenReadBack() {
        #expect(throws: RDataError.self) { try RData(type: .a, wire: [1, 2, 3]) }
        #expect(throws: RDataError.self) { try RData(type: .aaaa, wire: [UInt8](repeating: 0, count: 15)) }
        #expect(throws: RDataError.self) { try RData(type: .mx, wire: [0, 10, 3, 119, 119]) }
        #expect(throws: RDataError.self) { try RData(type: .cname, wire: [0xC0, 12]) }
        #expect(throws: RDataError.self) { try RData(type: .ds, wire: [0, 1, 8, 2, 0xAB]) }
        #expect(throws: RDataError.self) { try RData(type: .txt, wire: []) }
        #expect(throws: RDataError.self) { try RData(type: .txt, wire: [5, 65]) }
        #expect(throws: RDataError.self) { try RData(type: .loc, wire: [1] + [UInt8](repeating: 0, count: 15)) }
        // SVCB keys out of order on the wire.
        let svcb: [UInt8] = [0, 1, 0, 0, 3, 0, 2, 1, 187, 0, 1, 0, 3, 2, 104, 50]
        #expect(throws: RDataError.self) { try RData(type: .svcb, wire: svcb) }
    }

    @Test func targetNames() throws {
        let srv = try RData.parse(type: .srv, text: "10 60 5060 sip.example.com.", origin: nil, mode: .api)
        #expect(srv.targetName?.description == "sip.example.com.")
        let mx = try RData.parse(type: .mx, text: "10 mx.example.com.", origin: nil, mode: .api)
        #expect(mx.targetName?.description == "mx.example.com.")
        let a = try RData.parse(type: .a, text: "192.0.2.1", origin: nil, mode: .api)
        #expect(a.targetName == nil)
    }

    @Test func soaFields() throws {
        let rdata = try RData.parse(type: .soa, text: "ns1.example.net. hostmaster.example.com. 2024010101 7200 3600 1209600 300", origin: nil, mode: .api)
        let soa = try SOAData(rdata)
        #expect(soa.serial == ZoneSerial(rawValue: 2024010101))
        #expect(soa.mname.description == "ns1.example.net.")
        #expect(soa.minimum == 300)
        var bumped = soa
        bumped.serial = soa.serial.adding(1)
        #expect(bumped.rdata.presentation() == "ns1.example.net. hostmaster.example.com. 2024010102 7200 3600 1209600 300")
        #expect(throws: RDataError.self) { try SOAData(try RData.parse(type: .a, text: "192.0.2.1", origin: nil, mode: .api)) }
    }

    @Test func rrTypeMnemonics() {
        #expect(RRType(mnemonic: "mx") == .mx)
        #expect(RRType(mnemonic: "TYPE15") == .mx)
        #expect(RRType(mnemonic: "type65280")?.rawValue == 65280)
        #expect(RRType(mnemonic: "TYPE65536") == nil)
        #expect(RRType(mnemonic: "BOGUS") == nil)
        #expect(RRType(rawValue: 65280).description == "TYPE65280")
        #expect(RRType.https.description == "HTTPS")
    }

    @Test func tokenizer() throws {
        let tokens = try PresentationToken.tokenize("10  \"a \\\" b\"\tword\\ more")
        #expect(tokens.map(\.text) == ["10", "a \\\" b", "word\\ more"])
        #expect(tokens.map(\.isQuoted) == [false, true, false])
        #expect(tokens.map(\.column) == [1, 5, 14])
        for bad in ["10 (mail)", "a ; comment", "\"open", "a\nb", "x\\"] {
            #expect(throws: RDataError.self) { try PresentationToken.tokenize(bad) }
        }
        // Parentheses and semicolons are fine inside quotes.
        #expect(try PresentationToken.tokenize("\"(a; b)\"").map(\.text) == ["(a; b)"])
    }
}

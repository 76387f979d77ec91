import DNSModel
import Testing

@Suite struct DomainNameTests {
    let origin = try! DomainName(presentation: "example.com.", origin: nil)

    func name(_ text: String, origin: DomainName? = nil) throws -> DomainName {
        try DomainName(presentation: text, origin: origin)
    }

    @Test func relativeAbsoluteAndAt() throws {
        #expect(try name("www", origin: origin).description == "www.example.com.")
        #expect(try name("www.example.com.", origin: origin).description == "www.example.com.")
        #expect(try name("@", origin: origin) == origin)
        #expect(try name(".") == .root)
        #expect(DomainName.root.description == ".")
        #expect(throws: DomainNameError.self) { try name("www", origin: nil) }
        #expect(throws: DomainNameError.self) { try name("@", origin: nil) }
    }

    @Test func caseIsFoldedOnInput() throws {
        let mixed = try name("WwW.ExAmPle.COM.")
        #expect(mixed == (try name("www.example.com.")))
        #expect(mixed.description == "www.example.com.")
        #expect(mixed.wire == [3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0])
        // \065 is 'A': escapes are folded too.
        #expect(try name("\\065b.example.") == (try name("ab.example.")))
    }

    @Test func escapes() throws {
        let dotted = try name("admin\\.ops.example.com.")
        #expect(dotted.labels.count == 3)
        #expect(dotted.labels[0] == Array("admin.ops".utf8))
        #expect(dotted.description == "admin\\.ops.example.com.")
        let decimal = try name("a\\032b\\255.example.")
        #expect(decimal.labels[0] == [97, 32, 98, 255])
        #expect(decimal.description == "a\\032b\\255.example.")
        let specials = try name("\\(\\)\\;\\\"\\\\\\@\\$.example.")
        #expect(specials.labels[0] == Array("();\"\\@$".utf8))
        #expect(specials.description == "\\(\\)\\;\\\"\\\\\\@\\$.example.")
        // Round trip through the description.
        for text in ["admin\\.ops.example.com.", "a\\032b\\255.example.", "\\(\\)\\;\\\"\\\\\\@\\$.example."] {
            let parsed = try name(text)
            #expect(try name(parsed.description) == parsed)
        }
    }

    @Test(arguments: [
        ("a..example.", "empty label"),
        (".example.", "empty label"),
        ("a\\25.example.", "three decimal digits"),
        ("a\\256.example.", "not an octet"),
        ("a\\", "lone backslash"),
        ("www.*.example.", "wildcard"),
        ("a*.example.", "wildcard"),
        ("", "empty"),
    ])
    func refusedNames(text: String, fragment: String) {
        #expect {
            try DomainName(presentation: text, origin: .root)
        } throws: { error in
            (error as? DomainNameError)?.message.contains(fragment) == true
        }
    }

    @Test func lengthLimits() throws {
        let label63 = String(repeating: "a", count: 63)
        #expect(try name("\(label63).example.").labels[0].count == 63)
        #expect(throws: DomainNameError.self) { try name("\(label63)a.example.") }
        // 255 octets in wire form is the maximum: four 62-octet labels (4 × 63) + "a" (2) + root.
        let label62 = String(repeating: "b", count: 62)
        let long = try name("\(label62).\(label62).\(label62).\(label62).a.")
        #expect(long.wire.count == 255)
        #expect(throws: DomainNameError.self) { try name("\(label62).\(label62).\(label62).\(label62).ab.") }
        #expect(throws: DomainNameError.self) { try DomainName(wire: [[]]) }
    }

    @Test func wildcards() throws {
        #expect(try name("*.example.").isWildcard)
        #expect(!(try name("a.example.").isWildcard))
        #expect(try name("*", origin: origin).description == "*.example.com.")
    }

    @Test func canonicalOrderFollowsRFC4034() throws {
        // The example list of RFC 4034 §6.1, in order.
        let ordered = try [
            "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.",
            "z.example.", "\\001.z.example.", "*.z.example.", "\\200.z.example.",
        ].map { try name($0) }
        #expect(ordered.sorted() == ordered)
        #expect(ordered.reversed().sorted() == ordered)
        var generator = SeededGenerator(seed: 7)
        #expect(ordered.shuffled(using: &generator).sorted() == ordered)
        #expect(DomainName.root < ordered[0])
    }

    @Test func hierarchy() throws {
        let www = try name("www.example.com.")
        #expect(www.isAtOrBelow(origin))
        #expect(origin.isAtOrBelow(origin))
        #expect(!origin.isAtOrBelow(www))
        #expect(!(try name("wwwexample.com.")).isAtOrBelow(origin))
        #expect(!(try name("xexample.com.")).isAtOrBelow(origin))
        #expect(www.isAtOrBelow(.root))
        #expect(www.parent == origin)
        #expect(DomainName.root.parent == nil)
        #expect(www.labelCount == 3)
        #expect(www.relative(to: origin) == "www")
        #expect(origin.relative(to: origin) == "@")
        #expect(try name("a.b.example.com.").relative(to: origin) == "a.b")
        #expect(try name("example.net.").relative(to: origin) == nil)
        #expect(try DomainName(wire: [Array("WWW".utf8), Array("Example".utf8), Array("com".utf8)]) == www)
    }

    @Test(arguments: [
        ("bücher.example", "xn--bcher-kva.example."),
        ("Bücher.Example.", "xn--bcher-kva.example."),
        ("münchen.de", "xn--mnchen-3ya.de."),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah."),
        ("straße.de", "xn--strae-oqa.de."),
        ("xn--bcher-kva.example", "xn--bcher-kva.example."),
        ("www.example.com", "www.example.com."),
        ("_dmarc.Example.com.", "_dmarc.example.com."),
        ("bücher。example", "xn--bcher-kva.example."),
    ])
    func internationalNamesBecomeALabels(input: String, expected: String) throws {
        #expect(try DomainName(userInput: input).description == expected)
    }

    @Test(arguments: [
        ("☃.example", "symbol"),
        ("i❤️.example", "emoji"),
        ("☃.example", "emoji"),
        ("@", "origin"),
        ("a b.example", "white space"),
        ("xn--ab_c.example", "not valid Punycode"),
        ("€uro.example", "a symbol"),
        ("\u{0301}a.example", "combining mark"),
        ("bü_cher.example", "ASCII character other than"),
        ("ab--ü.example", "third and fourth"),
        ("-bücher.example", "hyphen"),
    ])
    func refusedInternationalNames(input: String, fragment: String) {
        #expect {
            try DomainName(userInput: input)
        } throws: { error in
            guard let error = error as? DomainNameError else { return false }
            return error.message.contains(fragment)
        }
    }
}

/// A small deterministic generator (SplitMix64) so "random" tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

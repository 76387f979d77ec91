import DNSModel
import Testing

@Suite struct Base16Tests {
    @Test("encodes every octet value in either case and decodes it back")
    func roundTrip() {
        let all = (0...255).map(UInt8.init)
        let lower = Base16.encode(all)
        #expect(lower.hasPrefix("000102") && lower.hasSuffix("fdfeff") && lower.count == 512)
        #expect(Base16.encode(all, uppercase: true) == lower.uppercased())
        #expect(Base16.decode(lower) == all)
        #expect(Base16.decode(lower.uppercased()) == all)
        #expect(Base16.encode([UInt8]()) == "")
        #expect(Base16.decode("") == [])
    }

    @Test("decoding refuses an odd number of digits and anything that is not a hex digit")
    func refusals() {
        for text in ["a", "abc", "0g", "+f", "-1", " 0f", "0f ", "0x0f", "é0"] {
            #expect(Base16.decode(text) == nil, "\(text)")
        }
    }
}

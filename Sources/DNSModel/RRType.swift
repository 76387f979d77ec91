/// A resource record type code (RFC 1035 §3.2.2 and the IANA registry), with its mnemonic.
/// Any 16-bit code is a value; unknown ones read and print as "TYPEnnn" (RFC 3597 §5).
public struct RRType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let a = RRType(rawValue: 1)
    public static let ns = RRType(rawValue: 2)
    public static let cname = RRType(rawValue: 5)
    public static let soa = RRType(rawValue: 6)
    public static let ptr = RRType(rawValue: 12)
    public static let hinfo = RRType(rawValue: 13)
    public static let mx = RRType(rawValue: 15)
    public static let txt = RRType(rawValue: 16)
    public static let rp = RRType(rawValue: 17)
    public static let afsdb = RRType(rawValue: 18)
    public static let aaaa = RRType(rawValue: 28)
    public static let loc = RRType(rawValue: 29)
    public static let srv = RRType(rawValue: 33)
    public static let naptr = RRType(rawValue: 35)
    public static let kx = RRType(rawValue: 36)
    public static let cert = RRType(rawValue: 37)
    public static let dname = RRType(rawValue: 39)
    public static let opt = RRType(rawValue: 41)
    public static let ds = RRType(rawValue: 43)
    public static let sshfp = RRType(rawValue: 44)
    public static let ipseckey = RRType(rawValue: 45)
    public static let rrsig = RRType(rawValue: 46)
    public static let nsec = RRType(rawValue: 47)
    public static let dnskey = RRType(rawValue: 48)
    public static let dhcid = RRType(rawValue: 49)
    public static let nsec3 = RRType(rawValue: 50)
    public static let nsec3param = RRType(rawValue: 51)
    public static let tlsa = RRType(rawValue: 52)
    public static let smimea = RRType(rawValue: 53)
    public static let hip = RRType(rawValue: 55)
    public static let cds = RRType(rawValue: 59)
    public static let cdnskey = RRType(rawValue: 60)
    public static let openpgpkey = RRType(rawValue: 61)
    public static let csync = RRType(rawValue: 62)
    public static let zonemd = RRType(rawValue: 63)
    public static let svcb = RRType(rawValue: 64)
    public static let https = RRType(rawValue: 65)
    public static let spf = RRType(rawValue: 99)
    public static let tkey = RRType(rawValue: 249)
    public static let tsig = RRType(rawValue: 250)
    public static let ixfr = RRType(rawValue: 251)
    public static let axfr = RRType(rawValue: 252)
    public static let any = RRType(rawValue: 255)
    public static let uri = RRType(rawValue: 256)
    public static let caa = RRType(rawValue: 257)

    private static let mnemonics: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
        17: "RP", 18: "AFSDB", 28: "AAAA", 29: "LOC", 33: "SRV", 35: "NAPTR", 36: "KX",
        37: "CERT", 39: "DNAME", 41: "OPT", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG",
        47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA",
        53: "SMIMEA", 55: "HIP", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC",
        63: "ZONEMD", 64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG",
        251: "IXFR", 252: "AXFR", 255: "ANY", 256: "URI", 257: "CAA",
    ]

    private static let codes: [String: UInt16] = {
        var codes: [String: UInt16] = [:]
        for (code, mnemonic) in mnemonics { codes[mnemonic] = code }
        return codes
    }()

    /// "MX", "mx", "TYPE15" all give MX.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        if let code = RRType.codes[upper] {
            self.init(rawValue: code)
            return
        }
        guard upper.hasPrefix("TYPE") else { return nil }
        let digits = upper.dropFirst(4)
        guard !digits.isEmpty, digits.count <= 5, digits.utf8.allSatisfy(isDigit),
              let value = UInt16(digits) else { return nil }
        self.init(rawValue: value)
    }

    public var description: String {
        RRType.mnemonics[rawValue] ?? "TYPE\(rawValue)"
    }

    /// Types that only exist in queries or transport (OPT, TKEY, TSIG, IXFR, AXFR, MAILB,
    /// MAILA, ANY): never data in a zone.
    public var isMetaType: Bool {
        rawValue == 41 || (rawValue >= 128 && rawValue <= 255)
    }

    public static func < (left: RRType, right: RRType) -> Bool {
        left.rawValue < right.rawValue
    }
}

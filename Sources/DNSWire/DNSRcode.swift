/// A response code: the 4 header bits, extended to 12 bits by EDNS (RFC 6891 §6.1.3), and the
/// TSIG error codes (RFC 8945 §3) that share the same registry.
public struct DNSRcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let noError = DNSRcode(rawValue: 0)
    public static let formatError = DNSRcode(rawValue: 1)
    public static let serverFailure = DNSRcode(rawValue: 2)
    public static let nameError = DNSRcode(rawValue: 3)
    public static let notImplemented = DNSRcode(rawValue: 4)
    public static let refused = DNSRcode(rawValue: 5)
    public static let nameExists = DNSRcode(rawValue: 6)
    public static let rrsetExists = DNSRcode(rawValue: 7)
    public static let rrsetDoesNotExist = DNSRcode(rawValue: 8)
    public static let notAuthoritative = DNSRcode(rawValue: 9)
    public static let notInZone = DNSRcode(rawValue: 10)
    /// BADVERS in the message RCODE, BADSIG in a TSIG error field (one number, two meanings).
    public static let badVersion = DNSRcode(rawValue: 16)
    public static let badSignature = DNSRcode(rawValue: 16)
    public static let badKey = DNSRcode(rawValue: 17)
    public static let badTime = DNSRcode(rawValue: 18)
    public static let badMode = DNSRcode(rawValue: 19)
    public static let badName = DNSRcode(rawValue: 20)
    public static let badAlgorithm = DNSRcode(rawValue: 21)
    public static let badTruncation = DNSRcode(rawValue: 22)
    public static let badCookie = DNSRcode(rawValue: 23)

    public var description: String {
        switch rawValue {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSET"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        case 16: "BADSIG/BADVERS"
        case 17: "BADKEY"
        case 18: "BADTIME"
        case 19: "BADMODE"
        case 20: "BADNAME"
        case 21: "BADALG"
        case 22: "BADTRUNC"
        case 23: "BADCOOKIE"
        default: "RCODE\(rawValue)"
        }
    }
}

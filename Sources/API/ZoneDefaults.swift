import DNSModel

/// What the service puts in every new zone's SOA and apex NS set. An operator sets these per
/// deployment (`zonectl serve --soa-mname …`); once pools exist they come from the zone's pool.
public struct ZoneDefaults: Sendable {
    public var mname: DomainName
    public var rname: DomainName
    public var nameservers: [DomainName]
    public var nsTTL: UInt32 = 86_400
    public var soaTTL: UInt32 = 3_600
    public var refresh: UInt32 = 10_800
    public var retry: UInt32 = 3_600
    public var expire: UInt32 = 1_209_600
    /// The negative-caching TTL (RFC 2308).
    public var minimum: UInt32 = 300
    public var defaultTTL: UInt32 = 3_600
    public var serialPolicy: SerialPolicy = .date
    /// The pool (by name) a zone joins when its creation names none; nil: no pool, and the
    /// names above publish the zone.
    public var defaultPool: String?

    public init(mname: DomainName, rname: DomainName, nameservers: [DomainName]) {
        self.mname = mname
        self.rname = rname
        self.nameservers = nameservers
    }

    /// Placeholders under `.invalid` (RFC 6761): a zone made with them can be created and
    /// exported, but no resolver will ever reach those names, so an operator notices.
    public static var placeholder: ZoneDefaults {
        // These literals are valid names; the force-try cannot fail.
        ZoneDefaults(
            mname: try! DomainName(userInput: "ns1.zonectl.invalid"),
            rname: try! DomainName(userInput: "hostmaster.zonectl.invalid"),
            nameservers: [try! DomainName(userInput: "ns1.zonectl.invalid"), try! DomainName(userInput: "ns2.zonectl.invalid")])
    }
}

/// One resource record of class IN.
public struct ResourceRecord: Hashable, Sendable {
    public var owner: DomainName
    public var type: RRType
    public var ttl: UInt32
    public var rdata: RData

    public init(owner: DomainName, type: RRType, ttl: UInt32, rdata: RData) {
        precondition(type == rdata.type, "record type \(type) does not match its data's type \(rdata.type)")
        self.owner = owner
        self.type = type
        self.ttl = ttl
        self.rdata = rdata
    }
}

/// The records of one owner and type, sharing one TTL (RFC 2181 §5.2).
public struct RRset: Hashable, Sendable {
    public var owner: DomainName
    public var type: RRType
    public var ttl: UInt32
    public var rdatas: [RData]

    public init(owner: DomainName, type: RRType, ttl: UInt32, rdatas: [RData]) {
        self.owner = owner
        self.type = type
        self.ttl = ttl
        self.rdatas = rdatas
    }

    public var records: [ResourceRecord] {
        rdatas.map { ResourceRecord(owner: owner, type: type, ttl: ttl, rdata: $0) }
    }
}

/// The fields of an SOA record (RFC 1035 §3.3.13).
public struct SOAData: Sendable, Equatable {
    public var mname: DomainName
    public var rname: DomainName
    public var serial: ZoneSerial
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(mname: DomainName, rname: DomainName, serial: ZoneSerial, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }

    public init(_ rdata: RData) throws(RDataError) {
        guard rdata.type == .soa else {
            throw RDataError("\(rdata.type) data is not SOA data")
        }
        var reader = RDataWireReader(rdata.wire, type: .soa)
        mname = try reader.name("MNAME")
        rname = try reader.name("RNAME")
        serial = ZoneSerial(rawValue: try reader.uint32("serial"))
        refresh = try reader.uint32("refresh")
        retry = try reader.uint32("retry")
        expire = try reader.uint32("expire")
        minimum = try reader.uint32("minimum")
        try reader.finish()
    }

    public var rdata: RData {
        var wire = mname.wire + rname.wire
        wire.appendUInt32(serial.rawValue)
        wire.appendUInt32(refresh)
        wire.appendUInt32(retry)
        wire.appendUInt32(expire)
        wire.appendUInt32(minimum)
        return RData(checkedType: .soa, wire: wire)
    }
}

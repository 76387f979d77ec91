import DNSModel

/// A resource record as it travels in a message: any class, RDATA as octets. Names inside the
/// RDATA of the types that may be compressed are already expanded when the record comes from
/// `DNSMessage.decode`, so `rdata` is what `RData(type:wire:)` expects.
public struct DNSRecord: Hashable, Sendable, CustomStringConvertible {
    public var owner: DomainName
    public var type: RRType
    public var recordClass: UInt16
    public var ttl: UInt32
    public var rdata: [UInt8]

    public init(owner: DomainName, type: RRType, recordClass: UInt16 = DNSClass.internet, ttl: UInt32, rdata: [UInt8]) {
        self.owner = owner
        self.type = type
        self.recordClass = recordClass
        self.ttl = ttl
        self.rdata = rdata
    }

    /// A zone's record in class IN.
    public init(_ record: ResourceRecord) {
        self.init(owner: record.owner, type: record.type, ttl: record.ttl, rdata: record.rdata.wire)
    }

    /// The record as zone data: class IN and RDATA that passes DNSModel's checks.
    public func resourceRecord() throws(DNSWireError) -> ResourceRecord {
        guard recordClass == DNSClass.internet else {
            throw DNSWireError("\(owner) \(type) is in class \(recordClass), not IN")
        }
        do {
            return ResourceRecord(owner: owner, type: type, ttl: ttl, rdata: try RData(type: type, wire: rdata))
        } catch {
            throw DNSWireError("\(owner) \(type): \(error.message)")
        }
    }

    public var description: String {
        let data = (try? RData(type: type, wire: rdata))?.presentation() ?? "\\# \(rdata.count)"
        return "\(owner) \(ttl) \(recordClass == DNSClass.internet ? "IN" : "CLASS\(recordClass)") \(type) \(data)"
    }
}

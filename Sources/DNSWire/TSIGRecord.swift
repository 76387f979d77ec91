import DNSModel

/// The fields of a TSIG record (RFC 8945 §4.2). Owner: the key name; class ANY; TTL 0.
public struct TSIGRecord: Hashable, Sendable {
    public var keyName: DomainName
    public var algorithm: DomainName
    /// Seconds since 1970, 48 bits on the wire.
    public var timeSigned: UInt64
    public var fudge: UInt16
    public var mac: [UInt8]
    public var originalID: UInt16
    /// A TSIG error (BADSIG, BADKEY, BADTIME, …) or NOERROR.
    public var error: DNSRcode
    /// With BADTIME: the server's time, 48 bits.
    public var otherData: [UInt8]

    public init(keyName: DomainName, algorithm: DomainName, timeSigned: UInt64, fudge: UInt16, mac: [UInt8], originalID: UInt16, error: DNSRcode = .noError, otherData: [UInt8] = []) {
        self.keyName = keyName
        self.algorithm = algorithm
        self.timeSigned = timeSigned
        self.fudge = fudge
        self.mac = mac
        self.originalID = originalID
        self.error = error
        self.otherData = otherData
    }

    public init(_ record: DNSRecord) throws(DNSWireError) {
        guard record.type == .tsig else {
            throw DNSWireError("a \(record.type) record is not a TSIG record")
        }
        guard record.recordClass == DNSClass.any, record.ttl == 0 else {
            throw DNSWireError("TSIG record of \(record.owner) has class \(record.recordClass) and TTL \(record.ttl); RFC 8945 §4.2 wants class ANY and TTL 0")
        }
        let bytes = record.rdata
        var offset = 0
        do {
            algorithm = try DomainName(readingWire: bytes, at: &offset)
        } catch {
            throw DNSWireError("TSIG algorithm name: \(error.message)")
        }
        func field(_ size: Int, _ what: String) throws(DNSWireError) -> ArraySlice<UInt8> {
            guard offset + size <= bytes.count else {
                throw DNSWireError("TSIG RDATA is cut short in its \(what) (\(bytes.count) octets in all)")
            }
            defer { offset += size }
            return bytes[offset..<(offset + size)]
        }
        func number(_ octets: ArraySlice<UInt8>) -> UInt64 {
            octets.reduce(0) { $0 << 8 | UInt64($1) }
        }
        keyName = record.owner
        timeSigned = number(try field(6, "time signed"))
        fudge = UInt16(number(try field(2, "fudge")))
        let macSize = Int(number(try field(2, "MAC size")))
        mac = Array(try field(macSize, "MAC"))
        originalID = UInt16(number(try field(2, "original ID")))
        error = DNSRcode(rawValue: UInt16(number(try field(2, "error"))))
        let otherSize = Int(number(try field(2, "other length")))
        otherData = Array(try field(otherSize, "other data"))
        guard offset == bytes.count else {
            throw DNSWireError("TSIG RDATA has \(bytes.count - offset) octets left over after its last field")
        }
    }

    public var record: DNSRecord {
        var rdata = algorithm.wire
        rdata.appendBigEndian48(timeSigned)
        rdata.appendBigEndian(fudge)
        rdata.appendBigEndian(UInt16(mac.count))
        rdata += mac
        rdata.appendBigEndian(originalID)
        rdata.appendBigEndian(error.rawValue)
        rdata.appendBigEndian(UInt16(otherData.count))
        rdata += otherData
        return DNSRecord(owner: keyName, type: .tsig, recordClass: DNSClass.any, ttl: 0, rdata: rdata)
    }

    /// The TSIG variables the MAC covers after the message (RFC 8945 §4.3.3); for the second
    /// and later messages of a stream only the timers (§5.3.1).
    func variables(timersOnly: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        if !timersOnly {
            bytes += keyName.wire
            bytes.appendBigEndian(DNSClass.any)
            bytes.appendBigEndian(UInt32(0))
            bytes += algorithm.wire
        }
        bytes.appendBigEndian48(timeSigned)
        bytes.appendBigEndian(fudge)
        if !timersOnly {
            bytes.appendBigEndian(error.rawValue)
            bytes.appendBigEndian(UInt16(otherData.count))
            bytes += otherData
        }
        return bytes
    }

    /// The time carried in Other Data of a BADTIME answer.
    public var otherTime: UInt64? {
        guard otherData.count == 6 else { return nil }
        return otherData.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

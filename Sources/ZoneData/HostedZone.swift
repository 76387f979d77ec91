import DNSModel
import Store

/// A zone row read back into DNS types, with the SOA and apex NS the service owns.
public struct HostedZone: Sendable {
    public let row: ZoneRow
    public let name: DomainName
    public let serial: ZoneSerial
    public let policy: SerialPolicy
    public let nameservers: [DomainName]

    public init(_ row: ZoneRow) throws {
        self.row = row
        name = try StoredData.name(row.name)
        serial = ZoneSerial(rawValue: UInt32(truncatingIfNeeded: row.serial))
        guard let policy = SerialPolicy(rawValue: row.serialPolicy) else {
            throw StoredData.Corrupt("zone \(row.name) has unknown serial policy \(row.serialPolicy)")
        }
        self.policy = policy
        nameservers = try row.nameservers.map(StoredData.name)
    }

    private init(row: ZoneRow, name: DomainName, serial: ZoneSerial, policy: SerialPolicy, nameservers: [DomainName]) {
        self.row = row
        self.name = name
        self.serial = serial
        self.policy = policy
        self.nameservers = nameservers
    }

    /// The zone as a change leaves it: at `serial`, holding `recordCount` records (its row as it
    /// will read once the change is written).
    public func changed(to serial: ZoneSerial, recordCount: Int64) -> HostedZone {
        var row = row
        row.serial = Int64(serial.rawValue)
        row.recordCount = recordCount
        return HostedZone(row: row, name: name, serial: serial, policy: policy, nameservers: nameservers)
    }

    public var id: Int64 { row.id }

    /// The ETag of the zone and of everything in it: the serial, which changes with every change.
    public var etag: String { "\"\(serial.rawValue)\"" }

    public func soaData(serial: ZoneSerial) throws -> SOAData {
        SOAData(
            mname: try StoredData.name(row.soa.mname), rname: try StoredData.name(row.soa.rname), serial: serial,
            refresh: UInt32(row.soa.refresh), retry: UInt32(row.soa.retry), expire: UInt32(row.soa.expire),
            minimum: UInt32(row.soa.minimum))
    }

    public func soaRRset(serial: ZoneSerial? = nil) throws -> RRset {
        RRset(owner: name, type: .soa, ttl: UInt32(row.soa.ttl), rdatas: [try soaData(serial: serial ?? self.serial).rdata])
    }

    public func apexNSRRset() throws -> RRset {
        let rdatas = try nameservers.map { server throws -> RData in
            do {
                return try RData(type: .ns, wire: server.wire)
            } catch {
                throw StoredData.Corrupt("apex name server \(server) of \(row.name): \(error)")
            }
        }
        return RRset(owner: name, type: .ns, ttl: UInt32(row.nsTTL), rdatas: rdatas)
    }

    /// Whether an RRset is one the service owns (SOA anywhere, NS at the apex).
    public func isServiceOwned(owner: DomainName, type: RRType) -> Bool {
        type == .soa || (type == .ns && owner == name)
    }
}

/// Turning stored rows back into DNS types. The service wrote every row from parsed types, so a
/// failure here means the database was changed behind its back: an internal error, logged.
public enum StoredData {
    public struct Corrupt: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public static func name(_ text: String) throws -> DomainName {
        do {
            return try DomainName(presentation: text, origin: .root)
        } catch {
            throw Corrupt("stored name '\(text)' does not parse: \(error)")
        }
    }

    /// Groups rows (ordered by owner key and type, as every query returns them) into RRsets.
    public static func rrsets(_ rows: [RecordRow]) throws -> [RRset] {
        var result: [RRset] = []
        var currentKey: RRsetKey?
        for row in rows {
            let key = RRsetKey(ownerKey: row.ownerKey, type: row.type)
            let type = RRType(rawValue: UInt16(truncatingIfNeeded: row.type))
            let rdata: RData
            do {
                rdata = try RData(type: type, wire: row.rdata)
            } catch {
                throw Corrupt("stored \(type) record at \(row.owner) does not parse: \(error)")
            }
            if key == currentKey {
                result[result.count - 1].rdatas.append(rdata)
            } else {
                result.append(RRset(owner: try name(row.owner), type: type, ttl: UInt32(row.ttl), rdatas: [rdata]))
                currentKey = key
            }
        }
        return result
    }

    public static func rows(_ rrset: RRset) -> [RecordRow] {
        let owner = rrset.owner.description
        let key = rrset.owner.ownerKey
        return rrset.rdatas.map {
            RecordRow(owner: owner, ownerKey: key, type: Int64(rrset.type.rawValue), ttl: Int64(rrset.ttl), rdata: $0.wire)
        }
    }
}

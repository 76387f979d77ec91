import DNSModel
import DNSWire
import Foundation
import Store
import ZoneData

/// The records of a zone transfer, read from one database snapshot.
///
/// AXFR (RFC 5936): SOA, every record, SOA. IXFR (RFC 1995): the current SOA, then for each
/// journal entry since the client's serial the old SOA, what was removed, the new SOA, what was
/// added; and the current SOA again. IXFR falls back to the AXFR form when the journal cannot
/// say exactly what changed (it does not reach back to the client's serial, or an entry changed
/// the SOA timers or the apex NS, which the journal does not record as records).
enum ZoneTransferContent {
    /// Journal kinds whose entries hold every record they changed.
    static let recordChangeKinds: Set<String> = ["rrsets", "import", "catalog"]
    /// Longest journal chain answered incrementally; beyond it the whole zone is cheaper.
    static let maximumIncrementalChanges = 1000

    static func soaRecord(_ zone: HostedZone, serial: ZoneSerial? = nil) throws -> DNSRecord {
        let soa = try zone.soaData(serial: serial ?? zone.serial)
        return DNSRecord(owner: zone.name, type: .soa, ttl: UInt32(zone.row.soa.ttl), rdata: soa.rdata.wire)
    }

    static func fullTransfer(_ zone: HostedZone, on db: PostgresConnection) throws -> [DNSRecord] {
        let soa = try soaRecord(zone)
        var records = [soa]
        for rdata in try zone.apexNSRRset().rdatas {
            records.append(DNSRecord(owner: zone.name, type: .ns, ttl: UInt32(zone.row.nsTTL), rdata: rdata.wire))
        }
        if zone.row.isCatalog, let poolID = zone.row.poolID {
            records += try catalogRecords(zone, poolID: poolID, on: db)
            records.append(soa)
            return records
        }
        let rows = try RecordRepository.all(zoneID: zone.id, on: db)
        records.reserveCapacity(rows.count + records.count + 1)
        var lastOwner: (text: String, name: DomainName)?
        for row in rows {
            let owner: DomainName
            if let last = lastOwner, last.text == row.owner {
                owner = last.name
            } else {
                owner = try StoredData.name(row.owner)
                lastOwner = (row.owner, owner)
            }
            records.append(DNSRecord(owner: owner, type: RRType(rawValue: UInt16(truncatingIfNeeded: row.type)),
                                     ttl: UInt32(row.ttl), rdata: row.rdata))
        }
        records.append(soa)
        return records
    }

    /// A catalog's own records (RFC 9432 v2): its version, and one PTR per member zone of the
    /// pool under `zones.`, labelled with the zone's id (never reused, so a zone created again
    /// is a new member). The migration's journal entries name members the same way.
    static func catalogRecords(_ catalog: HostedZone, poolID: Int64, on db: PostgresConnection) throws -> [DNSRecord] {
        let version = try DomainName(presentation: "version", origin: catalog.name)
        let zones = try DomainName(presentation: "zones", origin: catalog.name)
        var records = [DNSRecord(owner: version, type: .txt, ttl: 0, rdata: [1, UInt8(ascii: "2")])]
        for member in try TransferRepository.catalogMembers(poolID: poolID, on: db) {
            records.append(DNSRecord(owner: try DomainName(presentation: "z\(member.id)", origin: zones), type: .ptr, ttl: 0,
                                     rdata: try StoredData.name(member.name).wire))
        }
        return records
    }

    /// The incremental answer from `clientSerial`, or nil when only a full transfer will do.
    static func incrementalTransfer(_ zone: HostedZone, from clientSerial: ZoneSerial, on db: PostgresConnection) throws -> [DNSRecord]? {
        guard let changes = try TransferRepository.changes(
            zoneID: zone.id, since: Int64(clientSerial.rawValue), limit: maximumIncrementalChanges + 1, on: db),
            !changes.isEmpty, changes.count <= maximumIncrementalChanges else { return nil }
        var expectedFrom = Int64(clientSerial.rawValue)
        for change in changes {
            guard change.serialFrom == expectedFrom, recordChangeKinds.contains(change.kind) else { return nil }
            expectedFrom = change.serialTo
        }
        guard expectedFrom == Int64(zone.serial.rawValue) else { return nil }

        let current = try soaRecord(zone)
        var records = [current]
        for change in changes {
            records.append(try soaRecord(zone, serial: ZoneSerial(rawValue: UInt32(truncatingIfNeeded: change.serialFrom ?? 0))))
            records += try journalRecords(change.removedJSON)
            records.append(try soaRecord(zone, serial: ZoneSerial(rawValue: UInt32(truncatingIfNeeded: change.serialTo))))
            records += try journalRecords(change.addedJSON)
        }
        records.append(current)
        return records
    }

    /// Journal records (`[{"name", "type", "ttl", "data"}]` in canonical presentation form, as
    /// the API wrote them) back on the wire.
    static func journalRecords(_ json: String) throws -> [DNSRecord] {
        guard let entries = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw StoredData.Corrupt("a journal entry is not a list of records")
        }
        return try entries.map { entry in
            guard let name = entry["name"] as? String, let typeText = entry["type"] as? String,
                  let type = RRType(mnemonic: typeText), let ttl = (entry["ttl"] as? NSNumber)?.uint32Value,
                  let data = entry["data"] as? String else {
                throw StoredData.Corrupt("a journal record is incomplete: \(entry)")
            }
            let rdata: RData
            do {
                rdata = try RData.parse(type: type, text: data, origin: nil, mode: .api)
            } catch {
                throw StoredData.Corrupt("journal record \(name) \(typeText) '\(data)' does not parse: \(error)")
            }
            return DNSRecord(owner: try StoredData.name(name), type: type, ttl: ttl, rdata: rdata.wire)
        }
    }
}

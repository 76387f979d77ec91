import DNSModel
import Store
import ZoneFile

extension HostedZone {
    /// The zone as RFC 1035 text: SOA, apex NS, then every RRset in canonical order, read from
    /// the database a page at a time and handed to `sink` in pieces, so a zone of any size costs
    /// a few pages of memory. Run it inside one snapshot (REPEATABLE READ) for one consistent
    /// version of the zone. Used by the export route and the zone-file writer.
    public func renderZoneFile(on db: PostgresConnection, sink: ([UInt8]) throws -> Void) throws {
        let renderer = ZoneFileRenderer(origin: name, defaultTTL: UInt32(row.defaultTTL))
        var text = renderer.header()
        renderer.render(try soaRRset(), into: &text)
        renderer.render(try apexNSRRset(), into: &text)
        try sink(text)
        var after: RRsetKey?
        while true {
            let rows = try RecordRepository.rrsetPage(zoneID: id, after: after, ownerKey: nil, type: nil, limit: 2000, on: db)
            guard let last = rows.last else { break }
            text.removeAll(keepingCapacity: true)
            for rrset in try StoredData.rrsets(rows) {
                renderer.render(rrset, into: &text)
            }
            try sink(text)
            after = RRsetKey(ownerKey: last.ownerKey, type: last.type)
        }
    }
}

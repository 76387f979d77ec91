import DNSModel
import HTTPServer
import Store
import ZoneData

/// Finding the zone a route names and deciding whether the caller may see it.
extension APIService {
    /// The `{zone}` of a path: a zone name (trailing dot optional) or a zone id. A zone the token
    /// may not see is answered exactly like one that does not exist, so customers cannot probe
    /// for each other's domains.
    static func visibleZone(_ call: Call, on db: PostgresConnection, lock: Bool = false) throws -> HostedZone {
        try visibleZone(call, row: zoneRow(call, on: db, lock: lock))
    }

    /// What a path's `{zone}` names: a zone id, a zone name (normalised), or nothing a zone
    /// could have.
    enum ZoneReference {
        case id(Int64)
        case name(DomainName)
        case none

        init(_ text: String) {
            if let id = Int64(text), id > 0 {
                self = .id(id)
            } else if let name = try? DomainName(userInput: text) {
                self = .name(name)
            } else {
                self = .none
            }
        }
    }

    /// The zone `{zone}` names, visible or not; nil when there is none.
    static func zoneRow(_ call: Call, on db: PostgresConnection, lock: Bool) throws -> ZoneRow? {
        switch ZoneReference(call.parameter("zone")) {
        case .id(let id): return lock ? try ZoneRepository.lock(id: id, on: db) : try ZoneRepository.find(id: id, on: db)
        case .name(let name):
            return lock ? try ZoneRepository.lock(name: name.description, on: db) : try ZoneRepository.find(name: name.description, on: db)
        case .none: return nil
        }
    }

    /// `row` as the zone of this call, if the token may see it.
    static func visibleZone(_ call: Call, row: ZoneRow?) throws -> HostedZone {
        try HostedZone(checkVisible(call, row: row))
    }

    /// `zone` as the zone of this call, if the token may see it.
    static func visibleZone(_ call: Call, zone: HostedZone) throws -> HostedZone {
        _ = try checkVisible(call, row: zone.row)
        return zone
    }

    private static func checkVisible(_ call: Call, row: ZoneRow?) throws(HTTPProblem) -> ZoneRow {
        // A pool's catalog is the service's own: no route shows or changes it as a zone.
        guard let row, !row.isCatalog, call.principal.canSee(zone: row) else {
            throw Problems.notFound("no zone '\(call.parameter("zone"))' is visible to this token")
        }
        return row
    }

    /// `If-Match` on a write: the zone must still be at the serial the client last saw.
    static func checkIfMatch(_ call: Call, zone: HostedZone) throws(HTTPProblem) {
        guard let header = call.http.headers["If-Match"] else { return }
        let tags = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .map { $0.hasPrefix("W/") ? String($0.dropFirst(2)) : $0 }
        guard !tags.contains("*"), !tags.contains(zone.etag) else { return }
        throw Problems.preconditionFailed(
            "the zone has changed since: its ETag is now \(zone.etag) (serial \(zone.serial)), If-Match asked for \(header); read it again and retry")
    }
}

extension Principal {
    func canSee(zone row: ZoneRow) -> Bool {
        guard canSee(accountID: row.accountID) else { return false }
        if let zones { return zones.contains(row.name) }
        return true
    }
}

import DNSModel
import HTTPServer
import Store
import ZoneData

/// `/v1/zones/{zone}/rrsets…`: reading RRsets, changing one, and the atomic batch.
extension APIService {
    func registerRRsetRoutes() {
        route("GET", "/v1/zones/{zone}/rrsets") { [pool, rrsetPages] call in
            let page = try PageRequest(call.http)
            return try pool.withConnection { db in
                // A page is a function of the zone's content, named by its serial, and of the
                // request's path and query: answered from the cache after one cheap read.
                let seen = try Self.visibleZone(call, on: db)
                if let cached = rrsetPages.response(for: Self.pageKey(call, zone: seen)) { return cached }
                // One snapshot for the zone and its records, so the ETag (and the cache key)
                // names the version the page shows.
                return try db.transaction(isolation: .repeatableRead) { db in
                    let zone = try Self.visibleZone(call, on: db)
                    var response = try Self.rrsetPage(call, page: page, zone: zone, on: db)
                    response.headers.set("ETag", zone.etag)
                    rrsetPages.store(response, for: Self.pageKey(call, zone: zone))
                    return response
                }
            }
        }

        route("GET", "/v1/zones/{zone}/rrsets/{name}/{type}") { [pool] call in
            try pool.withConnection { db in
                let zone = try Self.visibleZone(call, on: db)
                let (owner, type) = try Self.rrsetPath(call, zone: zone.name)
                guard let rrset = try Self.currentRRset(owner: owner, type: type, zone: zone, on: db) else {
                    throw Problems.notFound("the zone \(zone.name) has no \(type) records at \(owner)")
                }
                var response = HTTPResponse.json(200, RRsetRequest.json(rrset))
                response.headers.set("ETag", zone.etag)
                return response
            }
        }

        route("PUT", "/v1/zones/{zone}/rrsets/{name}/{type}") { [self] call in
            let body = try call.http.jsonBody()
            return try commitChange(call) { (zone: DomainName) in
                let (owner, type) = try Self.rrsetPath(call, zone: zone)
                var fields = JSONFields(body)
                let ttl = RRsetRequest.ttl(&fields)
                let rdatas = RRsetRequest.rdatas(&fields, type: type, required: true) ?? []
                try fields.finish()
                if rdatas.isEmpty {
                    throw Problems.validation([.init(pointer: "/records", message: "must hold at least one record; to delete the RRset use DELETE")])
                }
                return [RRsetOperation(action: .replace, owner: owner, type: type, ttl: ttl, rdatas: rdatas, pointer: "",
                                       createOnly: call.http.headers["If-None-Match"] == "*")]
            } respond: { outcome in
                // One operation, so one RRset: as stored, records in canonical order.
                .json(200, outcome.rrsets.values.first.map { RRsetRequest.json(Self.canonicalOrder($0)) } ?? .null)
            }
        }

        route("DELETE", "/v1/zones/{zone}/rrsets/{name}/{type}") { [self] call in
            try commitChange(call) { (zone: DomainName) in
                let (owner, type) = try Self.rrsetPath(call, zone: zone)
                return [RRsetOperation(action: .delete, owner: owner, type: type, ttl: nil, rdatas: [], pointer: "")]
            } respond: { _ in
                .noContent()
            }
        }

        route("PATCH", "/v1/zones/{zone}/rrsets") { [self] call in
            let body = try call.http.jsonBody()
            return try commitChange(call) { (zone: DomainName) in
                var fields = JSONFields(body)
                let changes = fields.value("changes")
                try fields.finish()
                guard case .array(let items)? = changes else {
                    throw Problems.validation([.init(pointer: "/changes", message: "is required: an array of {action, name, type, ttl, records}")])
                }
                guard !items.isEmpty, items.count <= RRsetRequest.maxChangesPerBatch else {
                    throw Problems.validation([.init(pointer: "/changes", message: "must hold 1 to \(RRsetRequest.maxChangesPerBatch) changes, not \(items.count)")])
                }
                var errors: [HTTPProblem.FieldError] = []
                var operations: [RRsetOperation] = []
                for (index, item) in items.enumerated() {
                    if let operation = RRsetRequest.operation(item, pointer: "/changes/\(index)", zone: zone, errors: &errors) {
                        operations.append(operation)
                    }
                }
                guard errors.isEmpty else { throw Problems.validation(errors) }
                return operations
            } respond: { outcome in
                .json(200, Self.changeSummary(outcome))
            }
        }
    }

    /// `GET …/rrsets`: one page of RRsets (no ETag; the caller adds it).
    static func rrsetPage(_ call: Call, page: PageRequest, zone: HostedZone, on db: PostgresConnection) throws -> HTTPResponse {
        var ownerKey: [UInt8]?
        if let text = call.http.query("name") {
            do throws(RuleMessage) { ownerKey = try RRsetRequest.owner(text, in: zone.name).ownerKey } catch {
                throw Problems.invalidQuery("name", error.message)
            }
        }
        var type: Int64?
        if let text = call.http.query("type") {
            do throws(RuleMessage) { type = Int64(try RRsetRequest.type(text).rawValue) } catch { throw Problems.invalidQuery("type", error.message) }
        }
        let after = try page.after.map { key throws(HTTPProblem) -> RRsetKey in
            let parts = key.split(separator: "/")
            guard parts.count == 2, let bytes = Base16.decode(parts[0]), let type = Int64(parts[1]) else {
                throw Problems.invalidQuery("cursor", "is not a cursor this server issued")
            }
            return RRsetKey(ownerKey: bytes, type: type)
        }
        let rows = try RecordRepository.rrsetPage(
            zoneID: zone.id, after: after, ownerKey: ownerKey, type: type, limit: page.limit + 1, on: db)
        let rrsets = try StoredData.rrsets(rows)
        return page.response(call.http, rows: rrsets, key: { "\(Base16.encode($0.owner.ownerKey))/\($0.type.rawValue)" },
                             render: RRsetRequest.json)
    }

    /// What an RRset page depends on: the zone's version, and the path and query (the `Link`
    /// header repeats them).
    static func pageKey(_ call: Call, zone: HostedZone) -> String {
        var key = "\(zone.id) \(zone.serial.rawValue) \(PageRequest.percentEncode(call.http.path))"
        for item in call.http.queryItems {
            key += " \(PageRequest.percentEncode(item.name))=\(PageRequest.percentEncode(item.value))"
        }
        return key
    }

    static func changeSummary(_ outcome: ZoneEditor.Outcome) -> JSONValue {
        .object([
            ("serial", .int(Int64(outcome.zone.serial.rawValue))),
            ("changed", .bool(outcome.changed)),
            ("records_removed", .int(Int64(outcome.removed.count))),
            ("records_added", .int(Int64(outcome.added.count))),
        ])
    }

    /// `{name}` and `{type}` of an RRset path.
    static func rrsetPath(_ call: Call, zone: DomainName) throws(HTTPProblem) -> (DomainName, RRType) {
        let owner: DomainName
        let type: RRType
        do throws(RuleMessage) { owner = try RRsetRequest.owner(call.parameter("name"), in: zone) } catch {
            throw Problems.badRequest("path segment {name}: \(error.message)")
        }
        do throws(RuleMessage) { type = try RRsetRequest.type(call.parameter("type")) } catch {
            throw Problems.badRequest("path segment {type}: \(error.message)")
        }
        return (owner, type)
    }

    /// `rrset` with its records in the order the database returns them (by their wire form).
    static func canonicalOrder(_ rrset: RRset) -> RRset {
        var sorted = rrset
        sorted.rdatas.sort { $0.wire.lexicographicallyPrecedes($1.wire) }
        return sorted
    }

    /// One RRset as published, including the SOA and apex NS the service owns.
    static func currentRRset(owner: DomainName, type: RRType, zone: HostedZone, on db: PostgresConnection) throws -> RRset? {
        if owner == zone.name && type == .soa { return try zone.soaRRset() }
        if owner == zone.name && type == .ns { return try zone.apexNSRRset() }
        let rows = try RecordRepository.rrsetPage(
            zoneID: zone.id, after: nil, ownerKey: owner.ownerKey, type: Int64(type.rawValue), limit: 1, on: db)
        return try StoredData.rrsets(rows).first
    }
}

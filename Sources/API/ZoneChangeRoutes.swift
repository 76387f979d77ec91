import HTTPServer
import Store

/// `GET /v1/zones/{zone}/changes`: the journal, newest first.
extension APIService {
    func registerZoneChangeRoutes() {
        route("GET", "/v1/zones/{zone}/changes") { [pool] call in
            let page = try PageRequest(call.http)
            let before = try page.after.map { key throws(HTTPProblem) -> Int64 in
                guard let id = Int64(key) else { throw Problems.invalidQuery("cursor", "is not a cursor this server issued") }
                return id
            }
            return try pool.withConnection { db in
                let zone = try Self.visibleZone(call, on: db)
                let rows = try ZoneChangeRepository.list(zoneID: zone.id, beforeID: before, limit: page.limit + 1, on: db)
                var response = page.response(call.http, rows: rows, key: { String($0.id) }, render: Self.json)
                response.headers.set("ETag", zone.etag)
                return response
            }
        }
    }

    static func json(_ change: ZoneChangeRow) -> JSONValue {
        .object([
            ("id", .int(change.id)),
            ("serial_from", change.serialFrom.map(JSONValue.int) ?? .null),
            ("serial_to", .int(change.serialTo)),
            ("changed_at", .string(change.changedAt)),
            ("token_id", change.tokenID.map(JSONValue.string) ?? .null),
            ("kind", .string(change.kind)),
            ("removed", (try? JSONValue.parse(Array(change.removedJSON.utf8))) ?? .array([])),
            ("added", (try? JSONValue.parse(Array(change.addedJSON.utf8))) ?? .array([])),
        ])
    }
}

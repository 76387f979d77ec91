import HTTPServer
import Store
import ZoneData

/// `GET /v1/zones/{zone}/status` and `POST /v1/zones/{zone}/notify`: whether a zone's current
/// serial is live on each secondary of its pool, and a way to push it again.
extension APIService {
    func registerPropagationRoutes() {
        route("GET", "/v1/zones/{zone}/status") { [pool] call in
            let (zone, servers, file) = try pool.withConnection { db in
                let zone = try Self.visibleZone(call, on: db)
                return (zone, try PropagationRepository.status(zoneID: zone.id, on: db), try ZoneFileRepository.status(zoneID: zone.id, on: db))
            }
            let serial = Int64(zone.serial.rawValue)
            let inSync = servers.filter { $0.seenSerial == serial }.count
            var response = HTTPResponse.json(200, .object([
                ("zone", .string(zone.row.name)),
                ("serial", .int(serial)),
                ("in_sync", .bool(inSync == servers.count)),
                ("servers", .array(servers.map { Self.json($0, serial: serial) })),
                ("zone_file", .object([
                    ("serial", file?.writtenSerial.map(JSONValue.int) ?? .null),
                    ("last_written", file?.lastWritten.map(JSONValue.string) ?? .null),
                    ("last_error", file?.lastError.map(JSONValue.string) ?? .null),
                    ("hook_error", file?.hookError.map(JSONValue.string) ?? .null),
                ])),
            ]))
            response.headers.set("ETag", zone.etag)
            return response
        }

        route("POST", "/v1/zones/{zone}/notify") { [pool] call in
            let (zone, count) = try pool.transaction { db in
                let zone = try Self.visibleZone(call, on: db)
                return (zone, try PropagationRepository.renotify(zoneID: zone.id, on: db))
            }
            return HTTPResponse.json(202, .object([
                ("zone", .string(zone.row.name)),
                ("serial", .int(Int64(zone.serial.rawValue))),
                ("servers", .int(Int64(count))),
            ]))
        }
    }

    static func json(_ server: PropagationStatusRow, serial: Int64) -> JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            ("server_id", .int(server.serverID)),
            ("address", .string(server.address)),
            ("port", .int(server.port)),
            ("tsig_key", optional(server.tsigKey)),
            ("description", .string(server.description)),
            ("serial", server.seenSerial.map(JSONValue.int) ?? .null),
            ("in_sync", .bool(server.seenSerial == serial)),
            ("notified_serial", server.notifiedSerial.map(JSONValue.int) ?? .null),
            ("last_notify_sent", optional(server.lastNotifySent)),
            ("last_notify_acked", optional(server.lastNotifyAcked)),
            ("last_checked", optional(server.lastChecked)),
            ("attempts", .int(server.attempts)),
            ("next_attempt", .string(server.nextAttempt)),
            ("last_error", optional(server.lastError)),
        ])
    }
}

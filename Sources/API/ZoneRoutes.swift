import DNSModel
import Foundation
import HTTPServer
import Store
import ZoneData

/// `/v1/zones` and `/v1/zones/{zone}`: creating, listing, reading, configuring and deleting zones.
extension APIService {
    static let ttlRange: ClosedRange<Int64> = 0...2_147_483_647

    func registerZoneRoutes() {
        route("POST", "/v1/zones") { [self] call in
            if Self.isZoneFile(call.http) { return try createZoneFromFile(call) }
            let request = try Self.zoneCreation(call)
            let (zone, propagation) = try pool.transaction { db in
                let zone = try createZone(request, call: call, on: db)
                return (zone, try Self.propagation(of: zone, on: db))
            }
            return Self.zoneResponse(201, zone, propagation: propagation, location: true)
        }

        route("GET", "/v1/zones") { [pool] call in
            let page = try PageRequest(call.http)
            var filter = ZoneFilter(accountID: call.principal.accountID, onlyNames: call.principal.zones.map { $0.sorted() })
            if let text = call.http.query("account") {
                guard let id = Int64(text), id > 0 else { throw Problems.invalidQuery("account", "must be an account id, not '\(text)'") }
                if call.principal.isOperator { filter.accountID = id } else if id != call.principal.accountID { filter.onlyNames = [] }
            }
            if let text = call.http.query("name") {
                guard let name = try? DomainName(userInput: text) else {
                    throw Problems.invalidQuery("name", "'\(text)' is not a domain name")
                }
                filter.exactName = name.description
            }
            if let prefix = call.http.query("name_prefix") {
                guard !prefix.unicodeScalars.contains("\u{0}") else {
                    throw Problems.invalidQuery("name_prefix", "must not contain the NUL character (U+0000)")
                }
                filter.namePrefix = prefix.lowercased()
            }
            let (rows, summaries) = try pool.withConnection { db in
                let rows = try ZoneRepository.list(filter, afterName: page.after, limit: page.limit + 1, on: db)
                return (rows, try PropagationRepository.summaries(zoneIDs: rows.map(\.id), on: db))
            }
            let zones = try rows.map(HostedZone.init)
            return page.response(call.http, rows: zones, key: { $0.row.name }) {
                Self.json($0, propagation: summaries[$0.id] ?? PropagationSummary(servers: 0, inSync: 0))
            }
        }

        route("GET", "/v1/zones/{zone}") { [pool] call in
            let (zone, propagation) = try pool.withConnection { db in
                let zone = try Self.visibleZone(call, on: db)
                return (zone, try Self.propagation(of: zone, on: db))
            }
            return Self.zoneResponse(200, zone, propagation: propagation)
        }

        route("PATCH", "/v1/zones/{zone}") { [pool] call in
            let settings = try Self.zoneSettings(call.http)
            let zone = try pool.transaction { db in
                let zone = try Self.visibleZone(call, on: db, lock: true)
                try Self.checkIfMatch(call, zone: zone)
                let changed = try Self.applySettings(settings, to: zone, tokenID: call.principal.tokenID, on: db)
                return (changed, try Self.propagation(of: changed, on: db))
            }
            return Self.zoneResponse(200, zone.0, propagation: zone.1)
        }

        route("DELETE", "/v1/zones/{zone}") { [pool] call in
            if call.principal.zones != nil { throw Problems.forbidden("a token limited to zones cannot delete zones") }
            try pool.transaction { db in
                let zone = try Self.visibleZone(call, on: db, lock: true)
                try Self.checkIfMatch(call, zone: zone)
                _ = try ZoneRepository.delete(id: zone.id, on: db)
                _ = try db.query("SELECT pg_notify('zone_changed', $1)", [.text("\(zone.id) deleted")])
            }
            return .noContent()
        }
    }

    struct ZoneCreation {
        var name: DomainName
        var accountID: Int64
        var settings: ZoneSettings
        /// A pool id or name; nil takes the server's default pool, if one is configured.
        var pool: String? = nil
    }

    /// Zone settings a customer may change; nil leaves the current (or default) value.
    struct ZoneSettings {
        var serialPolicy: SerialPolicy?
        var defaultTTL: Int64?
        var refresh: Int64?
        var retry: Int64?
        var expire: Int64?
        var minimum: Int64?
        var soaTTL: Int64?
    }

    static func zoneCreation(_ call: Call) throws(HTTPProblem) -> ZoneCreation {
        var fields = JSONFields(try call.http.jsonBody())
        let name = fields.string("name", required: true, maxLength: 1100).flatMap { text -> DomainName? in
            do throws(RuleMessage) { return try zoneName(text) } catch { fields.fail("name", error.message); return nil }
        }
        let accountID = owningAccount(fields.int("account_id", in: 1...Int64.max), call: call, fail: { fields.fail("account_id", $0) })
        let settings = readSettings(&fields)
        var pool: String?
        switch fields.value("pool") {
        case nil, .null?: break
        case .string(let text)?: pool = text
        case .int(let id)?: pool = String(id)
        case let other?: fields.fail("pool", "must be a pool name or id, not \(JSONFields.kind(of: other))")
        }
        try fields.finish()
        guard let name, let accountID else { throw Problems.validation(fields.errors) }
        return ZoneCreation(name: name, accountID: accountID, settings: settings, pool: pool)
    }

    /// The account a new zone belongs to: named by an operator, implied by an account token.
    static func owningAccount(_ given: Int64?, call: Call, fail: (String) -> Void) -> Int64? {
        switch call.principal.role {
        case .operator:
            if given == nil { fail("is required for an operator token: the account the zone belongs to") }
            return given
        case .account(let own):
            if let given, given != own {
                fail("must be your own account (\(own)) or left out")
                return nil
            }
            return own
        }
    }

    static func zoneName(_ text: String) throws(RuleMessage) -> DomainName {
        let name: DomainName
        do {
            name = try DomainName(userInput: text)
        } catch {
            throw RuleMessage("'\(text)' is not a domain name: \(error)")
        }
        guard name.labelCount >= 1 else { throw RuleMessage("the root zone cannot be hosted here") }
        guard !name.isWildcard else { throw RuleMessage("a zone name cannot be a wildcard") }
        return name
    }

    static func readSettings(_ fields: inout JSONFields) -> ZoneSettings {
        var settings = ZoneSettings()
        if let text = fields.string("serial_policy", maxLength: 20) {
            settings.serialPolicy = SerialPolicy(rawValue: text)
            if settings.serialPolicy == nil { fields.fail("serial_policy", "must be one of date, epoch, increment, not '\(text)'") }
        }
        settings.defaultTTL = fields.int("default_ttl", in: ttlRange)
        switch fields.value("soa") {
        case nil: break
        case let value?:
            var soa = JSONFields(value, pointer: fields.pointer("soa"))
            settings.refresh = soa.int("refresh", in: 1...ttlRange.upperBound)
            settings.retry = soa.int("retry", in: 1...ttlRange.upperBound)
            settings.expire = soa.int("expire", in: 1...ttlRange.upperBound)
            settings.minimum = soa.int("minimum", in: ttlRange)
            settings.soaTTL = soa.int("ttl", in: ttlRange)
            for key in ["mname", "rname", "serial"] where soa.value(key) != nil {
                soa.fail(key, "is managed by the service and cannot be set")
            }
            do { try soa.finish() } catch { fields.errors += soa.errors }
        }
        return settings
    }

    static func zoneSettings(_ request: HTTPRequest) throws(HTTPProblem) -> ZoneSettings {
        var fields = JSONFields(try request.jsonBody())
        let settings = readSettings(&fields)
        try fields.finish()
        return settings
    }

    func createZone(_ request: ZoneCreation, call: Call, on db: PostgresConnection) throws -> HostedZone {
        if call.principal.zones != nil, !(call.principal.zones?.contains(request.name.description) ?? false) {
            throw Problems.forbidden("this token is limited to some zones and \(request.name) is not one of them")
        }
        // The account row lock makes the zone count and the insert one step: two concurrent
        // creations cannot both pass a quota that has room for one.
        guard let account = try AccountRepository.lock(id: request.accountID, on: db) else {
            throw Problems.validation([.init(pointer: "/account_id", message: "no account with id \(request.accountID)")])
        }
        // An existing name is a conflict whatever the quota says: the more precise answer.
        if try ZoneRepository.find(name: request.name.description, on: db) != nil {
            throw Problems.conflict("the zone \(request.name) already exists")
        }
        let count = try ZoneRepository.count(accountID: account.id, on: db)
        guard count < account.maxZones else {
            throw Problems.quotaExceeded("account \(account.name) already has \(count) zones, its limit of \(account.maxZones) zones")
        }
        let defaults = zoneDefaults
        try Self.checkDefaultTTL(request.settings.defaultTTL ?? Int64(defaults.defaultTTL), account: account)
        let publisher = try Self.publishingPool(request.pool ?? defaults.defaultPool, given: request.pool != nil, on: db)
        let policy = request.settings.serialPolicy ?? defaults.serialPolicy
        let serial = policy.initial(now: Date())
        let soa = ZoneSOAFields(
            mname: publisher?.soaMname ?? defaults.mname.description, rname: publisher?.soaRname ?? defaults.rname.description,
            refresh: request.settings.refresh ?? Int64(defaults.refresh), retry: request.settings.retry ?? Int64(defaults.retry),
            expire: request.settings.expire ?? Int64(defaults.expire), minimum: request.settings.minimum ?? Int64(defaults.minimum),
            ttl: request.settings.soaTTL ?? Int64(defaults.soaTTL))
        let row: ZoneRow
        do {
            row = try ZoneRepository.insert(NewZone(
                name: request.name.description, accountID: account.id, serial: Int64(serial.rawValue),
                serialPolicy: policy.rawValue, defaultTTL: request.settings.defaultTTL ?? Int64(defaults.defaultTTL),
                soa: soa, nameservers: publisher?.nameservers ?? defaults.nameservers.map(\.description),
                nsTTL: publisher?.nsTTL ?? Int64(defaults.nsTTL), poolID: publisher?.id), on: db)
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw Problems.conflict("the zone \(request.name) already exists")
        }
        try ZoneChangeRepository.append(NewZoneChange(
            zoneID: row.id, serialFrom: nil, serialTo: row.serial, tokenID: call.principal.tokenID, kind: "create",
            removedJSON: "[]", addedJSON: "[]"), on: db)
        return try HostedZone(row)
    }

    /// The pool a new zone joins: the one named, or the server's default pool.
    static func publishingPool(_ reference: String?, given: Bool, on db: PostgresConnection) throws -> PoolRow? {
        guard let reference else { return nil }
        if let found = try Int64(reference).flatMap({ try PoolRepository.find(id: $0, on: db) }) ?? PoolRepository.find(name: reference, on: db),
           let row = try PoolRepository.share(id: found.id, on: db) {
            return row
        }
        let message = given
            ? "no pool '\(reference)'"
            : "no pool was given and this server's default pool '\(reference)' does not exist; name a pool or ask the operator"
        throw Problems.validation([.init(pointer: "/pool", message: message)])
    }

    /// New settings; SOA timers are zone content, so changing them is a change with a new serial.
    static func applySettings(_ settings: ZoneSettings, to zone: HostedZone, tokenID: String, on db: PostgresConnection) throws -> HostedZone {
        var soa = zone.row.soa
        soa.refresh = settings.refresh ?? soa.refresh
        soa.retry = settings.retry ?? soa.retry
        soa.expire = settings.expire ?? soa.expire
        soa.minimum = settings.minimum ?? soa.minimum
        soa.ttl = settings.soaTTL ?? soa.ttl
        let policy = settings.serialPolicy ?? zone.policy
        let defaultTTL = settings.defaultTTL ?? zone.row.defaultTTL
        guard soa != zone.row.soa || policy != zone.policy || defaultTTL != zone.row.defaultTTL else { return zone }
        if let account = try AccountRepository.find(id: zone.row.accountID, on: db), defaultTTL != zone.row.defaultTTL {
            try checkDefaultTTL(defaultTTL, account: account)
        }
        var row = try ZoneRepository.updateSettings(id: zone.id, serialPolicy: policy.rawValue, defaultTTL: defaultTTL, soa: soa, on: db)
        if soa != zone.row.soa {
            let serial = policy.next(after: zone.serial, now: Date())
            try ZoneRepository.setSerial(id: zone.id, serial: Int64(serial.rawValue), recordCount: row.recordCount, on: db)
            try ZoneChangeRepository.append(NewZoneChange(
                zoneID: zone.id, serialFrom: Int64(zone.serial.rawValue), serialTo: Int64(serial.rawValue), tokenID: tokenID,
                kind: "settings", removedJSON: "[]", addedJSON: "[]"), on: db)
            row.serial = Int64(serial.rawValue)
        }
        return try HostedZone(row)
    }

    /// A default TTL below the account's minimum would make every record sent without a TTL fail.
    static func checkDefaultTTL(_ ttl: Int64, account: AccountRow) throws(HTTPProblem) {
        guard ttl >= account.minTTL else {
            throw Problems.validation([.init(
                pointer: "/default_ttl",
                message: "\(ttl) is below this account's minimum TTL of \(account.minTTL) seconds")])
        }
    }

    static func zoneResponse(_ status: Int, _ zone: HostedZone, propagation: PropagationSummary, location: Bool = false) -> HTTPResponse {
        var response = HTTPResponse.json(status, json(zone, propagation: propagation))
        response.headers.set("ETag", zone.etag)
        if location { response.headers.set("Location", "/v1/zones/\(zone.row.name)") }
        return response
    }

    static func propagation(of zone: HostedZone, on db: PostgresConnection) throws -> PropagationSummary {
        try PropagationRepository.summaries(zoneIDs: [zone.id], on: db)[zone.id] ?? PropagationSummary(servers: 0, inSync: 0)
    }

    /// A zone with its propagation summary: `in_sync` when every server of its pool answered
    /// the current serial (a zone without servers is trivially in sync).
    static func json(_ zone: HostedZone, propagation: PropagationSummary) -> JSONValue {
        let row = zone.row
        return .object([
            ("id", .int(row.id)),
            ("name", .string(row.name)),
            ("account_id", .int(row.accountID)),
            ("serial", .int(Int64(zone.serial.rawValue))),
            ("serial_policy", .string(zone.policy.rawValue)),
            ("default_ttl", .int(row.defaultTTL)),
            ("soa", .object([
                ("mname", .string(row.soa.mname)), ("rname", .string(row.soa.rname)),
                ("refresh", .int(row.soa.refresh)), ("retry", .int(row.soa.retry)), ("expire", .int(row.soa.expire)),
                ("minimum", .int(row.soa.minimum)), ("ttl", .int(row.soa.ttl)),
            ])),
            ("nameservers", .array(row.nameservers.map(JSONValue.string))),
            ("record_count", .int(row.recordCount)),
            ("pool_id", row.poolID.map(JSONValue.int) ?? .null),
            ("in_sync", .bool(propagation.inSync == propagation.servers)),
            ("propagation", .object([
                ("servers", .int(propagation.servers)), ("servers_in_sync", .int(propagation.inSync)),
            ])),
            ("created_at", .string(row.createdAt)),
            ("updated_at", .string(row.updatedAt)),
        ])
    }
}

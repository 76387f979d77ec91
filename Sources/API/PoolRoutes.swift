import DNSModel
import Foundation
import HTTPServer
import Store
import ZoneData

/// `/v1/pools…`: the operator's pools of secondaries and their servers.
extension APIService {
    func registerPoolRoutes() {
        route("POST", "/v1/pools") { [pool] call in
            try call.principal.requireOperator()
            let changes = try Self.poolChanges(call.http, creating: true)
            let row = try Self.mapPoolConflicts(changes) {
                try pool.transaction { db in
                    let created = try PoolRepository.create(changes, on: db)
                    return try PoolRepository.find(id: created.id, on: db) ?? created
                }
            }
            var response = HTTPResponse.json(201, Self.json(row))
            response.headers.set("Location", "/v1/pools/\(row.id)")
            return response
        }

        route("GET", "/v1/pools") { [pool] call in
            try call.principal.requireOperator()
            let page = try PageRequest(call.http)
            let after = try Self.numericCursor(page)
            let rows = try pool.withConnection { try PoolRepository.list(afterID: after, limit: page.limit + 1, on: $0) }
            return page.response(call.http, rows: rows, key: { String($0.id) }, render: Self.json)
        }

        route("GET", "/v1/pools/{pool}") { [pool] call in
            try call.principal.requireOperator()
            return .json(200, Self.json(try pool.withConnection { try Self.existingPool(call, on: $0) }))
        }

        route("PATCH", "/v1/pools/{pool}") { [pool] call in
            try call.principal.requireOperator()
            let changes = try Self.poolChanges(call.http, creating: false)
            let row = try Self.mapPoolConflicts(changes) {
                try pool.transaction { db in
                    let current = try Self.existingPool(call, on: db, lock: true)
                    guard let updated = try PoolRepository.update(id: current.id, changes, on: db) else {
                        throw Self.noPool(call)
                    }
                    let published = (current.nameservers, current.nsTTL, current.soaMname, current.soaRname)
                    if (updated.nameservers, updated.nsTTL, updated.soaMname, updated.soaRname) != published {
                        try Self.republish(updated, tokenID: call.principal.tokenID, on: db)
                    }
                    // RETURNING saw the row before its triggers kept the catalog: read it again.
                    return try PoolRepository.find(id: updated.id, on: db) ?? updated
                }
            }
            return .json(200, Self.json(row))
        }

        route("DELETE", "/v1/pools/{pool}") { [pool] call in
            try call.principal.requireOperator()
            do {
                try pool.transaction { db in
                    let current = try Self.existingPool(call, on: db, lock: true)
                    _ = try PoolRepository.delete(id: current.id, on: db)
                }
            } catch let error as DatabaseError where error.isForeignKeyViolation {
                throw Problems.conflict("the pool still publishes zones; delete them first")
            }
            return .noContent()
        }

        route("POST", "/v1/pools/{pool}/servers") { [pool] call in
            try call.principal.requireOperator()
            let changes = try Self.serverChanges(call.http, creating: true)
            let row = try Self.mapServerErrors(changes) {
                try pool.transaction { db in
                    let owner = try Self.existingPool(call, on: db)
                    return try PoolServerRepository.create(poolID: owner.id, changes, on: db)
                }
            }
            var response = HTTPResponse.json(201, Self.json(row))
            response.headers.set("Location", "/v1/pools/\(row.poolID)/servers/\(row.id)")
            return response
        }

        route("GET", "/v1/pools/{pool}/servers") { [pool] call in
            try call.principal.requireOperator()
            let page = try PageRequest(call.http)
            let after = try Self.numericCursor(page)
            let rows = try pool.withConnection { db in
                try PoolServerRepository.list(poolID: try Self.existingPool(call, on: db).id, afterID: after, limit: page.limit + 1, on: db)
            }
            return page.response(call.http, rows: rows, key: { String($0.id) }, render: Self.json)
        }

        route("GET", "/v1/pools/{pool}/servers/{id}") { [pool] call in
            try call.principal.requireOperator()
            let row = try pool.withConnection { db -> PoolServerRow in
                let owner = try Self.existingPool(call, on: db)
                guard let id = Int64(call.parameter("id")),
                      let row = try PoolServerRepository.find(poolID: owner.id, id: id, on: db) else { throw Self.noServer(call) }
                return row
            }
            return .json(200, Self.json(row))
        }

        route("PATCH", "/v1/pools/{pool}/servers/{id}") { [pool] call in
            try call.principal.requireOperator()
            let changes = try Self.serverChanges(call.http, creating: false)
            let row = try Self.mapServerErrors(changes) {
                try pool.transaction { db -> PoolServerRow in
                    let owner = try Self.existingPool(call, on: db)
                    guard let id = Int64(call.parameter("id")),
                          let row = try PoolServerRepository.update(poolID: owner.id, id: id, changes, on: db) else {
                        throw Self.noServer(call)
                    }
                    return row
                }
            }
            return .json(200, Self.json(row))
        }

        route("DELETE", "/v1/pools/{pool}/servers/{id}") { [pool] call in
            try call.principal.requireOperator()
            try pool.transaction { db in
                let owner = try Self.existingPool(call, on: db)
                guard let id = Int64(call.parameter("id")), try PoolServerRepository.delete(poolID: owner.id, id: id, on: db) else {
                    throw Self.noServer(call)
                }
            }
            return .noContent()
        }
    }

    /// A pool's NS names and SOA names are part of every member zone's content: each member gets
    /// them under a new serial, with a journal entry, in the transaction that changed the pool.
    static func republish(_ pool: PoolRow, tokenID: String, on db: PostgresConnection) throws {
        for id in try ZoneRepository.memberIDs(poolID: pool.id, on: db) {
            guard let row = try ZoneRepository.lock(id: id, on: db) else { continue }
            let zone = try HostedZone(row)
            try ZoneRepository.setPublisher(id: id, nameservers: pool.nameservers, nsTTL: pool.nsTTL,
                                            mname: pool.soaMname, rname: pool.soaRname, on: db)
            let serial = zone.policy.next(after: zone.serial, now: Date())
            try ZoneRepository.setSerial(id: id, serial: Int64(serial.rawValue), recordCount: row.recordCount, on: db)
            try ZoneChangeRepository.append(NewZoneChange(
                zoneID: id, serialFrom: Int64(zone.serial.rawValue), serialTo: Int64(serial.rawValue), tokenID: tokenID,
                kind: "pool", removedJSON: "[]", addedJSON: "[]"), on: db)
        }
    }

    /// `{pool}`: a pool id or name.
    static func existingPool(_ call: Call, on db: PostgresConnection, lock: Bool = false) throws -> PoolRow {
        let reference = call.parameter("pool")
        // No pool name holds U+0000 (PostgreSQL text cannot), so no lookup is needed to say 404.
        guard !reference.unicodeScalars.contains("\u{0}") else { throw noPool(call) }
        var row = try Int64(reference).flatMap { try PoolRepository.find(id: $0, on: db) }
            ?? PoolRepository.find(name: reference, on: db)
        if lock, let found = row { row = try PoolRepository.lock(id: found.id, on: db) }
        guard let row else { throw noPool(call) }
        return row
    }

    static func noPool(_ call: Call) -> HTTPProblem { Problems.notFound("no pool '\(call.parameter("pool"))'") }
    static func noServer(_ call: Call) -> HTTPProblem {
        Problems.notFound("pool '\(call.parameter("pool"))' has no server with id '\(call.parameter("id"))'")
    }

    static func numericCursor(_ page: PageRequest) throws(HTTPProblem) -> Int64 {
        guard let key = page.after else { return 0 }
        guard let id = Int64(key) else { throw Problems.invalidQuery("cursor", "is not a cursor this server issued") }
        return id
    }

    static func poolChanges(_ request: HTTPRequest, creating: Bool) throws(HTTPProblem) -> PoolChanges {
        var fields = JSONFields(try request.jsonBody())
        var changes = PoolChanges()
        if let name = fields.string("name", required: creating, maxLength: 100) {
            if name.isEmpty || name.trimmingCharacters(in: .whitespaces) != name {
                fields.fail("name", "must be 1 to 100 characters without surrounding spaces")
            } else if name.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                // Paths and `pool` members take an id or a name; digits alone are read as an id.
                fields.fail("name", "must not be digits only ('\(name)' would be read as a pool id)")
            }
            changes.name = name
        }
        if let given = fields.nullableStringArray("nameservers", maxCount: 20) {
            let names = given ?? []
            if names.isEmpty { fields.fail("nameservers", "must list 1 to 20 name server names") }
            var parsed: [String] = []
            for (index, text) in names.enumerated() {
                do throws(DomainNameError) {
                    parsed.append(try DomainName(userInput: text).description)
                } catch {
                    fields.errors.append(.init(pointer: "/nameservers/\(index)", message: "'\(text)' is not a domain name: \(error)"))
                }
            }
            if Set(parsed).count != parsed.count { fields.fail("nameservers", "lists a name twice") }
            changes.nameservers = parsed
        } else if creating && !fields.errors.contains(where: { $0.pointer == "/nameservers" }) {
            fields.fail("nameservers", "is required: the NS names published at each member zone's apex")
        }
        changes.nsTTL = fields.int("ns_ttl", in: 0...2_147_483_647)
        for key in ["soa_mname", "soa_rname"] {
            guard let text = fields.string(key, required: creating, maxLength: 1100) else { continue }
            do throws(DomainNameError) {
                let name = try DomainName(userInput: text).description
                if key == "soa_mname" { changes.soaMname = name } else { changes.soaRname = name }
            } catch {
                fields.fail(key, "'\(text)' is not a domain name: \(error)")
            }
        }
        switch fields.value("catalog_zone") {
        case nil: break
        case .null?: changes.catalogZone = .some(nil)
        case .string(let text)?:
            do throws(DomainNameError) { changes.catalogZone = .some(try DomainName(userInput: text).description) } catch {
                fields.fail("catalog_zone", "'\(text)' is not a domain name: \(error)")
            }
        case let other?:
            fields.fail("catalog_zone", "must be a domain name or null, not \(JSONFields.kind(of: other))")
        }
        try fields.finish()
        return changes
    }

    static func serverChanges(_ request: HTTPRequest, creating: Bool) throws(HTTPProblem) -> PoolServerChanges {
        var fields = JSONFields(try request.jsonBody())
        var changes = PoolServerChanges()
        if let address = fields.string("address", required: creating, maxLength: 64) {
            // Only literal addresses: a secondary is addressed by IP, never by a name to resolve.
            var v4 = in_addr()
            var v6 = in6_addr()
            if inet_pton(AF_INET, address, &v4) == 1 || inet_pton(AF_INET6, address, &v6) == 1 {
                changes.address = address
            } else {
                fields.fail("address", "'\(address)' is not an IPv4 or IPv6 address")
            }
        }
        changes.port = fields.int("port", in: 1...65535)
        switch fields.value("tsig_key") {
        case nil: break
        case .null?: changes.tsigKey = .some(nil)
        case .string(let text)?:
            do throws(DomainNameError) { changes.tsigKey = .some(try DomainName(userInput: text).description) } catch {
                fields.fail("tsig_key", "'\(text)' is not a key name: \(error)")
            }
        case let other?:
            fields.fail("tsig_key", "must be the name of a TSIG key or null, not \(JSONFields.kind(of: other))")
        }
        changes.description = fields.string("description", maxLength: 200)
        changes.catalog = fields.bool("catalog")
        try fields.finish()
        return changes
    }

    static func mapPoolConflicts<T>(_ changes: PoolChanges, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.isUniqueViolation {
            if error.constraint?.contains("catalog") == true {
                throw Problems.conflict("another pool already uses the catalog zone \((changes.catalogZone ?? nil) ?? "")")
            }
            if error.constraint == "zones_name_key" {
                throw Problems.conflict("a zone named \((changes.catalogZone ?? nil) ?? "") exists: the catalog zone needs a name of its own")
            }
            throw Problems.conflict("a pool named '\(changes.name ?? "")' already exists")
        }
    }

    static func mapServerErrors<T>(_ changes: PoolServerChanges, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.isForeignKeyViolation && error.constraint == "pool_servers_tsig_key_fkey" {
            throw Problems.validation([.init(pointer: "/tsig_key", message: "no TSIG key named \((changes.tsigKey ?? nil) ?? "")")])
        } catch let error as DatabaseError where error.isForeignKeyViolation {
            // The server's other reference: its pool, deleted after this request found it.
            throw Problems.notFound("the pool was deleted while the server was being written")
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw Problems.conflict("the pool already has a server at \(changes.address ?? "that address") port \(changes.port ?? 53)")
        }
    }

    static func json(_ pool: PoolRow) -> JSONValue {
        .object([
            ("id", .int(pool.id)), ("name", .string(pool.name)),
            ("nameservers", .array(pool.nameservers.map(JSONValue.string))), ("ns_ttl", .int(pool.nsTTL)),
            ("soa_mname", .string(pool.soaMname)), ("soa_rname", .string(pool.soaRname)),
            ("catalog_zone", pool.catalogZone.map(JSONValue.string) ?? .null),
            ("catalog_serial", pool.catalogSerial.map(JSONValue.int) ?? .null),
            ("created_at", .string(pool.createdAt)), ("updated_at", .string(pool.updatedAt)),
        ])
    }

    static func json(_ server: PoolServerRow) -> JSONValue {
        .object([
            ("id", .int(server.id)), ("pool_id", .int(server.poolID)), ("address", .string(server.address)),
            ("port", .int(server.port)), ("tsig_key", server.tsigKey.map(JSONValue.string) ?? .null),
            ("description", .string(server.description)), ("catalog", .bool(server.catalog)),
            ("created_at", .string(server.createdAt)),
        ])
    }
}

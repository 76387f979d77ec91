import Foundation
import HTTPServer
import Store

/// `/v1/accounts`: the operator's customers and their quotas. Account tokens may read their own
/// account (to see their quotas) and nothing else here.
extension APIService {
    static let quotaRanges = (
        maxZones: Int64(0)...1_000_000,
        maxRecordsPerZone: Int64(0)...10_000_000,
        minTTL: Int64(0)...2_147_483_647
    )

    func registerAccountRoutes() {
        route("POST", "/v1/accounts") { [pool] call in
            try call.principal.requireOperator()
            let changes = try Self.accountChanges(from: call.http, creating: true)
            let account = try Self.mapNameConflict(changes.name) {
                try pool.withConnection { try AccountRepository.create(changes, on: $0) }
            }
            var response = HTTPResponse.json(201, Self.json(account))
            response.headers.set("Location", "/v1/accounts/\(account.id)")
            return response
        }

        route("GET", "/v1/accounts") { [pool] call in
            try call.principal.requireOperator()
            let page = try PageRequest(call.http)
            let after = try page.after.map { key throws(HTTPProblem) -> Int64 in
                guard let id = Int64(key) else { throw Problems.invalidQuery("cursor", "is not a cursor this server issued") }
                return id
            } ?? 0
            let rows = try pool.withConnection { try AccountRepository.list(afterID: after, limit: page.limit + 1, on: $0) }
            return page.response(call.http, rows: rows, key: { String($0.id) }, render: Self.json)
        }

        route("GET", "/v1/accounts/{id}") { [pool] call in
            let id = try Self.accountID(call, visibleTo: call.principal)
            guard let account = try pool.withConnection({ try AccountRepository.find(id: id, on: $0) }) else {
                throw Self.noAccount(call)
            }
            return .json(200, Self.json(account))
        }

        route("PATCH", "/v1/accounts/{id}") { [pool] call in
            try call.principal.requireOperator()
            let id = try Self.accountID(call, visibleTo: call.principal)
            let changes = try Self.accountChanges(from: call.http, creating: false)
            let account = try Self.mapNameConflict(changes.name) {
                try pool.withConnection { try AccountRepository.update(id: id, changes, on: $0) }
            }
            guard let account else { throw Self.noAccount(call) }
            return .json(200, Self.json(account))
        }

        route("DELETE", "/v1/accounts/{id}") { [pool, tokens] call in
            try call.principal.requireOperator()
            let id = try Self.accountID(call, visibleTo: call.principal)
            let deleted: Bool
            do {
                deleted = try pool.withConnection { try AccountRepository.delete(id: id, on: $0) }
            } catch let error as DatabaseError where error.isForeignKeyViolation {
                throw Problems.conflict("account \(id) still owns zones; delete its zones first")
            }
            guard deleted else { throw Self.noAccount(call) }
            tokens.forgetAll()  // the account's tokens went with it
            return .noContent()
        }
    }

    /// The `{id}` of an account route. An account token asking for another account gets the same
    /// 404 as for an id that does not exist.
    static func accountID(_ call: Call, visibleTo principal: Principal) throws(HTTPProblem) -> Int64 {
        guard let id = Int64(call.parameter("id")), id > 0, principal.canSee(accountID: id) else {
            throw noAccount(call)
        }
        return id
    }

    static func noAccount(_ call: Call) -> HTTPProblem {
        Problems.notFound("no account with id '\(call.parameter("id"))'")
    }

    static func accountChanges(from request: HTTPRequest, creating: Bool) throws(HTTPProblem) -> AccountChanges {
        var fields = JSONFields(try request.jsonBody())
        var changes = AccountChanges()
        if let name = fields.string("name", required: creating, maxLength: 100) {
            if let rule = accountNameProblem(name) { fields.fail("name", rule) } else { changes.name = name }
        }
        changes.maxZones = fields.int("max_zones", in: quotaRanges.maxZones)
        changes.maxRecordsPerZone = fields.int("max_records_per_zone", in: quotaRanges.maxRecordsPerZone)
        changes.minTTL = fields.int("min_ttl", in: quotaRanges.minTTL)
        try fields.finish()
        return changes
    }

    /// Account names are labels people read in listings and logs: printable, no surrounding space.
    static func accountNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.trimmingCharacters(in: .whitespaces) != name { return "must not start or end with a space" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "must not contain control characters"
        }
        return nil
    }

    static func mapNameConflict<T>(_ name: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where error.isUniqueViolation {
            throw Problems.conflict("an account named '\(name ?? "")' already exists")
        }
    }

    static func json(_ account: AccountRow) -> JSONValue {
        .object([
            ("id", .int(account.id)),
            ("name", .string(account.name)),
            ("max_zones", .int(account.maxZones)),
            ("max_records_per_zone", .int(account.maxRecordsPerZone)),
            ("min_ttl", .int(account.minTTL)),
            ("created_at", .string(account.createdAt)),
            ("updated_at", .string(account.updatedAt)),
        ])
    }
}

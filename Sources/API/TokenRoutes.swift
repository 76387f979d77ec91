import DNSModel
import HTTPServer
import Store

/// `/v1/tokens`: API tokens. The operator manages all; an account token manages its own
/// account's tokens, and can never mint rights it does not have itself.
extension APIService {
    static let maxZonesPerToken = 1000

    func registerTokenRoutes() {
        route("POST", "/v1/tokens") { [pool] call in
            let request = try Self.tokenRequest(from: call.http, by: call.principal)
            let secret = TokenSecret.generate()
            let row: TokenRow
            do {
                row = try pool.withConnection { db in
                    try TokenRepository.insert(NewToken(
                        id: secret.id, secretHash: secret.secretHash, role: request.role, accountID: request.accountID,
                        readOnly: request.readOnly, zones: request.zones, description: request.description), on: db)
                }
            } catch let error as DatabaseError where error.isForeignKeyViolation {
                throw Problems.validation([.init(pointer: "/account_id", message: "no account with id \(request.accountID ?? 0)")])
            }
            var body = Self.json(row)
            if case .object(var members) = body {
                members.insert(("token", .string(secret.presented)), at: 1)
                body = .object(members)
            }
            var response = HTTPResponse.json(201, body)
            response.headers.set("Location", "/v1/tokens/\(row.id)")
            response.headers.set("Cache-Control", "no-store")
            return response
        }

        route("GET", "/v1/tokens") { [pool] call in
            let principal = call.principal
            let page = try PageRequest(call.http)
            var accountFilter = principal.accountID
            if principal.isOperator, let text = call.http.query("account") {
                guard let id = Int64(text), id > 0 else {
                    throw Problems.invalidQuery("account", "must be an account id, not '\(text)'")
                }
                accountFilter = id
            }
            let rows = try pool.withConnection {
                try TokenRepository.list(accountID: accountFilter, afterID: page.after ?? "", limit: page.limit + 1, on: $0)
            }
            return page.response(call.http, rows: rows, key: \.id, render: Self.json)
        }

        route("GET", "/v1/tokens/{id}") { [pool] call in
            let row = try Self.visibleToken(call, pool: pool)
            return .json(200, Self.json(row))
        }

        route("DELETE", "/v1/tokens/{id}") { [pool, tokens] call in
            try Self.requireTokenManagement(call.principal)
            let row = try Self.visibleToken(call, pool: pool)
            _ = try pool.withConnection { try TokenRepository.delete(id: row.id, on: $0) }
            tokens.forget(id: row.id)
            return .noContent()
        }
    }

    struct TokenRequest {
        var role: TokenRow.Role
        var accountID: Int64?
        var readOnly: Bool
        var zones: [String]?
        var description: String
    }

    /// A token limited to some zones cannot create or revoke tokens: it would otherwise widen
    /// its own reach by minting an unlimited one.
    static func requireTokenManagement(_ principal: Principal) throws(HTTPProblem) {
        if principal.zones != nil {
            throw Problems.forbidden("a token limited to zones cannot create or revoke tokens")
        }
    }

    static func tokenRequest(from request: HTTPRequest, by principal: Principal) throws(HTTPProblem) -> TokenRequest {
        try requireTokenManagement(principal)
        var fields = JSONFields(try request.jsonBody())
        var result = TokenRequest(role: .account, accountID: nil, readOnly: false, zones: nil, description: "")

        if let roleText = fields.string("role") {
            if let role = TokenRow.Role(rawValue: roleText) { result.role = role } else {
                fields.fail("role", "must be \"operator\" or \"account\", not \"\(roleText)\"")
            }
        }
        let accountID = fields.int("account_id", in: 1...Int64.max)
        result.readOnly = fields.bool("read_only") ?? false
        result.description = fields.string("description", maxLength: 200) ?? ""
        let zones = fields.nullableStringArray("zones", maxCount: maxZonesPerToken)

        switch (result.role, principal.role) {
        case (.operator, .account):
            throw Problems.forbidden("only an operator token can create operator tokens")
        case (.operator, .operator):
            if accountID != nil { fields.fail("account_id", "an operator token belongs to no account; leave account_id out") }
            if case .some(.some) = zones { fields.fail("zones", "only account tokens can be limited to zones") }
        case (.account, .operator):
            // With a role that did not parse, which fields are needed is unknown: say nothing.
            if accountID == nil, fields.errors.allSatisfy({ $0.pointer != "/account_id" && $0.pointer != "/role" }) {
                fields.fail("account_id", "is required when an operator creates an account token")
            }
            result.accountID = accountID
        case (.account, .account(let own)):
            if let accountID, accountID != own {
                throw Problems.notFound("no account with id \(accountID)")
            }
            result.accountID = own
        }

        if case .some(.some(let names)) = zones {
            var canonical: [String] = []
            for (index, name) in names.enumerated() {
                do {
                    canonical.append(try DomainName(userInput: name).description)
                } catch {
                    fields.errors.append(.init(pointer: "/zones/\(index)", message: "\(error)"))
                }
            }
            result.zones = Array(Set(canonical)).sorted()
        }
        try fields.finish()
        return result
    }

    /// The token named in the path, when the caller may see it (404 otherwise).
    static func visibleToken(_ call: Call, pool: ConnectionPool) throws -> TokenRow {
        let id = call.parameter("id")
        let notFound = Problems.notFound("no token with id '\(id)'")
        guard id.count == 16, id.allSatisfy(\.isHexDigit) else { throw notFound }
        guard let row = try pool.withConnection({ try TokenRepository.find(id: id.lowercased(), on: $0) }) else { throw notFound }
        if !call.principal.isOperator && row.accountID != call.principal.accountID { throw notFound }
        return row
    }

    static func json(_ token: TokenRow) -> JSONValue {
        .object([
            ("id", .string(token.id)),
            ("role", .string(token.role.rawValue)),
            ("account_id", token.accountID.map(JSONValue.int) ?? .null),
            ("read_only", .bool(token.readOnly)),
            ("zones", token.zones.map { .array($0.map(JSONValue.string)) } ?? .null),
            ("description", .string(token.description)),
            ("created_at", .string(token.createdAt)),
        ])
    }
}

import DNSModel
import Foundation
import HTTPServer
import Store

/// `/v1/tsig-keys`: keys secondaries sign their transfers with. The secret is in the creation
/// response only; the service keeps it because it must sign with it.
extension APIService {
    static let tsigAlgorithms = ["hmac-sha256": 32, "hmac-sha512": 64]

    func registerTSIGKeyRoutes() {
        route("POST", "/v1/tsig-keys") { [pool] call in
            try call.principal.requireOperator()
            var fields = JSONFields(try call.http.jsonBody())
            let name = fields.string("name", required: true, maxLength: 1100).flatMap { text -> String? in
                do throws(DomainNameError) { return try DomainName(userInput: text).description } catch {
                    fields.fail("name", "'\(text)' is not a key name (a domain name such as transfer-key.example.): \(error)")
                    return nil
                }
            }
            let algorithm = fields.string("algorithm", maxLength: 20) ?? "hmac-sha256"
            let secretLength = Self.tsigAlgorithms[algorithm]
            if secretLength == nil { fields.fail("algorithm", "must be hmac-sha256 or hmac-sha512, not '\(algorithm)'") }
            var secret: [UInt8]?
            if let text = fields.string("secret", maxLength: 200) {
                if let bytes = Data(base64Encoded: text).map(Array.init), (16...128).contains(bytes.count) {
                    secret = bytes
                } else {
                    fields.fail("secret", "must be base64 of 16 to 128 random octets (leave it out to have one generated)")
                }
            }
            try fields.finish()
            guard let name, let secretLength else { throw Problems.validation(fields.errors) }
            let bytes = secret ?? (0..<secretLength).map { _ in UInt8.random(in: 0...255) }
            let row: TSIGKeyRow
            do {
                row = try pool.withConnection { try TSIGKeyRepository.create(name: name, algorithm: algorithm, secret: bytes, on: $0) }
            } catch let error as DatabaseError where error.isUniqueViolation {
                throw Problems.conflict("a TSIG key named \(name) already exists")
            }
            guard case .object(var members) = Self.json(row) else { return .json(201, Self.json(row)) }
            members.append(("secret", .string(Data(row.secret).base64EncodedString())))
            var response = HTTPResponse.json(201, .object(members))
            response.headers.set("Location", "/v1/tsig-keys/\(row.name)")
            response.headers.set("Cache-Control", "no-store")
            return response
        }

        route("GET", "/v1/tsig-keys") { [pool] call in
            try call.principal.requireOperator()
            let page = try PageRequest(call.http)
            let rows = try pool.withConnection { try TSIGKeyRepository.list(afterName: page.after ?? "", limit: page.limit + 1, on: $0) }
            return page.response(call.http, rows: rows, key: \.name, render: Self.json)
        }

        route("GET", "/v1/tsig-keys/{name}") { [pool] call in
            try call.principal.requireOperator()
            let name = (try? DomainName(userInput: call.parameter("name")).description) ?? ""
            guard let row = try pool.withConnection({ try TSIGKeyRepository.find(name: name, on: $0) }) else {
                throw Problems.notFound("no TSIG key named '\(call.parameter("name"))'")
            }
            return .json(200, Self.json(row))
        }

        route("DELETE", "/v1/tsig-keys/{name}") { [pool] call in
            try call.principal.requireOperator()
            let name = (try? DomainName(userInput: call.parameter("name")).description) ?? ""
            do {
                guard try pool.withConnection({ try TSIGKeyRepository.delete(name: name, on: $0) }) else {
                    throw Problems.notFound("no TSIG key named '\(call.parameter("name"))'")
                }
            } catch let error as DatabaseError where error.isForeignKeyViolation {
                throw Problems.conflict("the key \(name) is still used by a pool server; change or delete the server first")
            }
            return .noContent()
        }
    }

    /// A key without its secret.
    static func json(_ key: TSIGKeyRow) -> JSONValue {
        .object([("name", .string(key.name)), ("algorithm", .string(key.algorithm)), ("created_at", .string(key.createdAt))])
    }
}

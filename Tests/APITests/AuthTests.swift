import Foundation
import HTTPServer
@testable import Store
import Testing

@testable import API

@Suite("Authentication and tokens")
struct AuthTests {
    @Test("requests without a valid token are 401 with a problem body")
    func unauthenticated() throws {
        let api = try APIFixture()
        let secret = try api.createToken(accountID: nil)
        let wrongSecret = String(secret.dropLast()) + (secret.last == "A" ? "B" : "A")
        let cases: [(String?, String)] = [
            (nil, "send a token"),
            ("Basic dXNlcjpwYXNz", "must be 'Bearer"),
            ("Bearer nonsense", "unknown or has been revoked"),
            ("Bearer zct_0123456789abcdef_" + String(repeating: "A", count: 43), "unknown or has been revoked"),
            ("Bearer " + wrongSecret, "unknown or has been revoked"),
        ]
        for (header, expected) in cases {
            let response = try api.client.send("GET", "/v1/accounts", headers: header.map { ["Authorization": $0] } ?? [:])
            #expect(response.status == 401, "\(header ?? "no header")")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try response.problemDetail().contains(expected), "\(header ?? "no header")")
        }
        #expect(try api.client.send("GET", "/v1/accounts", headers: ["Authorization": "Bearer " + secret]).status == 200)
    }

    @Test("a token is read by its exact shape: spaces around it and an upper-case id are fine, anything else is 401")
    func tokenShape() throws {
        let api = try APIFixture()
        let token = try api.createToken(accountID: nil)
        let id = token.dropFirst(4).prefix(16), secret = token.suffix(43)
        func status(_ header: String) throws -> Int {
            try api.client.send("GET", "/v1/accounts", headers: ["Authorization": header]).status
        }
        #expect(try status("Bearer \t " + token + " \t") == 200)
        #expect(try status("bearer zct_\(id.uppercased())_\(secret)") == 200)
        let altered = [
            "zct_\(id)_\(secret.dropLast())",                          // secret one short
            "zct_\(id)_\(secret)A",                                    // one long
            "zct_\(id)_\(secret.dropLast())+",                         // not base64url
            "zct_\(id.dropLast())g_\(secret)",                         // id not hex
            "zct_\(id.dropLast())\u{FF10}_\(secret.dropLast(2))",      // a fullwidth digit (3 bytes) in the id
            "zct-\(id)_\(secret)",                                     // prefix
            "zct_\(id)-\(secret)",                                     // separator
        ]
        for presented in altered {
            #expect(try status("Bearer " + presented) == 401, "\(presented)")
        }
    }

    @Test("the secret is stored nowhere in the database, only its SHA-256")
    func secretNotStored() throws {
        let api = try APIFixture()
        let token = try api.createToken(accountID: nil)
        // zct_<16 hex id>_<43 base64url secret>; the secret itself may contain "_".
        let tokenID = String(token.dropFirst(4).prefix(16))
        let secretPart = String(token.suffix(43))
        let dump = try api.databaseText("SELECT string_agg(row_to_json(t)::text, E'\\n') AS all FROM api_tokens t")
        #expect(!dump.isEmpty)
        #expect(!dump.contains(secretPart))
        #expect(!dump.contains(token))
        // PostgreSQL's own sha256() as the independent reference for what the service stored.
        let matches = try api.databaseText(
            "SELECT (secret_hash = sha256(convert_to('\(secretPart)', 'UTF8')))::text AS all FROM api_tokens WHERE id = '\(tokenID)'")
        #expect(matches == "true")
    }

    @Test("a revoked token is refused from then on")
    func revocation() throws {
        let api = try APIFixture()
        let account = try api.createAccount("acme")
        let created = try api.client.send("POST", "/v1/tokens", token: api.operatorToken,
                                          json: #"{"account_id": \#(account), "description": "ci"}"#)
        #expect(created.status == 201)
        #expect(created.header("Cache-Control") == "no-store")
        let body = try created.json()
        let token = try #require(body["token"]?.stringValue)
        let id = try #require(body["id"]?.stringValue)
        #expect(token.contains(id))
        #expect(try api.client.send("GET", "/v1/accounts/\(account)", token: token).status == 200)
        #expect(try api.client.send("DELETE", "/v1/tokens/\(id)", token: api.operatorToken).status == 204)
        #expect(try api.client.send("GET", "/v1/accounts/\(account)", token: token).status == 401)
        #expect(try api.client.send("GET", "/v1/tokens/\(id)", token: api.operatorToken).status == 404)
    }

    @Test("a token deleted behind the service's back is refused once the token cache's lifetime has passed")
    func tokenCacheLifetime() throws {
        let api = try APIFixture(tokenCacheSeconds: 0.3)
        let account = try api.createAccount("acme")
        let token = try api.createToken(accountID: account)
        #expect(try api.client.send("GET", "/v1/accounts/\(account)", token: token).status == 200)
        let id = try #require(token.split(separator: "_").dropFirst().first.map(String.init))
        _ = try api.databaseText("DELETE FROM api_tokens WHERE id = '\(id)'")
        usleep(400_000)
        #expect(try api.client.send("GET", "/v1/accounts/\(account)", token: token).status == 401)
    }

    @Test("the token cache reads a row once per lifetime, forgets revoked ones, and never remembers a missing one")
    func tokenCache() throws {
        let cache = TokenCache(lifetime: 1)
        let row = TokenRow(id: "0123456789abcdef", secretHash: Array(repeating: 0, count: 32), role: .operator, accountID: nil,
                           readOnly: false, zones: nil, description: "", createdAt: "")
        var loads = 0
        func read(at now: Double, stored: TokenRow? = row) -> TokenRow? {
            cache.row(id: row.id, now: now) { loads += 1; return stored }
        }
        #expect(read(at: 100) == row && loads == 1)
        #expect(read(at: 100.9) == row && loads == 1)
        #expect(read(at: 101.1) == row && loads == 2)
        cache.forget(id: row.id)
        #expect(read(at: 101.2) == row && loads == 3)
        cache.forgetAll()
        #expect(read(at: 101.3, stored: nil) == nil && loads == 4)
        #expect(read(at: 101.4) == row && loads == 5)
        #expect(TokenCache(lifetime: 0).row(id: row.id, now: 1) { loads += 1; return row } == row && loads == 6)
    }

    @Test("a read-only token reads but every write is 403")
    func readOnly() throws {
        let api = try APIFixture()
        let account = try api.createAccount("acme")
        let reader = try api.createToken(accountID: account, readOnly: true)
        #expect(try api.client.send("GET", "/v1/accounts/\(account)", token: reader).status == 200)
        #expect(try api.client.send("GET", "/v1/tokens", token: reader).status == 200)
        let write = try api.client.send("POST", "/v1/tokens", token: reader, json: "{}")
        #expect(write.status == 403)
        #expect(try write.problemDetail().contains("read-only"))
        let operatorReader = try api.createToken(accountID: nil, readOnly: true)
        #expect(try api.client.send("GET", "/v1/accounts", token: operatorReader).status == 200)
        #expect(try api.client.send("POST", "/v1/accounts", token: operatorReader, json: #"{"name": "x"}"#).status == 403)
        #expect(try api.client.send("DELETE", "/v1/accounts/\(account)", token: operatorReader).status == 403)
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM accounts") == "1")
    }

    @Test("an account token cannot see or touch another account")
    func tenantIsolation() throws {
        let api = try APIFixture()
        let mine = try api.createAccount("mine")
        let theirs = try api.createAccount("theirs")
        let myToken = try api.createToken(accountID: mine)
        let theirToken = try api.createToken(accountID: theirs)
        let theirTokenID = String(theirToken.split(separator: "_")[1])

        #expect(try api.client.send("GET", "/v1/accounts", token: myToken).status == 403)
        #expect(try api.client.send("GET", "/v1/accounts/\(mine)", token: myToken).status == 200)
        let other = try api.client.send("GET", "/v1/accounts/\(theirs)", token: myToken)
        #expect(other.status == 404)
        #expect(try other.problemDetail() == "no account with id '\(theirs)'")
        // The same answer as for an account that does not exist at all.
        #expect(try api.client.send("GET", "/v1/accounts/999999", token: myToken).status == 404)
        #expect(try api.client.send("PATCH", "/v1/accounts/\(mine)", token: myToken, json: #"{"max_zones": 1000}"#).status == 403)

        let listed = try api.client.send("GET", "/v1/tokens", token: myToken).json()
        let ids = listed["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(!ids.isEmpty)
        #expect(!ids.contains(theirTokenID))
        #expect(try api.client.send("GET", "/v1/tokens/\(theirTokenID)", token: myToken).status == 404)
        #expect(try api.client.send("DELETE", "/v1/tokens/\(theirTokenID)", token: myToken).status == 404)
        #expect(try api.client.send("GET", "/v1/accounts/\(theirs)", token: theirToken).status == 200)

        let forOther = try api.client.send("POST", "/v1/tokens", token: myToken, json: #"{"account_id": \#(theirs)}"#)
        #expect(forOther.status == 404)
        let escalate = try api.client.send("POST", "/v1/tokens", token: myToken, json: #"{"role": "operator"}"#)
        #expect(escalate.status == 403)
        let own = try api.client.send("POST", "/v1/tokens", token: myToken, json: #"{"read_only": true}"#)
        #expect(own.status == 201)
        #expect(try own.json()["account_id"]?.intValue == mine)
    }

    @Test("a token limited to zones cannot mint or revoke tokens")
    func zoneLimited() throws {
        let api = try APIFixture()
        let account = try api.createAccount("acme")
        let created = try api.client.send("POST", "/v1/tokens", token: api.operatorToken,
                                          json: #"{"account_id": \#(account), "zones": ["Example.COM", "bücher.example."]}"#)
        #expect(created.status == 201)
        let body = try created.json()
        #expect(body["zones"] == .array([.string("example.com."), .string("xn--bcher-kva.example.")]))
        let limited = try #require(body["token"]?.stringValue)
        let attempt = try api.client.send("POST", "/v1/tokens", token: limited, json: "{}")
        #expect(attempt.status == 403)
        #expect(try attempt.problemDetail().contains("limited to zones"))

        let badZone = try api.client.send("POST", "/v1/tokens", token: api.operatorToken,
                                          json: #"{"account_id": \#(account), "zones": ["ok.example", "bad..name"]}"#)
        #expect(badZone.status == 422)
        #expect(try badZone.problemPointers() == ["/zones/1"])
    }

    @Test("an operator creating tokens gets every field checked")
    func tokenValidation() throws {
        let api = try APIFixture()
        let missingAccount = try api.client.send("POST", "/v1/tokens", token: api.operatorToken, json: #"{"role": "account"}"#)
        #expect(missingAccount.status == 422)
        #expect(try missingAccount.problemPointers() == ["/account_id"])
        let unknownAccount = try api.client.send("POST", "/v1/tokens", token: api.operatorToken, json: #"{"account_id": 424242}"#)
        #expect(unknownAccount.status == 422)
        #expect(try unknownAccount.problemPointers() == ["/account_id"])
        let wrong = try api.client.send("POST", "/v1/tokens", token: api.operatorToken,
                                        json: #"{"role": "admin", "read_only": "yes", "colour": 1}"#)
        #expect(wrong.status == 422)
        #expect(try Set(wrong.problemPointers()) == ["/role", "/read_only", "/colour"], "\(wrong.text)")
        // PostgreSQL text cannot store U+0000: a description holding it is the client's mistake, not a 500.
        let nul = try api.client.send("POST", "/v1/tokens", token: api.operatorToken,
                                      json: #"{"role": "operator", "description": "a\u0000b"}"#)
        #expect(nul.status == 422, "\(nul.text)")
        #expect(try nul.problemPointers() == ["/description"])
    }
}

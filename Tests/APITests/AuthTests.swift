import Foundation
import HTTPServer
import Testing

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

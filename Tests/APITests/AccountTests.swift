import Foundation
import HTTPServer
import Testing

@Suite("Accounts")
struct AccountTests {
    @Test("create, read, change and delete an account")
    func lifecycle() throws {
        let api = try APIFixture()
        let created = try api.client.send("POST", "/v1/accounts", token: api.operatorToken,
                                          json: #"{"name": "acme", "max_zones": 5, "min_ttl": 300}"#)
        #expect(created.status == 201)
        let account = try created.json()
        let id = try #require(account["id"]?.intValue)
        #expect(created.header("Location") == "/v1/accounts/\(id)")
        #expect(account["name"] == .string("acme"))
        #expect(account["max_zones"] == .int(5))
        #expect(account["max_records_per_zone"] == .int(10000))
        #expect(account["min_ttl"] == .int(300))
        #expect(account["created_at"]?.stringValue?.hasSuffix("Z") == true)

        let changed = try api.client.send("PATCH", "/v1/accounts/\(id)", token: api.operatorToken, json: #"{"max_zones": 7}"#)
        #expect(changed.status == 200)
        #expect(try changed.json()["max_zones"] == .int(7))
        #expect(try changed.json()["min_ttl"] == .int(300))
        #expect(try api.client.send("GET", "/v1/accounts/\(id)", token: api.operatorToken).json()["max_zones"] == .int(7))

        #expect(try api.client.send("DELETE", "/v1/accounts/\(id)", token: api.operatorToken).status == 204)
        #expect(try api.client.send("GET", "/v1/accounts/\(id)", token: api.operatorToken).status == 404)
        #expect(try api.client.send("DELETE", "/v1/accounts/\(id)", token: api.operatorToken).status == 404)
    }

    // The token is used just before, so its row sits in the token cache: the deletion must
    // forget it there too (AuthTests covers the cache's other rules).
    @Test("deleting an account revokes its tokens at once, though they were just used")
    func deleteRevokesTokens() throws {
        let api = try APIFixture()
        let id = try api.createAccount("acme")
        let token = try api.createToken(accountID: id)
        #expect(try api.client.send("GET", "/v1/accounts/\(id)", token: token).status == 200)
        #expect(try api.client.send("DELETE", "/v1/accounts/\(id)", token: api.operatorToken).status == 204)
        #expect(try api.client.send("GET", "/v1/tokens", token: token).status == 401)
    }

    @Test("a taken name is 409")
    func duplicateName() throws {
        let api = try APIFixture()
        _ = try api.createAccount("acme")
        let again = try api.client.send("POST", "/v1/accounts", token: api.operatorToken, json: #"{"name": "acme"}"#)
        #expect(again.status == 409)
        #expect(try again.problemDetail().contains("'acme' already exists"))
        let other = try api.createAccount("other")
        let rename = try api.client.send("PATCH", "/v1/accounts/\(other)", token: api.operatorToken, json: #"{"name": "acme"}"#)
        #expect(rename.status == 409)
    }

    @Test("every invalid field is reported at once with its pointer")
    func validation() throws {
        let api = try APIFixture()
        let response = try api.client.send(
            "POST", "/v1/accounts", token: api.operatorToken,
            json: #"{"name": " padded", "max_zones": -1, "max_records_per_zone": "many", "min_ttl": 1.5, "max_zone": 3}"#)
        #expect(response.status == 422)
        #expect(response.header("Content-Type") == "application/problem+json")
        let problem = try response.json()
        #expect(problem["status"] == .int(422))
        #expect(problem["type"] == .string("urn:zonectl:problem:validation-failed"))
        #expect(try Set(response.problemPointers()) == ["/name", "/max_zones", "/max_records_per_zone", "/min_ttl", "/max_zone"])
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM accounts") == "0")

        let missing = try api.client.send("POST", "/v1/accounts", token: api.operatorToken, json: "{}")
        #expect(missing.status == 422)
        #expect(try missing.problemPointers() == ["/name"])
        let duplicateKey = try api.client.send("POST", "/v1/accounts", token: api.operatorToken, json: #"{"name": "a", "name": "b"}"#)
        #expect(duplicateKey.status == 422)
        let notObject = try api.client.send("POST", "/v1/accounts", token: api.operatorToken, json: "[1, 2]")
        #expect(notObject.status == 422)
    }

    @Test("malformed JSON is 400 with its position; another media type is 415")
    func syntaxAndMediaType() throws {
        let api = try APIFixture()
        let broken = try api.client.send("POST", "/v1/accounts", token: api.operatorToken, json: "{\n  \"name\": \"acme\",\n}")
        #expect(broken.status == 400)
        let detail = try broken.problemDetail()
        #expect(detail.contains("line 3"), "\(detail)")
        let form = try api.client.send("POST", "/v1/accounts", headers: ["Authorization": "Bearer " + api.operatorToken,
                                                                       "Content-Type": "application/x-www-form-urlencoded"],
                                       body: Array("name=acme".utf8))
        #expect(form.status == 415)
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM accounts") == "0")
    }

    @Test("lists page with next_cursor and a Link header, each account once")
    func pagination() throws {
        let api = try APIFixture()
        var expected: [Int64] = []
        for index in 0..<7 { expected.append(try api.createAccount("customer-\(index)")) }
        var seen: [Int64] = []
        var path = "/v1/accounts?limit=3"
        var pages = 0
        while true {
            let response = try api.client.send("GET", path, token: api.operatorToken)
            #expect(response.status == 200)
            let body = try response.json()
            seen += body["items"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
            pages += 1
            guard let cursor = body["next_cursor"]?.stringValue else {
                #expect(response.header("Link") == nil)
                break
            }
            let link = try #require(response.header("Link"))
            #expect(link.hasSuffix("rel=\"next\""))
            path = "/v1/accounts?limit=3&cursor=\(cursor)"
            #expect(link.contains(path))
        }
        #expect(seen == expected)
        #expect(pages == 3)
        #expect(try api.client.send("GET", "/v1/accounts?limit=0", token: api.operatorToken).status == 400)
        #expect(try api.client.send("GET", "/v1/accounts?limit=1001", token: api.operatorToken).status == 400)
        #expect(try api.client.send("GET", "/v1/accounts?cursor=bogus", token: api.operatorToken).status == 400)
    }
}

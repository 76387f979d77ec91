import Foundation
import IntegrationHarness
import Testing

/// schemathesis (installed by `make deps` into .local/tools/venv) against the real server with
/// openapi.yaml: every operation gets the spec's examples, generated valid and invalid requests,
/// and stateful sequences that follow the responses (create, then read, change, delete). The run
/// fails on any 5xx and on any response whose status, content type, headers or body the spec
/// does not describe.
@Suite("Schema conformance (schemathesis against the live server)")
struct SchemaConformanceTests {
    static let schemathesis = APIFixture.repositoryRoot.appendingPathComponent(".local/tools/venv/bin/schemathesis").path
    static let specification = APIFixture.repositoryRoot.appendingPathComponent("openapi.yaml").path

    /// Requests per operation and phase: about a minute of requests on a quiet 2-core machine.
    static let examplesPerOperation = 50
    /// A fixed seed, so a failure found once is found again on the next run.
    static let seed = 20250615
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance",
        "response_headers_conformance", "response_schema_conformance",
    ]

    @Test("schemathesis finds no 5xx and no response that breaks openapi.yaml")
    func schemathesisRun() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.schemathesis),
            "schemathesis is not installed at \(Self.schemathesis): run `make deps` (scripts/install-deps.sh)")
        let api = try APIFixture()
        try Self.createResources(api)

        // Revoking the token schemathesis authenticates with would turn the rest of the run into
        // 401s that test nothing, and the stateful phase can revoke it: it follows the ids that
        // GET /v1/tokens lists to DELETE /v1/tokens/{id}. So the main run leaves that one
        // operation out, and a second, short run covers the token operations with a token of
        // its own, after the main run has finished.
        let main = try Self.run(port: Int(api.server.boundPort), token: api.operatorToken,
                                selection: ["--exclude-operation-id", "deleteToken"])
        #expect(main.status == 0, "schemathesis (every operation but deleteToken) failed:\n\(main.report)")

        let tokenRunToken = try api.createToken(accountID: nil)
        let tokens = try Self.run(port: Int(api.server.boundPort), token: tokenRunToken,
                                  selection: ["--include-path-regex", "^/v1/tokens"])
        #expect(tokens.status == 0, "schemathesis (the /v1/tokens operations) failed:\n\(tokens.report)")
    }

    /// Runs schemathesis with the checks above; `report` is its output, from its failures on
    /// when it has any.
    static func run(port: Int, token: String, selection: [String]) throws -> (status: Int32, report: String) {
        let workDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("zonectl-schemathesis-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workDirectory) }

        let arguments = [
            "run", specification,
            "--url", "http://127.0.0.1:\(port)",
            "--header", "Authorization: Bearer \(token)",
            "--checks", checks.joined(separator: ","),
            "--max-examples", String(examplesPerOperation),
            "--seed", String(seed),
            "--workers", "1",
            "--request-timeout", "30",
            // Hypothesis's health checks judge the data generator (too slow on a busy machine,
            // too many filtered inputs), not the API.
            "--suppress-health-check", "all",
            // Nothing kept between runs, so each run depends on the seed alone.
            "--generation-database", "none",
            "--no-color",
        ] + selection
        // A clean environment: no proxy a developer's shell may set, so requests go straight to
        // 127.0.0.1; a working directory of its own, so no schemathesis.toml found on the way
        // changes the run and nothing is left in the repository.
        let environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": workDirectory,
            "LANG": "C.UTF-8",
            "NO_PROXY": "*",
            "PYTHONDONTWRITEBYTECODE": "1",
        ]
        let child = try ChildProcess(schemathesis, arguments, environment: environment, currentDirectory: workDirectory)
        let status = try child.wait(timeoutSeconds: 900)
        let output = child.standardOutput + child.standardError
        let report = output.range(of: "=== FAILURES ===").map { String(output[$0.lowerBound...]) } ?? output
        return (status, report)
    }

    /// The resources the spec's examples name (account 1, zone example.com with the RRsets its
    /// examples change, pool `main` with server 7, TSIG key transfer.example), so the examples and
    /// the generated requests reach the handlers' real work instead of stopping at 404.
    static func createResources(_ api: APIFixture) throws {
        let acme = try api.createAccount("acme")
        _ = try api.createAccount("unused")
        try expectCreated(api, "/v1/tsig-keys", #"{"name": "transfer.example", "algorithm": "hmac-sha256"}"#)
        try expectCreated(api, "/v1/pools", #"""
            {"name": "main", "nameservers": ["ns1.example.net", "ns2.example.net"], "ns_ttl": 86400,
             "soa_mname": "ns1.example.net", "soa_rname": "hostmaster.example.net"}
            """#)
        // Loopback addresses only: nothing may leave the machine, even if a NOTIFY were sent.
        for host in 2...8 {
            try expectCreated(api, "/v1/pools/main/servers",
                              #"{"address": "127.0.0.\#(host)", "port": 53, "tsig_key": "transfer.example"}"#)
        }
        try expectCreated(api, "/v1/zones", #"{"name": "example.com", "account_id": \#(acme), "pool": "main"}"#)
        try expectCreated(api, "/v1/zones", #"{"name": "example.org", "account_id": \#(acme)}"#)
        let changes = try api.client.send("PATCH", "/v1/zones/example.com/rrsets", token: api.operatorToken, json: #"""
            {"changes": [
              {"action": "replace", "name": "www.example.com", "type": "A", "ttl": 300, "records": ["192.0.2.1"]},
              {"action": "replace", "name": "example.com", "type": "MX", "records": ["10 mail.example.com."]},
              {"action": "replace", "name": "example.com", "type": "TXT", "records": ["\"old-verification=abc\""]},
              {"action": "replace", "name": "mail.example.com", "type": "AAAA", "records": ["2001:db8::1"]},
              {"action": "replace", "name": "legacy.example.com", "type": "CNAME", "records": ["www.example.com."]}
            ]}
            """#)
        guard changes.status == 200 else {
            throw FixtureError("changing example.com's RRsets answered \(changes.status): \(changes.text)")
        }
        _ = try api.createToken(accountID: acme, readOnly: true)
    }

    static func expectCreated(_ api: APIFixture, _ path: String, _ json: String) throws {
        let response = try api.client.send("POST", path, token: api.operatorToken, json: json)
        guard response.status == 201 else {
            throw FixtureError("POST \(path) answered \(response.status): \(response.text)")
        }
    }
}

import API
import Foundation
import HTTPServer
import IntegrationHarness
import Store

/// A real zonectl API for one test: a fresh database on the test process's PostgreSQL (or a
/// given cluster), the schema from the repository's migrations, the HTTP server on a kernel-
/// chosen port, and an operator token.
final class APIFixture: @unchecked Sendable {
    let conninfo: String
    let pool: ConnectionPool
    let service: APIService
    let server: HTTPServer
    let client: APIClient
    let operatorToken: String

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let migrationsDirectory = repositoryRoot.appendingPathComponent("migrations").path

    /// `threads` nil gives each connection a thread and the pool 16 connections, as `serve` does
    /// by default; a number makes a fixed pool of that many threads and database connections.
    init(cluster: PostgresCluster? = nil, threads: Int? = nil, connectTimeoutSeconds: Int = 5, lockTimeoutSeconds: Double? = nil,
         commitBatch: Int = 32, commitLanes: Int = 1, responseCacheBytes: Int = 32 << 20, tokenCacheSeconds: Double = 1,
         rateLimit: (perSecond: Double, burst: Double)? = nil, publicMetrics: Bool = true) throws {
        let cluster = try cluster ?? PostgresCluster.shared()
        conninfo = try cluster.createDatabase()
        _ = try Migrator(set: MigrationSet(directory: Self.migrationsDirectory)).migrate(conninfo: conninfo)
        var poolConfiguration = PoolConfiguration(conninfo: conninfo, size: threads ?? 16)
        poolConfiguration.connectTimeoutSeconds = connectTimeoutSeconds
        poolConfiguration.lockTimeoutSeconds = lockTimeoutSeconds
        pool = ConnectionPool(configuration: poolConfiguration)
        let api = APIService(pool: pool, commitBatch: commitBatch, commitLanes: commitLanes, responseCacheBytes: responseCacheBytes,
                             tokenCacheSeconds: tokenCacheSeconds,
                             rateLimit: rateLimit, publicMetrics: publicMetrics, log: { _ in })
        service = api
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.threads = threads
        configuration.accessLog = { _ in }
        configuration.bodyLimit = APIService.bodyLimit(importBytes: 64 << 20)
        server = HTTPServer(configuration: configuration, handler: api.handle)
        try server.start()
        client = APIClient(port: server.boundPort)
        operatorToken = try TokenMinting.mint(pool: pool, accountID: nil, readOnly: false, description: "test operator").token
    }

    deinit {
        server.shutdown(graceSeconds: 1)
        pool.close()
    }

    func createAccount(_ name: String) throws -> Int64 {
        let response = try client.send("POST", "/v1/accounts", token: operatorToken, json: #"{"name": "\#(name)"}"#)
        guard response.status == 201, let id = try response.json()["id"]?.intValue else {
            throw FixtureError("creating account \(name) answered \(response.status): \(response.text)")
        }
        return id
    }

    /// A token made through the API (an operator token when `accountID` is nil).
    func createToken(accountID: Int64?, readOnly: Bool = false) throws -> String {
        let json = accountID.map { #"{"account_id": \#($0), "read_only": \#(readOnly)}"# }
            ?? #"{"role": "operator", "read_only": \#(readOnly)}"#
        let response = try client.send("POST", "/v1/tokens", token: operatorToken, json: json)
        guard response.status == 201, let token = try response.json()["token"]?.stringValue else {
            throw FixtureError("creating a token answered \(response.status): \(response.text)")
        }
        return token
    }

    /// The text of column `all` of the first row, for checks straight against the database.
    func databaseText(_ sql: String) throws -> String {
        try pool.withConnection { try $0.query(sql).rows.first?["all"] ?? "" }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import IntegrationHarness
import Store
import Testing

/// The `zonectl` executable itself, as an operator runs it.
@Suite("The zonectl binary")
struct BinaryTests {
    static let binary = ZonectlBinary.path

    static func environment(_ conninfo: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = conninfo
        environment["ZONECTL_MIGRATIONS"] = APIFixture.migrationsDirectory
        return environment
    }

    @Test("two `zonectl migrate` processes at once apply each migration exactly once; again is a no-op")
    func concurrentMigrate() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        let processes = try (0..<2).map { _ in
            try ChildProcess(Self.binary, ["migrate"], environment: Self.environment(conninfo))
        }
        for process in processes {
            let status = try process.wait(timeoutSeconds: 60)
            #expect(status == 0, "\(process.standardError)")
        }
        let files = try MigrationSet(directory: APIFixture.migrationsDirectory).migrations.map(\.version)
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        let applied = try connection.query("SELECT version FROM schema_migrations ORDER BY version").rows.map { try $0.int("version") }
        #expect(applied == files.map(Int64.init))

        let again = try ChildProcess(Self.binary, ["migrate"], environment: Self.environment(conninfo))
        #expect(try again.wait(timeoutSeconds: 60) == 0)
        #expect(again.standardOutput.contains("up to date"))
        let status = try ChildProcess(Self.binary, ["migrate", "--status"], environment: Self.environment(conninfo))
        #expect(try status.wait(timeoutSeconds: 60) == 0)
    }

    @Test("`serve` refuses a database that is behind and says what to do")
    func serveRefusesOldSchema() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        let serve = try ChildProcess(Self.binary, ["serve", "--port", "0", "--dns-port", "0"], environment: Self.environment(conninfo))
        let status = try serve.wait(timeoutSeconds: 60)
        #expect(status != 0)
        #expect(serve.standardError.contains("zonectl migrate"), "\(serve.standardError)")
    }

    @Test("`serve --migrate` serves; `token create --operator` mints a working token; SIGTERM stops it cleanly")
    func serveAndStop() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        let port = FreePort.tcp()
        let serve = try ChildProcess(Self.binary, ["serve", "--migrate", "--port", String(port), "--dns-port", "0", "--threads", "2"],
                                     environment: Self.environment(conninfo))
        let client = APIClient(port: port)
        var up = false
        for _ in 0..<200 where !up {
            up = (try? client.send("GET", "/v1/health").status) == 200
            if !up { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(up, "\(serve.standardError)")

        let mint = try ChildProcess(Self.binary, ["token", "create", "--operator"], environment: Self.environment(conninfo))
        #expect(try mint.wait(timeoutSeconds: 60) == 0)
        let token = mint.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("zct_"))
        #expect(try client.send("GET", "/v1/accounts", token: token).status == 200)

        serve.signal(SIGTERM)
        #expect(try serve.wait(timeoutSeconds: 30) == 0)
        #expect(serve.standardError.contains("zonectl stopped"), "\(serve.standardError)")
        // The default access log: one line per request on standard error.
        #expect(serve.standardError.contains("GET /v1/accounts 200 "), "\(serve.standardError)")
        #expect((try? client.send("GET", "/v1/health")) == nil)
    }
}

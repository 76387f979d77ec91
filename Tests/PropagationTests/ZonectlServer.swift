import Foundation
import HTTPServer
import IntegrationHarness
import Store

/// The real `zonectl serve` in a child process, on a fresh database and free ports: the HTTP
/// API and the DNS transfer server, as an operator runs them. It can be killed (SIGKILL) and
/// started again on the same ports and database.
final class ZonectlServer: @unchecked Sendable {
    let conninfo: String
    let httpPort: UInt16
    let dnsPort: UInt16
    private(set) var token = ""
    let arguments: [String]
    private var process: ChildProcess?
    private var earlierLogs = ""

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static let binary = ZonectlBinary.path

    /// A server on a fresh database, or on `sharing`'s database (another process of the same
    /// service, with the same operator token).
    init(extraArguments: [String] = [], sharing other: ZonectlServer? = nil) throws {
        conninfo = try other?.conninfo ?? PostgresCluster.shared().createDatabase()
        httpPort = FreePort.tcp()
        dnsPort = FreePort.tcpAndUDP()
        arguments = ["serve", "--migrate", "--port", String(httpPort), "--dns-port", String(dnsPort), "--threads", "2",
                     "--check-interval", "30", "--rate-limit", "0"] + extraArguments
        try start()
        if let other {
            token = other.token
            return
        }
        let mint = try ChildProcess(Self.binary, ["token", "create", "--operator"], environment: environment)
        guard try mint.wait(timeoutSeconds: 60) == 0 else {
            throw HarnessFailure("token create failed: \(mint.standardError)")
        }
        token = mint.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = conninfo
        environment["ZONECTL_MIGRATIONS"] = Self.repositoryRoot.appendingPathComponent("migrations").path
        return environment
    }

    /// Starts the process and waits until the API answers.
    func start() throws {
        let child = try ChildProcess(Self.binary, arguments, environment: environment)
        process = child
        let client = HTTPTestClient(port: Int(httpPort))
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if (try? client.send("GET", "/v1/health").status) == 200 { return }
            guard child.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = child.standardError
        stop()
        throw HarnessFailure("zonectl serve did not come up: \(log.suffix(3000))")
    }

    /// SIGKILL: nothing is flushed, nothing is finished.
    func kill() {
        guard let process else { return }
        process.signal(SIGKILL)
        _ = try? process.wait(timeoutSeconds: 10)
        earlierLogs += process.standardError
        self.process = nil
    }

    func stop() {
        guard let process else { return }
        process.signal(SIGTERM)
        _ = try? process.wait(timeoutSeconds: 30)
        earlierLogs += process.standardError
        self.process = nil
    }

    var log: String { earlierLogs + (process?.standardError ?? "") }

    // MARK: API

    struct Reply {
        let status: Int
        let json: JSONValue
        let text: String
    }

    @discardableResult
    func api(_ method: String, _ path: String, _ body: String? = nil) throws -> Reply {
        var headers = [("Authorization", "Bearer \(token)")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response = try HTTPTestClient(port: Int(httpPort)).send(method, path, headers: headers, body: Array((body ?? "").utf8))
        let json = (try? JSONValue.parse(response.body)) ?? .null
        return Reply(status: response.status, json: json, text: response.text)
    }

    /// Like `api`, but throws unless the status is `expect`.
    @discardableResult
    func must(_ expect: Int, _ method: String, _ path: String, _ body: String? = nil) throws -> JSONValue {
        let reply = try api(method, path, body)
        guard reply.status == expect else {
            throw HarnessFailure("\(method) \(path) answered \(reply.status), not \(expect): \(reply.text)")
        }
        return reply.json
    }

    /// The zone file the API exports.
    func export(_ zone: String) throws -> String {
        let response = try HTTPTestClient(port: Int(httpPort)).send(
            "GET", "/v1/zones/\(zone)/export", headers: [("Authorization", "Bearer \(token)")])
        guard response.status == 200 else { throw HarnessFailure("export answered \(response.status)") }
        return response.text
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension ZonectlServer {
    /// The first column of the first row of `sql`, as text, straight from the database.
    func databaseText(_ sql: String) throws -> String {
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        return try connection.query(sql).rows.first?[0] ?? ""
    }
}

import Foundation
import Synchronization

/// A throw-away PostgreSQL cluster for tests: its own data directory, a free TCP port on
/// 127.0.0.1, fsync off. PostgreSQL refuses to run as root (CI runs as root), so the server
/// runs as the `postgres` user on a directory that user owns.
public final class PostgresCluster: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let binDirectory: String
    private let databaseCounter = Atomic<Int>(0)

    private static let sharedCluster = Mutex<PostgresCluster?>(nil)

    /// One cluster for the whole test process, started on first use and stopped at exit.
    public static func shared() throws -> PostgresCluster {
        try sharedCluster.withLock { cluster in
            if let cluster { return cluster }
            let started = try PostgresCluster.start()
            cluster = started
            atexit { PostgresCluster.stopSharedAtExit() }
            return started
        }
    }

    private static func stopSharedAtExit() {
        let cluster = sharedCluster.withLock { $0 }
        try? cluster?.stop()
        cluster?.removeDirectory()
    }

    /// A private cluster (for tests that stop and restart it).
    public static func start() throws -> PostgresCluster {
        let cluster = try PostgresCluster()
        try cluster.startServer()
        return cluster
    }

    private init() throws {
        binDirectory = ProcessInfo.processInfo.environment["ZONECTL_TEST_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
        port = Int(FreePort.tcp())
        directory = NSTemporaryDirectory() + "zonectl-pg-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Self.runAsPostgres("chown", ["-R", "postgres:postgres", directory], asRoot: true)
        try Self.runAsPostgres(binDirectory + "/initdb", [
            "-D", directory + "/data", "-U", "postgres", "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C",
        ])
        let settings = """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(directory)'
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            max_connections = 300
            shared_buffers = 128MB
            log_min_messages = fatal
            """
        try Self.runAsPostgres("/bin/sh", ["-c", "cat >> '\(directory)/data/postgresql.conf' <<'EOF'\n\(settings)\nEOF"])
    }

    public func stop() throws {
        try Self.runAsPostgres(binDirectory + "/pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "stop"])
    }

    public func restart() throws {
        try startServer()
    }

    /// pg_ctl's output goes to a file, not to our pipes: the server it starts would inherit the
    /// pipes and keep them open, so the child would never look finished.
    private func startServer() throws {
        let command = "exec '\(binDirectory)/pg_ctl' -D '\(directory)/data' -l '\(directory)/server.log' -w -t 60 start"
            + " > '\(directory)/pg_ctl.out' 2>&1"
        do {
            try Self.runAsPostgres("/bin/sh", ["-c", command])
        } catch {
            let output = (try? String(contentsOfFile: directory + "/pg_ctl.out", encoding: .utf8)) ?? ""
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw ChildProcessError("PostgreSQL did not start in \(directory): \(output) \(log.suffix(2000))")
        }
    }

    private func removeDirectory() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new, empty database; returns a conninfo for it.
    public func createDatabase() throws -> String {
        let name = "t\(getpid())_\(databaseCounter.add(1, ordering: .relaxed).newValue)"
        try Self.runAsPostgres(binDirectory + "/createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", name])
        return conninfo(database: name)
    }

    public func conninfo(database: String) -> String {
        "host=127.0.0.1 port=\(port) dbname=\(database) user=postgres"
    }

    private static func runAsPostgres(_ executable: String, _ arguments: [String], asRoot: Bool = false) throws {
        let runAsRoot = asRoot || getuid() != 0
        let result = runAsRoot
            ? try ChildProcess.run(executable.hasPrefix("/") ? executable : "/usr/bin/env", executable.hasPrefix("/") ? arguments : [executable] + arguments)
            : try ChildProcess.run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        guard result.status == 0 else {
            throw ChildProcessError("\(executable) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.error) \(result.output)")
        }
    }
}

import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of a test process's own: a fresh data directory in /tmp, listening on a
/// free port on 127.0.0.1 (and a unix socket in the data directory), durability off for speed.
///
/// PostgreSQL refuses to run as root, and CI runs as root: then the directory belongs to the
/// `postgres` user and initdb / pg_ctl run through `runuser -u postgres --`. The binaries come
/// from `ZONECTL_TEST_PG_BIN`, else /usr/lib/postgresql/15/bin.
///
/// Every cluster is shut down and its directory removed when the test process exits; clusters
/// left behind by a test process that was killed are removed by the next one.
public final class PostgresCluster: @unchecked Sendable {
    public let port: Int
    /// The directory holding the data directory and the server log.
    public let directory: String
    public let dataDirectory: String
    /// The unix socket's directory (the data directory).
    public var socketDirectory: String { dataDirectory }
    public var logFile: String { directory + "/postgres.log" }
    let binDirectory: String
    private let runAsPostgres: Bool
    private let state = Mutex(ClusterState())

    private struct ClusterState {
        var running = true
        var removed = false
        var databases = 0
    }

    private init(port: Int, directory: String, binDirectory: String, runAsPostgres: Bool) {
        self.port = port
        self.directory = directory
        self.dataDirectory = directory + "/data"
        self.binDirectory = binDirectory
        self.runAsPostgres = runAsPostgres
    }

    // MARK: Starting

    /// The cluster all tests of this process share (each takes a database of its own from it),
    /// started on first use.
    public static func shared() throws -> PostgresCluster {
        try sharedCluster.withLock { cluster in
            if let cluster { return cluster }
            let started = try start()
            cluster = started
            return started
        }
    }

    /// A cluster for one test alone, for tests that stop and restart the server.
    public static func start() throws -> PostgresCluster {
        registerExitCleanupOnce
        removeAbandonedClusters()
        let bin = ProcessInfo.processInfo.environment["ZONECTL_TEST_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
        guard access(bin + "/initdb", X_OK) == 0, access(bin + "/pg_ctl", X_OK) == 0 else {
            throw ChildProcessError(
                "no PostgreSQL binaries in \(bin) (initdb, pg_ctl); install PostgreSQL 15 or set ZONECTL_TEST_PG_BIN")
        }
        let runAsPostgres = getuid() == 0
        var template = Array((baseDirectory + "/\(directoryPrefix)XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ChildProcessError("cannot create a temporary directory for PostgreSQL: \(String(cString: strerror(errno)))")
        }
        let directory = URL(fileURLWithPath: String(cString: made)).standardizedFileURL.path
        // Which test process owns it, so a later one can tell an abandoned cluster.
        try String(getpid()).write(toFile: directory + "/" + ownerFile, atomically: true, encoding: .utf8)
        if runAsPostgres {
            guard let user = getpwnam("postgres") else {
                throw ChildProcessError("running as root, but there is no postgres user to run PostgreSQL as")
            }
            guard chown(directory, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw ChildProcessError("cannot give \(directory) to the postgres user: \(String(cString: strerror(errno)))")
            }
        }
        let data = directory + "/data"
        let initdb = try runTool(
            bin + "/initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
            asPostgres: runAsPostgres, in: directory)
        guard initdb.status == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw ChildProcessError("initdb failed (\(initdb.status)): \(ChildProcess.tail(initdb.error + initdb.output))")
        }
        // The port can be taken between asking the kernel and the server binding it: try again
        // with another one then.
        var lastError = ""
        for _ in 0..<5 {
            let port = Int(FreePort.tcp())
            try writeSettings(dataDirectory: data, port: port)
            let cluster = PostgresCluster(port: port, directory: directory, binDirectory: bin, runAsPostgres: runAsPostgres)
            do {
                try cluster.launch()
                liveClusters.withLock { $0.append(cluster) }
                return cluster
            } catch {
                lastError = "\(error)"
                cluster.state.withLock { $0.running = false }
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw ChildProcessError("PostgreSQL did not start: \(lastError)")
    }

    /// Settings appended to the cluster's own configuration: reached on 127.0.0.1 only, socket
    /// in the data directory (short path, nobody else's), no fsync (tests, not durability).
    private static func writeSettings(dataDirectory: String, port: Int) throws {
        let settings = """
            port = \(port)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '\(dataDirectory)'
            max_connections = 200
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            log_min_messages = warning
            log_line_prefix = '%m [%p] %d '

            """
        // initdb made postgresql.conf; an include keeps ours separate so a retry can rewrite it.
        let included = dataDirectory + "/zonectl-test.conf"
        try settings.write(toFile: included, atomically: false, encoding: .utf8)
        chmod(included, 0o644)
        let main = dataDirectory + "/postgresql.conf"
        let current = (try? String(contentsOfFile: main, encoding: .utf8)) ?? ""
        if !current.contains("include 'zonectl-test.conf'") {
            guard let handle = FileHandle(forWritingAtPath: main) else {
                throw ChildProcessError("cannot append to \(main)")
            }
            handle.seekToEndOfFile()
            handle.write(Data("\ninclude 'zonectl-test.conf'\n".utf8))
            handle.closeFile()
        }
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    private func launch() throws {
        let started = try Self.runTool(
            binDirectory + "/pg_ctl", ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "start"],
            asPostgres: runAsPostgres, in: directory)
        guard started.status == 0 else {
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            throw ChildProcessError(
                "pg_ctl start on port \(port) failed (\(started.status)): \(started.error) \(ChildProcess.tail(log))")
        }
    }

    // MARK: Using

    /// A new, empty database for one test. Returns a libpq conninfo for it (also a valid
    /// DATABASE_URL for the zonectl binary).
    public func createDatabase() throws -> String {
        let name = state.withLock { state -> String in
            state.databases += 1
            return "test_\(getpid())_\(state.databases)"
        }
        let created = try ChildProcess.run(
            binDirectory + "/psql",
            ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres",
             "-d", "postgres", "-c", "CREATE DATABASE \(name)"])
        guard created.status == 0 else {
            throw ChildProcessError("CREATE DATABASE \(name) failed (\(created.status)): \(created.error)")
        }
        return conninfo(database: name)
    }

    public func conninfo(database: String = "postgres") -> String {
        "host=127.0.0.1 port=\(port) dbname=\(database) user=postgres"
    }

    /// Stops the server (fast shutdown: sessions are ended, as in an operator's restart); the
    /// data stays for `restart`.
    public func stop() throws {
        let stopped = try Self.runTool(
            binDirectory + "/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"],
            asPostgres: runAsPostgres, in: directory)
        guard stopped.status == 0 else {
            throw ChildProcessError("pg_ctl stop failed (\(stopped.status)): \(stopped.error)")
        }
        state.withLock { $0.running = false }
    }

    /// Starts the server again on the same port with the same data.
    public func restart() throws {
        try launch()
        state.withLock { $0.running = true }
    }

    public var isRunning: Bool { state.withLock { $0.running } }

    // MARK: Running tools as postgres

    private static func runTool(
        _ tool: String, _ arguments: [String], asPostgres: Bool, in directory: String
    ) throws -> (status: Int32, output: String, error: String) {
        let child: ChildProcess
        if asPostgres {
            let candidates: [String] = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
            guard let runuser = candidates.first(where: { access($0, X_OK) == 0 })
            else { throw ChildProcessError("running as root, but runuser (util-linux) is not installed") }
            child = try ChildProcess(runuser, ["-u", "postgres", "--", tool] + arguments, currentDirectory: directory)
        } else {
            child = try ChildProcess(tool, arguments, currentDirectory: directory)
        }
        let status = try child.wait(timeoutSeconds: 120)
        return (status, child.standardOutput, child.standardError)
    }

    // MARK: Cleaning up

    private static let directoryPrefix = "zonectl-testpg-"

    /// Where clusters live. As root, always /tmp: a TMPDIR under /root would be out of reach of
    /// the postgres user the server runs as.
    private static var baseDirectory: String {
        getuid() == 0 ? "/tmp" : NSTemporaryDirectory()
    }
    private static let ownerFile = "owner.pid"

    private static let registerExitCleanupOnce: Void = {
        atexit { PostgresCluster.shutDownAllAtExit() }
    }()

    /// Runs at process exit: no time for pg_ctl, so signal each postmaster for an immediate
    /// shutdown (SIGQUIT), wait for it briefly, and remove the directory.
    private static func shutDownAllAtExit() {
        let clusters = liveClusters.withLock { clusters in
            let all = clusters
            clusters.removeAll()
            return all
        }
        for cluster in clusters { cluster.removeNow() }
    }

    private func removeNow() {
        let alreadyRemoved = state.withLock { state -> Bool in
            defer { state.removed = true }
            return state.removed
        }
        if alreadyRemoved { return }
        Self.killPostmaster(dataDirectory: dataDirectory)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func killPostmaster(dataDirectory: String) {
        guard let pidFile = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
            let line = pidFile.split(separator: "\n").first, let pid = pid_t(line.trimmingCharacters(in: .whitespaces)),
            pid > 0
        else { return }
        guard kill(pid, SIGQUIT) == 0 else { return }
        for _ in 0..<100 {
            if kill(pid, 0) != 0 { return }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
    }

    /// Clusters in the temporary directory whose test process is gone (killed before its exit
    /// handler ran): stop their servers and delete them.
    private static func removeAbandonedClusters() {
        let temporary = baseDirectory
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: temporary) else { return }
        for entry in entries where entry.hasPrefix(directoryPrefix) {
            let directory = temporary + "/" + entry
            guard let owner = try? String(contentsOfFile: directory + "/" + ownerFile, encoding: .utf8),
                let pid = pid_t(owner.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            killPostmaster(dataDirectory: directory + "/data")
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

private let sharedCluster = Mutex<PostgresCluster?>(nil)
private let liveClusters = Mutex<[PostgresCluster]>([])

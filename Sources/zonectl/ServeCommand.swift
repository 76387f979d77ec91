import API
import ArgumentParser
import Dispatch
import Foundation
import HTTPServer
import Propagation
import Store

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the REST API until SIGTERM or SIGINT.",
        discussion: """
            Every option can also be set by the environment variable named in its help; a flag wins \
            over the environment. On SIGTERM/SIGINT the server stops accepting connections, lets \
            requests in flight finish (up to --shutdown-grace seconds) and closes its database pool.
            """)

    @Option(name: .long, help: "Address to listen on. Env: ZONECTL_HOST. Default: 127.0.0.1.")
    var host: String?

    @Option(name: .long, help: "TCP port to listen on (0 lets the kernel pick). Env: ZONECTL_PORT. Default: 8080.")
    var port: Int?

    @Option(name: .long, help: "PostgreSQL URL or conninfo. Env: DATABASE_URL.")
    var databaseURL: String?

    @Option(name: .long, help: "HTTP worker threads in a fixed pool, each polling its share of the connections; 0 gives every connection a thread of its own. Env: ZONECTL_THREADS. Default: 0.")
    var threads: Int?

    @Option(name: .long, help: "Most PostgreSQL connections open at once; a request waits for a free one. Env: ZONECTL_DATABASE_CONNECTIONS. Default: 16, or --threads if larger.")
    var databaseConnections: Int?

    @Option(name: .long, help: "Seconds a request waits for a lock another transaction holds (a zone being imported, a session outside zonectl) before it is answered 503 with nothing changed; 0 waits as long as it takes. Env: ZONECTL_LOCK_TIMEOUT. Default: 30.")
    var lockTimeout: Int?

    @Option(name: .long, help: "Most queued changes committed together in one transaction, each still with its own serial and journal entry (1 commits each alone). Env: ZONECTL_COMMIT_BATCH. Default: 32.")
    var commitBatch: Int?

    @Option(name: .long, help: "How many such transactions may run at once; the changes of one zone always queue in the same one. Env: ZONECTL_COMMIT_LANES. Default: 1.")
    var commitLanes: Int?

    @Option(name: .long, help: "Seconds a token read from the database is reused before it is read again; a token revoked through another process (or in the database) keeps working here that long (0 reads it on every request). Env: ZONECTL_TOKEN_CACHE_SECONDS. Default: 1.")
    var tokenCacheSeconds: Int?

    @Option(name: .long, help: "Memory in bytes for finished RRset pages, reused while their zone's serial stays the same (0 turns it off). Env: ZONECTL_RESPONSE_CACHE_BYTES. Default: 33554432.")
    var responseCacheBytes: Int?

    @Option(name: .long, help: "Largest JSON request body in bytes (413 above). Env: ZONECTL_MAX_BODY_BYTES. Default: 1048576.")
    var maxBodyBytes: Int?

    @Option(name: .long, help: "Largest zone-file import body in bytes. Env: ZONECTL_MAX_IMPORT_BYTES. Default: 67108864.")
    var maxImportBytes: Int?

    @Option(name: .long, help: "Seconds a connection may stay idle before it is closed. Env: ZONECTL_CONNECTION_TIMEOUT. Default: 30.")
    var connectionTimeout: Int?

    @Option(name: .long, help: "Most concurrent connections. Env: ZONECTL_CONNECTION_LIMIT. Default: 1024.")
    var connectionLimit: Int?

    @Option(name: .long, help: "Most concurrent connections from one IP address. Env: ZONECTL_PER_IP_CONNECTION_LIMIT. Default: 256.")
    var perIPConnectionLimit: Int?

    @Option(name: .long, help: "Seconds to let requests in flight finish on shutdown. Env: ZONECTL_SHUTDOWN_GRACE. Default: 10.")
    var shutdownGrace: Int?

    @Option(name: .long, help: "Directory of NNNN_name.sql files. Env: ZONECTL_MIGRATIONS. Default: the one shipped with the binary.")
    var migrations: String?

    @Option(name: .long, help: "SOA MNAME of new zones (the primary's name). Env: ZONECTL_SOA_MNAME. Default: ns1.zonectl.invalid.")
    var soaMname: String?

    @Option(name: .long, help: "SOA RNAME of new zones (the zone contact, as a name). Env: ZONECTL_SOA_RNAME. Default: hostmaster.zonectl.invalid.")
    var soaRname: String?

    @Option(name: .long, help: "Comma-separated NS names published at the apex of new zones. Env: ZONECTL_NAMESERVERS. Default: ns1.zonectl.invalid,ns2.zonectl.invalid.")
    var nameservers: String?

    @Option(name: .long, help: "Pool (by name) that new zones join when their creation names none. Env: ZONECTL_DEFAULT_POOL. Default: none (the SOA/NS options above publish them).")
    var defaultPool: String?

    @Option(name: .long, help: "Address the DNS transfer server (SOA/AXFR/IXFR for secondaries) listens on. Env: ZONECTL_DNS_HOST. Default: 127.0.0.1.")
    var dnsHost: String?

    @Option(name: .long, help: "UDP and TCP port of the DNS transfer server (0 lets the kernel pick). Env: ZONECTL_DNS_PORT. Default: 5300.")
    var dnsPort: Int?

    @Option(name: .long, help: "Threads sending NOTIFYs and checking secondaries' serials. Env: ZONECTL_NOTIFY_WORKERS. Default: 8.")
    var notifyWorkers: Int?

    @Option(name: .long, help: "NOTIFYs sent for one serial (backing off from 1 s to 60 s) before trying only every --check-interval. Env: ZONECTL_NOTIFY_ATTEMPTS. Default: 10.")
    var notifyAttempts: Int?

    @Option(name: .long, help: "Seconds between serial checks of a secondary that is in sync. Env: ZONECTL_CHECK_INTERVAL. Default: 300.")
    var checkInterval: Int?

    @Option(name: .long, help: "Milliseconds between a change and its NOTIFYs, so a burst of changes costs one NOTIFY per server. Env: ZONECTL_NOTIFY_DELAY_MS. Default: 0.")
    var notifyDelayMs: Int?

    @Option(name: .long, help: "Requests a second each token may make, in bursts of twice that (429 with Retry-After above; 0: no limit). Env: ZONECTL_RATE_LIMIT. Default: 100.")
    var rateLimit: Int?

    @Flag(name: .long, help: "Answer GET /metrics only to operator tokens (default: to anyone who can reach the API). Env: ZONECTL_PRIVATE_METRICS=1.")
    var privateMetrics = false

    @Option(name: .long, help: "Seconds a process holds a NOTIFY or zone-file job it took; if it dies, another process takes the job over after this. Env: ZONECTL_LEASE_SECONDS. Default: 30.")
    var leaseSeconds: Int?

    @Option(name: .long, help: "Directory to keep every zone's file in (<zone>.zone, rewritten atomically after changes). Env: ZONECTL_ZONE_DIR. Default: none.")
    var zoneDir: String?

    @Option(name: .long, help: "Shell command run after each zone file is written; %z is the zone, %f the file (e.g. 'rndc reload %z'). Env: ZONECTL_AFTER_WRITE.")
    var afterWrite: String?

    @Option(name: .long, help: "Seconds --after-write may run before it is stopped. Env: ZONECTL_AFTER_WRITE_TIMEOUT. Default: 30.")
    var afterWriteTimeout: Int?

    @Option(name: .long, help: "Milliseconds between a zone's first change and its file being written, so a burst is one write. Env: ZONECTL_ZONE_FILE_DELAY_MS. Default: 200.")
    var zoneFileDelayMs: Int?

    @Flag(name: .long, help: "Apply pending migrations before serving instead of refusing to start.")
    var migrate = false

    func run() throws {
        let url = try Settings.databaseURL(databaseURL)
        var http = HTTPServerConfiguration()
        http.host = Settings.string(host, env: "ZONECTL_HOST") ?? "127.0.0.1"
        http.port = UInt16(try Settings.int(port, env: "ZONECTL_PORT", default: 8080, range: 0...65535))
        let threadCount = try Settings.int(threads, env: "ZONECTL_THREADS", default: 0, range: 0...256)
        http.threads = threadCount == 0 ? nil : threadCount
        // Handlers block on PostgreSQL, so the machine's cores say little about how many
        // requests are worth running at once; connections cost the server a backend each.
        let connectionCount = try Settings.int(
            databaseConnections, env: "ZONECTL_DATABASE_CONNECTIONS", default: max(16, threadCount), range: 1...1000)
        let lockWait = try Settings.int(lockTimeout, env: "ZONECTL_LOCK_TIMEOUT", default: 30, range: 0...86400)
        http.maxBodyBytes = try Settings.int(maxBodyBytes, env: "ZONECTL_MAX_BODY_BYTES", default: 1 << 20, range: 1024...(1 << 30))
        let importLimit = try Settings.int(maxImportBytes, env: "ZONECTL_MAX_IMPORT_BYTES", default: 64 << 20, range: 1024...(1 << 32))
        http.bodyLimit = APIService.bodyLimit(importBytes: importLimit)
        http.connectionTimeoutSeconds = try Settings.int(connectionTimeout, env: "ZONECTL_CONNECTION_TIMEOUT", default: 30, range: 1...3600)
        http.connectionLimit = try Settings.int(connectionLimit, env: "ZONECTL_CONNECTION_LIMIT", default: 1024, range: 1...100_000)
        http.perIPConnectionLimit = try Settings.int(perIPConnectionLimit, env: "ZONECTL_PER_IP_CONNECTION_LIMIT", default: 256, range: 1...100_000)
        var transfer = TransferServerConfiguration()
        transfer.host = Settings.string(dnsHost, env: "ZONECTL_DNS_HOST") ?? "127.0.0.1"
        transfer.port = UInt16(try Settings.int(dnsPort, env: "ZONECTL_DNS_PORT", default: 5300, range: 0...65535))
        var propagation = PropagationConfiguration()
        propagation.workers = try Settings.int(notifyWorkers, env: "ZONECTL_NOTIFY_WORKERS", default: 8, range: 1...64)
        propagation.notifyAttempts = try Settings.int(notifyAttempts, env: "ZONECTL_NOTIFY_ATTEMPTS", default: 10, range: 1...1000)
        propagation.notifyDelay = Double(try Settings.int(notifyDelayMs, env: "ZONECTL_NOTIFY_DELAY_MS", default: 0, range: 0...600_000)) / 1000
        let lease = Double(try Settings.int(leaseSeconds, env: "ZONECTL_LEASE_SECONDS", default: 30, range: 2...3600))
        propagation.leaseSeconds = lease
        propagation.checkInterval = Double(try Settings.int(checkInterval, env: "ZONECTL_CHECK_INTERVAL", default: 300, range: 1...86400))
        var zoneFiles: ZoneFileConfiguration?
        if let directory = Settings.string(zoneDir, env: "ZONECTL_ZONE_DIR") {
            var files = ZoneFileConfiguration(directory: directory)
            files.afterWrite = Settings.string(afterWrite, env: "ZONECTL_AFTER_WRITE")
            files.afterWriteTimeout = Double(try Settings.int(afterWriteTimeout, env: "ZONECTL_AFTER_WRITE_TIMEOUT", default: 30, range: 1...3600))
            files.leaseSeconds = lease
            files.delay = Double(try Settings.int(zoneFileDelayMs, env: "ZONECTL_ZONE_FILE_DELAY_MS", default: 200, range: 0...600_000)) / 1000
            zoneFiles = files
        } else if Settings.string(afterWrite, env: "ZONECTL_AFTER_WRITE") != nil {
            throw SettingError("--after-write needs --zone-dir: it runs after a zone file is written there")
        }
        let commitBatchLimit = try Settings.int(commitBatch, env: "ZONECTL_COMMIT_BATCH", default: 32, range: 1...64)
        let commitLaneCount = try Settings.int(commitLanes, env: "ZONECTL_COMMIT_LANES", default: 1, range: 1...64)
        let tokenCacheLifetime = try Settings.int(tokenCacheSeconds, env: "ZONECTL_TOKEN_CACHE_SECONDS", default: 1, range: 0...60)
        let cacheBytes = try Settings.int(responseCacheBytes, env: "ZONECTL_RESPONSE_CACHE_BYTES", default: 32 << 20, range: 0...(1 << 40))
        let grace = try Settings.int(shutdownGrace, env: "ZONECTL_SHUTDOWN_GRACE", default: 10, range: 0...600)

        let requestsPerSecond = try Settings.int(rateLimit, env: "ZONECTL_RATE_LIMIT", default: 100, range: 0...1_000_000)
        let metricsPrivate = privateMetrics || Settings.string(nil, env: "ZONECTL_PRIVATE_METRICS") == "1"
        var zoneDefaults = try Settings.zoneDefaults(mname: soaMname, rname: soaRname, nameservers: nameservers)
        zoneDefaults.defaultPool = Settings.string(defaultPool, env: "ZONECTL_DEFAULT_POOL")

        try checkSchema(url: url)

        var poolConfiguration = PoolConfiguration(conninfo: url, size: connectionCount)
        poolConfiguration.lockTimeoutSeconds = lockWait > 0 ? Double(lockWait) : nil
        let pool = ConnectionPool(configuration: poolConfiguration)
        let api = APIService(
            pool: pool, zoneDefaults: zoneDefaults, commitBatch: commitBatchLimit, commitLanes: commitLaneCount,
            responseCacheBytes: cacheBytes, tokenCacheSeconds: Double(tokenCacheLifetime),
            rateLimit: requestsPerSecond > 0 ? (Double(requestsPerSecond), Double(2 * requestsPerSecond)) : nil,
            publicMetrics: !metricsPrivate)
        let server = HTTPServer(configuration: http, handler: api.handle)
        let transferServer = TransferServer(configuration: transfer, conninfo: url, log: log)
        try transferServer.start()
        let worker = PropagationWorker(configuration: propagation, conninfo: url, log: log)
        worker.start()
        let fileWriter = try zoneFiles.map { try ZoneFileWriter(configuration: $0, conninfo: url, log: log) }
        try fileWriter?.start()
        try server.start()
        let threading = http.threads.map { "\($0) threads" } ?? "a thread per connection"
        log("zonectl serving http://\(http.host):\(server.boundPort) with \(threading), \(connectionCount) database connections")
        if let zoneFiles { log("zonectl writing zone files to \(zoneFiles.directory)") }
        log("zonectl transfer server on \(transfer.host) port \(transferServer.boundPort) (UDP and TCP): make it the primary of each pool server, e.g. BIND `primaries { \(transfer.host) port \(transferServer.boundPort); };`")

        waitForTerminationSignal()
        log("zonectl shutting down: finishing requests in flight")
        server.shutdown(graceSeconds: Double(grace))
        worker.stop()
        fileWriter?.stop()
        transferServer.stop()
        pool.close()
        log("zonectl stopped")
    }

    /// Refuses to serve on a schema this binary was not built for, rather than failing later
    /// on a missing column. PostgreSQL may still be starting (containers), so wait a little.
    private func checkSchema(url: String) throws {
        let migrator = Migrator(set: try MigrationsDirectory.locate(migrations))
        let deadline = Date().addingTimeInterval(30)
        var status: MigrationStatus
        while true {
            do {
                status = try migrator.status(conninfo: url)
                break
            } catch let error as DatabaseError where error.kind == .unavailable && Date() < deadline {
                log("waiting for PostgreSQL: \(error)")
                Thread.sleep(forTimeInterval: 1)
            }
        }
        if case .behind = status, migrate {
            let applied = try migrator.migrate(conninfo: url) { log($0) }
            log("applied \(applied.count) migration(s)")
            return
        }
        guard status == .current else { throw SettingError(MigrationReport.describe(status)) }
    }

    private func waitForTerminationSignal() {
        let stop = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        stop.wait()
        sources.forEach { $0.cancel() }
    }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

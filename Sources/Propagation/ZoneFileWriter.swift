import DNSModel
import Foundation
import Store
import ZoneData
#if canImport(Glibc)
import Glibc
#endif

/// Where zone files go and what runs after each is written.
public struct ZoneFileConfiguration: Sendable {
    public var directory: String
    /// A shell command run after each write (`%z` zone, `%f` file); nil: none.
    public var afterWrite: String?
    public var afterWriteTimeout = 30.0
    /// How long after a zone's first change its file is written, so a burst of changes is one
    /// write of the newest state.
    public var delay = 0.2
    public var leaseSeconds = 60.0
    public var retryMax = 60.0

    public init(directory: String) {
        self.directory = directory
    }
}

/// Keeps `<directory>/<zone>zone` (e.g. `example.com.zone`) equal to a committed version of each
/// zone, for operators whose primary is BIND, NSD or Knot reading files. Each file is written
/// whole from one snapshot to a temporary file, synced and renamed over the old one, so a
/// reader sees either the previous or the new version, and its SOA serial is one that was
/// committed. Work is claimed from PostgreSQL, so several processes writing to a shared directory
/// never write a file twice for the same change.
public final class ZoneFileWriter: @unchecked Sendable {
    private let configuration: ZoneFileConfiguration
    private let conninfo: String
    private let pool: ConnectionPool
    private let log: @Sendable (String) -> Void
    private let threads = WorkerThreads()
    private let hook: AfterWriteHook?

    public init(configuration: ZoneFileConfiguration, conninfo: String, log: @escaping @Sendable (String) -> Void) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configuration.directory, isDirectory: &isDirectory), isDirectory.boolValue,
              access(configuration.directory, W_OK) == 0 else {
            throw PropagationError("--zone-dir \(configuration.directory) is not a writable directory")
        }
        self.configuration = configuration
        self.conninfo = conninfo
        self.log = log
        hook = configuration.afterWrite.map { AfterWriteHook(template: $0, timeoutSeconds: configuration.afterWriteTimeout) }
        pool = ConnectionPool(configuration: PoolConfiguration(conninfo: conninfo, size: 1))
    }

    /// `example.com.zone`; a "/" inside a label (legal in DNS, not in a file name) is written
    /// `%2F`, so no zone name reaches outside the directory.
    public static func fileName(zone: String) -> String {
        let absolute = zone.hasSuffix(".") ? zone : zone + "."
        return absolute.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F") + "zone"
    }

    /// Makes the database keep zone-file work from now on, then starts writing.
    public func start() throws {
        try pool.withConnection { try ZoneFileRepository.enable(on: $0) }
        threads.spawn("zone-files") { [self] in loop() }
        threads.listen(conninfo: conninfo, channels: ["zone_file_due"], log: log)
    }

    public func stop() {
        threads.stop()
        pool.close()
    }

    private func loop() {
        while threads.isRunning {
            let seen = threads.currentGeneration
            do {
                let tasks = try pool.withConnection {
                    try ZoneFileRepository.claimDue(limit: 1, leaseSeconds: configuration.leaseSeconds, delaySeconds: configuration.delay, on: $0)
                }
                let removals = try pool.withConnection {
                    try ZoneFileRepository.claimRemovals(limit: 16, leaseSeconds: configuration.leaseSeconds, on: $0)
                }
                for removal in removals { remove(removal) }
                guard let task = tasks.first else {
                    if removals.isEmpty { threads.idle(seconds: max(0.05, configuration.delay), since: seen) }
                    continue
                }
                write(task)
            } catch {
                log("zone files: \(error); trying again in 1 s")
                threads.idle(seconds: 1)
            }
        }
    }

    private func write(_ task: ZoneFileTask) {
        do {
            guard let (name, serial) = try render(zoneID: task.zoneID) else { return }
            let hookError = hook.flatMap { $0.run(zone: name, file: path(zone: name)) }
            if let hookError { log("zone files: after writing \(name): \(hookError)") }
            try pool.withConnection { try ZoneFileRepository.recordWritten(zoneID: task.zoneID, serial: serial, hookError: hookError, on: $0) }
        } catch {
            let attempts = task.attempts + 1
            log("zone files: writing zone \(task.zoneID) failed: \(error)")
            try? pool.withConnection {
                try ZoneFileRepository.recordFailure(
                    zoneID: task.zoneID, error: "\(error)", attempts: attempts,
                    retryAfter: min(configuration.retryMax, pow(2, Double(min(attempts, 10)) - 1)), on: $0)
            }
        }
    }

    private func path(zone: String) -> String {
        configuration.directory + "/" + Self.fileName(zone: zone)
    }

    /// Writes the zone's current version; its name and serial, or nil when it was deleted.
    private func render(zoneID: Int64) throws -> (String, Int64)? {
        try pool.withConnection { db in
            try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            defer { try? db.execute("COMMIT") }
            guard let row = try ZoneRepository.find(id: zoneID, on: db), !row.isCatalog else { return nil }
            let zone = try HostedZone(row)
            let final = path(zone: row.name)
            let temporary = configuration.directory + "/." + Self.fileName(zone: row.name) + ".tmp-\(getpid())"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw PropagationError.system("cannot create \(temporary)") }
            var closed = false
            defer {
                if !closed { close(fd) }
                unlink(temporary)
            }
            try zone.renderZoneFile(on: db) { bytes in
                guard Socket.writeAll(fd, bytes) else { throw PropagationError.system("cannot write \(temporary)") }
            }
            guard fsync(fd) == 0 else { throw PropagationError.system("cannot sync \(temporary)") }
            close(fd)
            closed = true
            guard rename(temporary, final) == 0 else { throw PropagationError.system("cannot rename \(temporary) to \(final)") }
            syncDirectory()
            return (row.name, row.serial)
        }
    }

    private func remove(_ removal: ZoneFileRemoval) {
        let file = path(zone: removal.name)
        do {
            if unlink(file) != 0 && errno != ENOENT { throw PropagationError.system("cannot remove \(file)") }
            syncDirectory()
            try pool.withConnection { try ZoneFileRepository.removalDone(name: removal.name, on: $0) }
        } catch {
            let attempts = removal.attempts + 1
            log("zone files: \(error)")
            try? pool.withConnection {
                try ZoneFileRepository.removalFailed(name: removal.name, error: "\(error)", attempts: attempts,
                                                     retryAfter: configuration.retryMax, on: $0)
            }
        }
    }

    /// The rename itself reaches the disk only when the directory is synced.
    private func syncDirectory() {
        let fd = open(configuration.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

import DNSModel
import Foundation
import Store
import ZoneData

/// Pushes every committed serial to every server of the zone's pool: NOTIFY, then SOA checks
/// until the server answers the serial, with retries, all recorded in `propagation_state`.
///
/// Workers take due zone × server pairs from PostgreSQL (`FOR UPDATE SKIP LOCKED`), so any
/// number of threads and processes share the work without doing it twice. A change's
/// `pg_notify('zone_changed')` wakes them at once; without it they still look every second,
/// the safety net for a lost wake-up.
public final class PropagationWorker: @unchecked Sendable {
    private let configuration: PropagationConfiguration
    private let pool: ConnectionPool
    private let conninfo: String
    private let log: @Sendable (String) -> Void
    private let wake = NSCondition()
    private var generation = 0
    private var running = false
    private var threads: [Thread] = []
    private let finished = DispatchGroup()
    private let notifier = NotifySender()
    private let probe = SerialProbe()

    public init(configuration: PropagationConfiguration, conninfo: String, log: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.conninfo = conninfo
        self.log = log
        var poolConfiguration = PoolConfiguration(conninfo: conninfo, size: max(1, configuration.workers))
        poolConfiguration.acquireTimeoutSeconds = 30
        pool = ConnectionPool(configuration: poolConfiguration)
    }

    public func start() {
        wake.lock()
        running = true
        wake.unlock()
        for index in 0..<max(1, configuration.workers) {
            spawn(name: "propagation-\(index)") { [self] in workLoop() }
        }
        spawn(name: "propagation-listener") { [self] in listenLoop() }
    }

    /// Stops taking work; pairs in flight finish (their NOTIFY exchange is bounded) and the
    /// threads end. A pair left claimed is due again when its lease ends.
    public func stop() {
        wake.lock()
        running = false
        wake.broadcast()
        wake.unlock()
        finished.wait()
        pool.close()
    }

    private var isRunning: Bool {
        wake.lock()
        defer { wake.unlock() }
        return running
    }

    private func spawn(name: String, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread { [finished] in
            body()
            finished.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Wakes idle workers (a change was committed).
    func signal() {
        wake.lock()
        generation &+= 1
        wake.broadcast()
        wake.unlock()
    }

    /// The wake-up count, read before looking for work so a wake-up that comes while looking
    /// is not lost.
    private var currentGeneration: Int {
        wake.lock()
        defer { wake.unlock() }
        return generation
    }

    /// Sleeps until `signal` (after the wake-up count `seen`), `stop`, or `seconds` pass.
    private func idle(seconds: Double, since seen: Int? = nil) {
        wake.lock()
        let seen = seen ?? generation
        let deadline = Date().addingTimeInterval(seconds)
        while running && generation == seen {
            if !wake.wait(until: deadline) { break }
        }
        wake.unlock()
    }

    // MARK: - Listening for changes

    private func listenLoop() {
        while isRunning {
            do {
                let connection = try PostgresConnection(conninfo: conninfo)
                defer { connection.close() }
                try connection.listen("zone_changed")
                // Anything committed while no one listened is due already: look now.
                signal()
                while isRunning {
                    if !(try connection.notifications(timeoutSeconds: 0.5)).isEmpty { signal() }
                }
            } catch {
                log("propagation: listening for changes failed (\(error)); trying again in 1 s")
                idle(seconds: 1)
            }
        }
    }

    // MARK: - Working

    private func workLoop() {
        while isRunning {
            let seen = currentGeneration
            do {
                let tasks = try pool.withConnection {
                    try PropagationRepository.claimDue(
                        limit: 1, leaseSeconds: configuration.leaseSeconds, delaySeconds: configuration.notifyDelay, on: $0)
                }
                guard let task = tasks.first else {
                    let wait = try pool.withConnection { try PropagationRepository.secondsUntilNextDue(delaySeconds: configuration.notifyDelay, on: $0) }
                    idle(seconds: min(1, max(0.005, wait ?? 1)), since: seen)
                    continue
                }
                let result = work(on: task)
                try pool.withConnection { try PropagationRepository.record(result, for: task, on: $0) }
            } catch {
                log("propagation: \(error); trying again in 1 s")
                idle(seconds: 1)
            }
        }
    }

    /// NOTIFY when the serial is not acknowledged yet, then ask for the serial until the server
    /// has it; says when to come back.
    func work(on task: PropagationTask) -> PropagationResult {
        let zone: HostedZone
        let server: SecondaryEndpoint
        do {
            guard let row = try pool.withConnection({ try ZoneRepository.find(id: task.zoneID, on: $0) }) else {
                // Deleted meanwhile; its state rows went with it.
                return PropagationResult(retryAfter: configuration.checkInterval)
            }
            zone = try HostedZone(row)
            server = try SecondaryEndpoint(host: task.address, port: task.port, key: task.tsigKey)
        } catch {
            var result = PropagationResult(retryAfter: configuration.retryMax)
            result.error = "\(error)"
            result.attempts = task.attempts + 1
            return result
        }
        let target = ZoneSerial(rawValue: UInt32(truncatingIfNeeded: task.targetSerial))
        var result = PropagationResult(retryAfter: 0)

        if task.notifiedSerial != task.targetSerial {
            result.notifySent = true
            do {
                let soa = try zone.soaData(serial: zone.serial)
                try notifier.notify(zone: zone.name, soa: soa, ttl: UInt32(zone.row.soa.ttl), to: server)
                result.notifyAcked = true
            } catch {
                result.attempts = task.attempts + 1
                let gaveUp = result.attempts >= Int64(configuration.notifyAttempts)
                result.retryAfter = gaveUp ? configuration.checkInterval : configuration.backoff(afterAttempts: result.attempts)
                result.error = "NOTIFY for serial \(target): \(error)"
                    + (gaveUp ? " (\(result.attempts) attempts failed; trying again every \(Int(configuration.checkInterval)) s)" : "")
                return result
            }
        }

        // Ask until the server has the serial; right after a NOTIFY it is transferring now.
        result.checked = true
        let deadline = Date().addingTimeInterval(result.notifyAcked ? configuration.transferWait : 0)
        var pause = 0.002
        var lastError: String?
        while true {
            do {
                let seen = try probe.serial(of: zone.name, at: server)
                result.seenSerial = Int64(seen.rawValue)
                lastError = nil
                if seen == target { break }
                if seen.isNewer(than: target) {
                    lastError = "serves serial \(seen), newer than zonectl's \(target): it will not transfer until zonectl's serial passes \(seen) (RFC 1982); change the zone's serial policy or reload that server"
                    break
                }
                lastError = "serves serial \(seen), not yet \(target)"
            } catch {
                lastError = "SOA check: \(error)"
            }
            guard Date().addingTimeInterval(pause) < deadline else { break }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 0.25)
        }
        if let lastError {
            result.attempts = task.attempts + 1
            result.error = lastError
            result.retryAfter = configuration.backoff(afterAttempts: result.attempts)
            // Acknowledged but never transferred: NOTIFY again every third check.
            result.renotify = result.attempts % 3 == 0
        } else {
            result.attempts = 0
            result.retryAfter = configuration.checkInterval
        }
        return result
    }
}

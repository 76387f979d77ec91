import DNSModel
import Foundation
import Store
import ZoneData

/// Pushes every committed serial to every server of the zone's pool: NOTIFY, then SOA checks
/// until the server answers the serial, with retries, all recorded in `propagation_state`.
///
/// Workers take due zone × server pairs from PostgreSQL (`FOR UPDATE SKIP LOCKED`), so any
/// number of threads and processes share the work without doing it twice. The database wakes
/// one at once (`propagation_due`, sent by the triggers that owe a pair, so a change of a zone
/// without servers wakes nobody), and each that claims a pair wakes another; without it they
/// still look every second, the safety net for a lost wake-up.
public final class PropagationWorker: @unchecked Sendable {
    private let configuration: PropagationConfiguration
    private let pool: ConnectionPool
    private let conninfo: String
    private let log: @Sendable (String) -> Void
    private let threads = WorkerThreads()
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
        for index in 0..<max(1, configuration.workers) {
            threads.spawn("propagation-\(index)") { [self] in workLoop() }
        }
        threads.listen(conninfo: conninfo, channels: ["propagation_due"], log: log)
    }

    /// Stops taking work; pairs in flight finish (their NOTIFY exchange is bounded) and the
    /// threads end. A pair left claimed is due again when its lease ends.
    public func stop() {
        threads.stop()
        pool.close()
    }

    // MARK: - Working

    private func workLoop() {
        while threads.isRunning {
            let seen = threads.currentGeneration
            do {
                let tasks = try pool.withConnection {
                    try PropagationRepository.claimDue(
                        limit: 1, leaseSeconds: configuration.leaseSeconds, delaySeconds: configuration.notifyDelay, on: $0)
                }
                guard let task = tasks.first else {
                    let wait = try pool.withConnection { try PropagationRepository.secondsUntilNextDue(delaySeconds: configuration.notifyDelay, on: $0) }
                    threads.idle(seconds: min(1, max(0.005, wait ?? 1)), since: seen)
                    continue
                }
                // There may be more: another worker looks while this one works.
                threads.wake()
                let result = work(on: task)
                try pool.withConnection { try PropagationRepository.record(result, for: task, on: $0) }
            } catch {
                log("propagation: \(error); trying again in 1 s")
                threads.idle(seconds: 1)
            }
        }
    }

    /// NOTIFY when the serial is not acknowledged yet, then ask for the serial until the server
    /// has it; says when to come back.
    func work(on task: PropagationTask) -> PropagationResult {
        let zone: HostedZone
        let server: SecondaryEndpoint
        do {
            guard let row = task.zone else {
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
                // The claimed serial, not whatever is newest: a newer serial is another pair's
                // NOTIFY (perhaps another process's), and each serial is announced once.
                let soa = try zone.soaData(serial: target)
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
        checking: while true {
            do {
                let seen: ZoneSerial
                switch try probe.answer(for: zone.name, at: server) {
                case .serial(let serial):
                    seen = serial
                case .notServed where zone.row.isCatalog && (result.notifyAcked || task.notifiedSerial == task.targetSerial):
                    // Knot reads a catalog but does not answer queries for it: its acknowledged
                    // NOTIFY (and the transfer that follows) is all that can be known.
                    lastError = nil
                    break checking
                case .notServed(let reason):
                    throw PropagationError(reason)
                }
                result.seenSerial = Int64(seen.rawValue)
                lastError = nil
                if seen == target { break }
                // Past the claimed serial but not past the zone's: a later change got there first.
                if seen.isNewer(than: target) && !seen.isNewer(than: zone.serial) { break }
                if seen.isNewer(than: target) {
                    lastError = "serves serial \(seen), newer than zonectl's \(zone.serial): it will not transfer until zonectl's serial passes \(seen) (RFC 1982); change the zone's serial policy or reload that server"
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

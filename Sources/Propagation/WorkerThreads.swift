import Foundation
import Store

/// The threads of a background worker, and how they sleep: until woken (a change was
/// committed), stopped, or a timeout passes. The wake-up count is read before looking for work,
/// so a wake-up that comes while a thread looks is not lost.
final class WorkerThreads: @unchecked Sendable {
    private let condition = NSCondition()
    private var generation = 0
    private var running = true
    private let finished = DispatchGroup()

    var isRunning: Bool {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    var currentGeneration: Int {
        condition.lock()
        defer { condition.unlock() }
        return generation
    }

    func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread { [finished] in
            body()
            finished.leave()
        }
        thread.name = name
        thread.start()
    }

    /// Wakes one sleeping thread; the others sleep on. A thread that finds work calls `wake`
    /// again before doing it, so as many threads wake as there is work to share, and a change
    /// that owes nothing costs one look rather than one per thread (with eight NOTIFY workers,
    /// that was most of zonectl's CPU time per change). A thread that was busy meanwhile sees
    /// the new count when it next goes idle and looks again, so no wake-up is lost.
    func wake() {
        condition.lock()
        generation &+= 1
        condition.signal()
        condition.unlock()
    }

    /// Sleeps until a wake-up after `seen` (the current count when nil), `stop`, or `seconds`.
    func idle(seconds: Double, since seen: Int? = nil) {
        condition.lock()
        let seen = seen ?? generation
        let deadline = Date().addingTimeInterval(seconds)
        while running && generation == seen {
            if !condition.wait(until: deadline) { break }
        }
        condition.unlock()
    }

    /// Tells every thread to finish and waits for them.
    func stop() {
        condition.lock()
        running = false
        condition.broadcast()
        condition.unlock()
        finished.wait()
    }

    /// A thread that LISTENs on `channels` and wakes a worker on every notification; on a
    /// lost connection it reconnects after a second. Wakes a worker on (re)connecting, since
    /// anything committed while nobody listened is due already.
    func listen(conninfo: String, channels: [String], log: @escaping @Sendable (String) -> Void) {
        spawn("listen-\(channels.joined(separator: ","))") { [self] in
            while isRunning {
                do {
                    let connection = try PostgresConnection(conninfo: conninfo)
                    defer { connection.close() }
                    for channel in channels { try connection.listen(channel) }
                    wake()
                    while isRunning {
                        if !(try connection.notifications(timeoutSeconds: 0.5)).isEmpty { wake() }
                    }
                } catch {
                    log("listening on \(channels.joined(separator: ", ")) failed (\(error)); trying again in 1 s")
                    idle(seconds: 1)
                }
            }
        }
    }
}

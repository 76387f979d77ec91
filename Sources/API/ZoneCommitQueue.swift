import Dispatch
import Foundation
import HTTPServer

/// Group commit of changes to one zone within this process.
///
/// Changes of one zone serialise on the zone's row lock, and each used to pay for its own
/// transaction, statements and WAL flush while holding it. Here the changes that queue up while a
/// transaction runs are handed together to one thread (the leader), which commits them with
/// `commitBatch` in ONE transaction (see `APIService.commitZoneChanges` for how each change still
/// gets its own serial, journal entry, If-Match check and error). Every caller is answered only
/// after the shared COMMIT.
///
/// A batch holds changes of one zone only (as the request named it): batches of different
/// zones never wait on each other's locks, so they cannot deadlock. (Sharing transactions
/// across zones saved some CPU here, but a zone named once by name and once by id then lands in
/// two batches that lock the same zones in different orders: measured, and left out.)
///
/// Callers that wait hold no database connection; only the leader does. When the leader's
/// batch is done, the first change that queued meanwhile leads the next batch of that zone.
final class ZoneCommitQueue<Change>: @unchecked Sendable {
    /// Commits changes of one zone together; one result per change, in order.
    typealias CommitBatch = ([Change]) -> [Result<HTTPResponse, any Error>]

    /// One caller's change; its fields are handed between threads under `lock` or across
    /// `wake`, never touched by two threads at once.
    private final class Job: @unchecked Sendable {
        var change: Change?
        var result: Result<HTTPResponse, any Error>?
        var leads = false
        let wake = DispatchSemaphore(value: 0)
        init(_ change: Change) { self.change = change }
    }

    private let commitBatch: CommitBatch
    private let maxBatch: Int
    private let lock = NSLock()
    /// Changes waiting per zone; a zone has an entry exactly while one of its batches runs.
    private var waiting: [String: [Job]] = [:]
    private var largest = 0

    /// `maxBatch` bounds how many changes one transaction holds, and so how long one batch holds
    /// the zone's lock.
    init(maxBatch: Int = 32, commitBatch: @escaping CommitBatch) {
        self.commitBatch = commitBatch
        self.maxBatch = max(1, maxBatch)
    }

    /// The most changes one transaction has held so far.
    var largestBatch: Int {
        lock.lock()
        defer { lock.unlock() }
        return largest
    }

    /// How many changes of `zone` wait for the batch that runs now; nil when none runs.
    func queued(zone: String) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return waiting[zone]?.count
    }

    /// Commits `change` together with other queued changes of the zone `zone` names (as the
    /// request did, case and trailing dot aside), and returns its answer (or throws its error)
    /// once that transaction committed. The commit may run on another thread, while this one
    /// waits.
    func submit(zone: String, _ change: Change) throws -> HTTPResponse {
        let job = Job(change)
        lock.lock()
        if waiting[zone] != nil {
            waiting[zone]!.append(job)
            lock.unlock()
            job.wake.wait()
        } else {
            waiting[zone] = []
            job.leads = true
            lock.unlock()
        }
        if job.leads { lead(zone: zone, first: job) }
        return try job.result!.get()
    }

    private func lead(zone: String, first: Job) {
        lock.lock()
        let queued = waiting[zone]!
        let joining = queued.prefix(maxBatch - 1)
        waiting[zone] = Array(queued.dropFirst(joining.count))
        largest = max(largest, joining.count + 1)
        lock.unlock()

        let batch = [first] + joining
        let results = commitBatch(batch.map { $0.change! })
        precondition(results.count == batch.count, "a batch of \(batch.count) changes answered \(results.count) times")
        for (job, result) in zip(batch, results) {
            job.result = result
            job.change = nil
        }

        lock.lock()
        var next: Job?
        if let rest = waiting[zone], !rest.isEmpty {
            next = rest[0]
            next?.leads = true
            waiting[zone] = Array(rest.dropFirst())
        } else {
            waiting[zone] = nil
        }
        lock.unlock()
        for job in batch where job !== first { job.wake.signal() }
        next?.wake.signal()
    }
}

import Dispatch
import Foundation

/// Group commit of zone changes within this process.
///
/// Changes of one zone serialise on the zone's row lock, and each used to pay for its own
/// transaction, statements and WAL flush while holding it. Here changes wait in a few lanes
/// (the caller picks one; all changes of one zone pick the same); the changes that queue up in a
/// lane while its transaction runs are handed together to one thread (the leader), which commits
/// them with `commitBatch` in ONE transaction (see `APIService.commitZoneChanges` for how each
/// change still gets its own serial, journal entry, If-Match check and error). Every caller is
/// answered only after the shared COMMIT.
///
/// A batch may hold changes of several zones. It locks them all in one statement, in id order,
/// so batches of different lanes (or processes) that share a zone wait for each other but never
/// deadlock. (Session 3 shared transactions across zones by locking them one by one, in the
/// order the changes came: a zone named once by name and once by id then made two batches lock
/// the same zones in different orders.)
///
/// Callers that wait hold no database connection; only the leader does. When the leader's
/// batch is done, the first change that queued meanwhile leads the lane's next batch.
final class ZoneCommitQueue<Change, Answer>: @unchecked Sendable {
    /// Commits changes together; one result per change, in order.
    typealias CommitBatch = ([Change]) -> [Result<Answer, any Error>]

    /// One caller's change; its fields are handed between threads under `lock` or across
    /// `wake`, never touched by two threads at once.
    private final class Job: @unchecked Sendable {
        var change: Change?
        var result: Result<Answer, any Error>?
        var leads = false
        let wake = DispatchSemaphore(value: 0)
        init(_ change: Change) { self.change = change }
    }

    private let commitBatch: CommitBatch
    private let maxBatch: Int
    private let lock = NSLock()
    /// Changes waiting per lane; a lane has an entry exactly while one of its batches runs.
    private var waiting: [Int: [Job]] = [:]
    private var largest = 0

    /// `maxBatch` bounds how many changes one transaction holds, and so how long one batch holds
    /// its zones' locks.
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

    /// How many changes wait in `lane` for the batch that runs now; nil when none runs.
    func queued(lane: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        return waiting[lane]?.count
    }

    /// Commits `change` together with other changes queued in `lane`, and returns its answer (or
    /// throws its error) once that transaction committed. The commit may run on another thread,
    /// while this one waits.
    func submit(lane: Int, _ change: Change) throws -> Answer {
        let job = Job(change)
        lock.lock()
        if waiting[lane] != nil {
            waiting[lane]!.append(job)
            lock.unlock()
            job.wake.wait()
        } else {
            waiting[lane] = []
            job.leads = true
            lock.unlock()
        }
        if job.leads { lead(lane: lane, first: job) }
        return try job.result!.get()
    }

    private func lead(lane: Int, first: Job) {
        lock.lock()
        let queued = waiting[lane]!
        let joining = queued.prefix(maxBatch - 1)
        waiting[lane] = Array(queued.dropFirst(joining.count))
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
        if let rest = waiting[lane], !rest.isEmpty {
            next = rest[0]
            next?.leads = true
            waiting[lane] = Array(rest.dropFirst())
        } else {
            waiting[lane] = nil
        }
        lock.unlock()
        for job in batch where job !== first { job.wake.signal() }
        next?.wake.signal()
    }
}

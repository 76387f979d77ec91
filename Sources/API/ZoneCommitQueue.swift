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
/// batch is done, the first change that queued meanwhile leads the lane's next batch. When the
/// next batch can be sent at once (`startBatch`: planned from what this batch left, in one
/// round trip), the finishing leader sends it BEFORE it wakes anyone: waking a thread costs the
/// waker its CPU for a while (the woken thread has slept and the scheduler prefers it), and the
/// next leader's own wake-up then overlaps that round trip instead of preceding it.
final class ZoneCommitQueue<Change, Answer>: @unchecked Sendable {
    /// Commits changes together; one result per change, in order.
    typealias CommitBatch = ([Change]) -> [Result<Answer, any Error>]
    /// Sends changes to be committed together and returns what waits for that and answers them
    /// (one result per change, in order, as `CommitBatch`); nil when they cannot be sent so,
    /// and then nothing was sent.
    typealias StartBatch = ([Change]) -> (() -> [Result<Answer, any Error>])?

    /// One caller's change; its fields are handed between threads under `lock` or across
    /// `wake`, never touched by two threads at once.
    private final class Job: @unchecked Sendable {
        var change: Change?
        var result: Result<Answer, any Error>?
        var leads = false
        /// Set for a leader whose batch was sent already: the batch, and what finishes it.
        var sent: (batch: [Job], finish: () -> [Result<Answer, any Error>])?
        let wake = DispatchSemaphore(value: 0)
        init(_ change: Change) { self.change = change }
    }

    private let commitBatch: CommitBatch
    private let startBatch: StartBatch?
    private let maxBatch: Int
    private let lock = NSLock()
    /// Changes waiting per lane; a lane has an entry exactly while one of its batches runs.
    private var waiting: [Int: [Job]] = [:]
    private var largest = 0

    /// `maxBatch` bounds how many changes one transaction holds, and so how long one batch holds
    /// its zones' locks.
    init(maxBatch: Int = 32, startBatch: StartBatch? = nil, commitBatch: @escaping CommitBatch) {
        self.commitBatch = commitBatch
        self.startBatch = startBatch
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
        let batch: [Job]
        let results: [Result<Answer, any Error>]
        if let sent = first.sent {
            first.sent = nil
            batch = sent.batch
            results = sent.finish()
        } else {
            lock.lock()
            let queued = waiting[lane]!
            let joining = queued.prefix(maxBatch - 1)
            waiting[lane] = Array(queued.dropFirst(joining.count))
            largest = max(largest, joining.count + 1)
            lock.unlock()
            batch = [first] + joining
            results = commitBatch(batch.map { $0.change! })
        }
        precondition(results.count == batch.count, "a batch of \(batch.count) changes answered \(results.count) times")
        for (job, result) in zip(batch, results) {
            job.result = result
            job.change = nil
        }

        let next = nextLeader(lane: lane)
        for job in batch where job !== first { job.wake.signal() }
        next?.wake.signal()
    }

    /// The first change queued in `lane`, to lead the next batch; with that batch already sent
    /// when `startBatch` can send it. Nil, and the lane idle, when nothing is queued.
    private func nextLeader(lane: Int) -> Job? {
        lock.lock()
        guard let queued = waiting[lane], !queued.isEmpty else {
            waiting[lane] = nil
            lock.unlock()
            return nil
        }
        guard let startBatch else {
            waiting[lane] = Array(queued.dropFirst())
            lock.unlock()
            queued[0].leads = true
            return queued[0]
        }
        let batch = Array(queued.prefix(maxBatch))
        waiting[lane] = Array(queued.dropFirst(batch.count))
        largest = max(largest, batch.count)
        lock.unlock()
        if let finish = startBatch(batch.map { $0.change! }) {
            batch[0].sent = (batch, finish)
        } else {
            // Not sent: back to the front of the queue, for the leader to take with whatever
            // queued meanwhile.
            lock.lock()
            waiting[lane] = Array(batch.dropFirst()) + waiting[lane]!
            lock.unlock()
        }
        batch[0].leads = true
        return batch[0]
    }
}

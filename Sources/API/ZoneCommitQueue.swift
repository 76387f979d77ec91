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
/// next batch can be sent at once (`prepareBatch`: planned from what this batch left, in one
/// round trip), the finishing leader plans it while its own COMMIT runs (that needs no
/// database, only this batch's results) and sends it BEFORE it wakes anyone: waking a thread
/// costs the waker its CPU for a while (the woken thread has slept and the scheduler prefers
/// it), and the next leader's own wake-up then overlaps that round trip instead of preceding
/// it. Only the round trips are left on the lane's critical path.
final class ZoneCommitQueue<Change, Answer>: @unchecked Sendable {
    /// Commits changes together; one result per change, in order.
    typealias CommitBatch = ([Change]) -> [Result<Answer, any Error>]
    /// Waits for a batch that was sent and answers its changes (one result per change, in
    /// order, as `CommitBatch`). It calls `meanwhile` at most once, when the batch's work is
    /// done but its COMMIT still runs.
    typealias Finish = (_ meanwhile: () -> Void) -> [Result<Answer, any Error>]
    /// Plans changes to be committed together and returns what sends them, which returns their
    /// `Finish`; nil when they cannot be sent so, and then nothing was sent or kept.
    typealias PrepareBatch = ([Change]) -> (() -> Finish)?

    /// One caller's change; its fields are handed between threads under `lock` or across
    /// `wake`, never touched by two threads at once.
    private final class Job: @unchecked Sendable {
        var change: Change?
        var result: Result<Answer, any Error>?
        var leads = false
        /// Set for a leader whose batch was sent already: the batch, and what finishes it.
        var sent: (batch: [Job], finish: Finish)?
        let wake = DispatchSemaphore(value: 0)
        init(_ change: Change) { self.change = change }
    }

    private let commitBatch: CommitBatch
    private let prepareBatch: PrepareBatch?
    private let maxBatch: Int
    private let lock = NSLock()
    /// Changes waiting per lane; a lane has an entry exactly while one of its batches runs.
    private var waiting: [Int: [Job]] = [:]
    private var largest = 0

    /// `maxBatch` bounds how many changes one transaction holds, and so how long one batch holds
    /// its zones' locks.
    init(maxBatch: Int = 32, prepareBatch: PrepareBatch? = nil, commitBatch: @escaping CommitBatch) {
        self.commitBatch = commitBatch
        self.prepareBatch = prepareBatch
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
        var prepared: (batch: [Job], send: () -> Finish)?
        if let sent = first.sent {
            first.sent = nil
            batch = sent.batch
            // The next batch is planned while this one's COMMIT runs.
            results = sent.finish { prepared = self.prepare(lane: lane) }
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

        let next = nextLeader(lane: lane, prepared: prepared)
        for job in batch where job !== first { job.wake.signal() }
        next?.wake.signal()
    }

    /// The changes queued in `lane`, planned by `prepareBatch` to be sent as one batch; nil, and
    /// the queue as it was, when nothing is queued or they cannot be sent so.
    private func prepare(lane: Int) -> (batch: [Job], send: () -> Finish)? {
        guard let prepareBatch else { return nil }
        lock.lock()
        guard let queued = waiting[lane], !queued.isEmpty else {
            lock.unlock()
            return nil
        }
        let batch = Array(queued.prefix(maxBatch))
        waiting[lane] = Array(queued.dropFirst(batch.count))
        lock.unlock()
        if let send = prepareBatch(batch.map { $0.change! }) { return (batch, send) }
        // Back to the front of the queue, for a leader to take with whatever queued meanwhile.
        lock.lock()
        waiting[lane] = batch + waiting[lane]!
        lock.unlock()
        return nil
    }

    /// The first change queued in `lane`, to lead the next batch; with that batch already sent
    /// when it was `prepared` or can be now. Nil, and the lane idle, when nothing is queued.
    private func nextLeader(lane: Int, prepared: (batch: [Job], send: () -> Finish)?) -> Job? {
        if let prepared = prepared ?? prepare(lane: lane) {
            lock.lock()
            largest = max(largest, prepared.batch.count)
            lock.unlock()
            prepared.batch[0].sent = (prepared.batch, prepared.send())
            prepared.batch[0].leads = true
            return prepared.batch[0]
        }
        lock.lock()
        defer { lock.unlock() }
        guard let queued = waiting[lane], !queued.isEmpty else {
            waiting[lane] = nil
            return nil
        }
        waiting[lane] = Array(queued.dropFirst())
        queued[0].leads = true
        return queued[0]
    }
}

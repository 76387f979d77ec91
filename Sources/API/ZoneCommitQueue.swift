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
/// database, only this batch's results) and sends it right behind that COMMIT, on the same
/// connection (`Behind`), so the database starts it the moment the COMMIT is done: neither
/// this process nor the database has to be woken up and given a CPU in between. Only then does
/// it wake anyone: waking a thread costs the waker its CPU for a while (the woken thread has
/// slept and the scheduler prefers it). The next leader reads that batch's answer.
final class ZoneCommitQueue<Change, Answer, Behind>: @unchecked Sendable {
    /// Commits changes together; one result per change, in order.
    typealias CommitBatch = ([Change]) -> [Result<Answer, any Error>]
    /// Waits for a batch that was sent and answers its changes (one result per change, in
    /// order, as `CommitBatch`). It calls `meanwhile` at most once, when the batch's work is
    /// done but its COMMIT still runs, with where the next batch may be sent behind it.
    typealias Finish = (_ meanwhile: (Behind) -> Void) -> [Result<Answer, any Error>]
    /// Sends a planned batch and returns its `Finish`: behind the COMMIT of the batch in flight
    /// when `behind` is given, and then nil, with nothing sent, when it cannot go there (it is
    /// sent again without, once that batch is done). Never nil without `behind`.
    typealias Send = (_ behind: Behind?) -> Finish?
    /// Plans changes to be committed together and returns what sends them; nil when they cannot
    /// be sent so, and then nothing was sent or kept.
    typealias PrepareBatch = ([Change]) -> Send?

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
        var next: (batch: [Job], send: Send, sent: Finish?)?
        if let sent = first.sent {
            first.sent = nil
            batch = sent.batch
            // The next batch is planned while this one's COMMIT runs, and sent behind it.
            results = sent.finish { behind in
                if let prepared = self.prepare(lane: lane) { next = (prepared.batch, prepared.send, prepared.send(behind)) }
            }
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

        let leader = nextLeader(lane: lane, planned: next)
        for job in batch where job !== first { job.wake.signal() }
        leader?.wake.signal()
    }

    /// The changes queued in `lane`, planned by `prepareBatch` to be sent as one batch; nil, and
    /// the queue as it was, when nothing is queued or they cannot be sent so.
    private func prepare(lane: Int) -> (batch: [Job], send: Send)? {
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

    /// The first change queued in `lane`, to lead the next batch: the batch `planned` (and sent,
    /// or sent now), or one that can be sent now. Nil, and the lane idle, when nothing is queued.
    private func nextLeader(lane: Int, planned: (batch: [Job], send: Send, sent: Finish?)?) -> Job? {
        var sent: (batch: [Job], finish: Finish)?
        if let planned {
            sent = (planned.batch, planned.sent ?? planned.send(nil)!)
        } else if let prepared = prepare(lane: lane) {
            sent = (prepared.batch, prepared.send(nil)!)
        }
        if let sent {
            lock.lock()
            largest = max(largest, sent.batch.count)
            lock.unlock()
            sent.batch[0].sent = sent
            sent.batch[0].leads = true
            return sent.batch[0]
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

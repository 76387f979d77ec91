import Dispatch
import Foundation
import HTTPServer
import Store

/// Group commit of changes to one zone within this process.
///
/// Changes of one zone serialise on the zone's row lock, and each used to pay for its own
/// transaction and WAL flush while holding it. Here the changes that queue up while a
/// transaction runs are committed together by one thread (the leader) in ONE transaction: each
/// change still runs its own statements against the state the previous one left (so it gets its
/// own serial and journal entry, and its own If-Match check), inside a savepoint of its own, so a
/// change refused with a 4xx is rolled back alone and only its caller sees the error. Every
/// caller is answered only after the shared COMMIT; if that fails, every caller in the batch
/// gets the failure. Nothing a client can observe differs from one transaction each.
///
/// A batch holds changes of one zone only (as the request named it): batches of different
/// zones never wait on each other's locks, so they cannot deadlock. (Sharing transactions
/// across zones saved some CPU here, but a zone named once by name and once by id then lands in
/// two batches that lock the same zones in different orders: measured, and left out.)
///
/// Callers that wait hold no database connection; only the leader does. When the leader's
/// batch is done, the first change that queued meanwhile leads the next batch of that zone.
final class ZoneCommitQueue: @unchecked Sendable {
    typealias Work = (PostgresConnection, inout ZoneBatchState) throws -> HTTPResponse

    /// One caller's change; its fields are handed between threads under `lock` or across
    /// `wake`, never touched by two threads at once.
    private final class Job: @unchecked Sendable {
        var work: Work?
        var result: Result<HTTPResponse, any Error>?
        var leads = false
        let wake = DispatchSemaphore(value: 0)
        init(_ work: @escaping Work) { self.work = work }
    }

    private let pool: ConnectionPool
    private let maxBatch: Int
    private let lock = NSLock()
    /// Changes waiting per zone; a zone has an entry exactly while one of its batches runs.
    private var waiting: [String: [Job]] = [:]
    private var largest = 0

    /// `maxBatch` bounds the savepoints in one transaction (PostgreSQL tracks up to 64
    /// subtransactions per backend cheaply) and how long one batch holds the zone's lock.
    init(pool: ConnectionPool, maxBatch: Int = 32) {
        self.pool = pool
        self.maxBatch = max(1, maxBatch)
    }

    /// The most changes one transaction has held so far.
    var largestBatch: Int {
        lock.lock()
        defer { lock.unlock() }
        return largest
    }

    /// Runs `work` in a transaction shared with other queued changes of the zone `zone` names
    /// (as the request did, case and trailing dot aside), and returns its answer (or throws its
    /// error) once that transaction committed. `work` may run more than once (the
    /// transaction is retried on serialization failures and deadlocks) and on another thread,
    /// while this one waits.
    func submit(zone: String, _ work: @escaping Work) throws -> HTTPResponse {
        let job = Job(work)
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
        let results = commit(batch)
        for (job, result) in zip(batch, results) {
            job.result = result
            job.work = nil
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

    /// One transaction for the batch; one result per job, in order. Listeners hear of the
    /// changes that committed, with the COMMIT.
    private func commit(_ batch: [Job]) -> [Result<HTTPResponse, any Error>] {
        do {
            return try pool.transaction { db in
                var state = ZoneBatchState()
                // Alone, a change needs no savepoint: its failure rolls back the transaction.
                if batch.count == 1 {
                    let response = try batch[0].work!(db, &state)
                    try state.notifyAfterCommit(on: db)
                    return [.success(response)]
                }
                var results: [Result<HTTPResponse, any Error>] = []
                results.reserveCapacity(batch.count)
                for (index, job) in batch.enumerated() {
                    // Never released: each change nests in the one before, which costs nothing
                    // at this depth and saves a round trip per change.
                    // Sent with the change's first statement; a change refused before it sends
                    // any statement needs neither the savepoint nor a rollback to it.
                    let savepoint = "zonectl_change\(index)"
                    try db.executeWithNext("SAVEPOINT \(savepoint)")
                    let before = state
                    do {
                        results.append(.success(try job.work!(db, &state)))
                    } catch let error as DatabaseError where error.isTransient || error.kind == .unavailable {
                        // The whole transaction is lost or must be retried: not this job's alone.
                        throw error
                    } catch {
                        if !db.withdraw("SAVEPOINT \(savepoint)") { try db.execute("ROLLBACK TO SAVEPOINT \(savepoint)") }
                        state = before
                        results.append(.failure(error))
                    }
                }
                try state.notifyAfterCommit(on: db)
                return results
            }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }
}

/// What the changes of one batch share, valid only inside the batch's transaction: the zone's
/// row as the last change that committed left it (its lock is held from then on), and accounts
/// already read (changes never write them). Rows are kept by zone id, so a zone named two ways
/// is still one zone. Rolled back with a change that fails.
struct ZoneBatchState {
    var zoneIDs: [String: Int64] = [:]
    var zones: [Int64: ZoneRow] = [:]
    var accounts: [Int64: AccountRow] = [:]
    /// Announcements of the changes made, to send with the batch's COMMIT.
    var notifications: [(channel: String, payload: String)] = []

    /// The locked row of the zone `reference` named earlier in this batch, if any.
    func zone(named reference: String) -> ZoneRow? {
        zoneIDs[reference].flatMap { zones[$0] }
    }

    /// Hands the notifications of the changes that stayed to the connection, to go out with
    /// the COMMIT.
    func notifyAfterCommit(on db: PostgresConnection) throws {
        for (channel, payload) in notifications { try db.notifyAfterCommit(channel: channel, payload: payload) }
    }

    mutating func remember(_ row: ZoneRow, named reference: String) {
        zoneIDs[reference] = row.id
        zones[row.id] = row
    }
}

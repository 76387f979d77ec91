import Dispatch
import Foundation
import IntegrationHarness
import Testing

@testable import API

/// The queue on its own, with numbers for changes: who commits which batch, where the next one
/// is sent, and when callers are woken. A batch in flight offers to carry the next one behind
/// it as `Behind`: here, its own changes.
@Suite("ZoneCommitQueue")
struct ZoneCommitQueueTests {
    /// What the queue's closures and callers saw, shared between their threads.
    final class Record: @unchecked Sendable {
        private let lock = NSLock()
        private var committed: [[Int]] = []
        private var started: [[Int]] = []
        private var returned: Set<Int> = []
        private var returnedAtStart: [[Int]: Set<Int>] = [:]
        private var startedWhileCommitting: [[Int]: [[Int]]] = [:]
        private var sent: [(changes: [Int], behind: [Int]?)] = []

        func commit(_ changes: [Int]) { lock.withLock { committed.append(changes) } }
        func start(_ changes: [Int]) { lock.withLock { started.append(changes) } }
        func returned(_ change: Int) { lock.withLock { _ = returned.insert(change) } }
        func noteReturned(at changes: [Int]) { lock.withLock { returnedAtStart[changes] = returned } }
        func noteStarts(whileCommitting changes: [Int]) { lock.withLock { startedWhileCommitting[changes] = started } }
        func startsWhileCommitting(_ changes: [Int]) -> [[Int]]? { lock.withLock { startedWhileCommitting[changes] } }
        func send(_ changes: [Int], behind: [Int]?) { lock.withLock { sent.append((changes, behind)) } }
        var sends: [String] { lock.withLock { sent.map { "\($0.changes) behind \($0.behind.map { "\($0)" } ?? "nothing")" } } }
        var commits: [[Int]] { lock.withLock { committed } }
        var starts: [[Int]] { lock.withLock { started } }
        func returnedWhenStarting(_ changes: [Int]) -> Set<Int>? { lock.withLock { returnedAtStart[changes] } }
    }

    /// Submits `change` on a thread of its own and waits until the lane holds `queuedAfter`
    /// waiting changes (nil: until a batch runs).
    static func submit(_ queue: ZoneCommitQueue<Int, Int, [Int]>, _ change: Int, record: Record,
                       queuedAfter: Int) throws -> BackgroundCall<Int> {
        let call = BackgroundCall {
            let answer = try queue.submit(lane: 0, change)
            record.returned(change)
            return answer
        }
        let deadline = Date().addingTimeInterval(10)
        while queue.queued(lane: 0) != queuedAfter {
            guard Date() < deadline else { throw FixtureError("change \(change) did not queue") }
            usleep(1_000)
        }
        return call
    }

    /// Commits each change as ten times itself; the batch [1] only once `gate` is signalled.
    static func holdingFirst(_ gate: DispatchSemaphore, record: Record) -> ZoneCommitQueue<Int, Int, [Int]>.CommitBatch {
        { changes in
            record.commit(changes)
            if changes == [1] { gate.wait() }
            return changes.map { .success($0 * 10) }
        }
    }

    /// 1 leads a batch (held by `holdingFirst`), 2 and 3 queue behind it.
    static func submitThree(_ queue: ZoneCommitQueue<Int, Int, [Int]>, record: Record) throws
        -> (BackgroundCall<Int>, BackgroundCall<Int>, BackgroundCall<Int>) {
        (try submit(queue, 1, record: record, queuedAfter: 0), try submit(queue, 2, record: record, queuedAfter: 1),
         try submit(queue, 3, record: record, queuedAfter: 2))
    }

    /// The queue of `sendsBehindTheCommit` and `sentAfterWhenNotBehind`: 1 is committed alone
    /// (held until `firstBatch`); [2, 3] is planned and sent then and waits for
    /// `secondRoundTrip`; [4, 5] queue meanwhile and are planned while [2, 3] commits. Whether
    /// [4, 5] can go behind [2, 3] is `behindAccepted`.
    static func queueOfTwoRoundTrips(record: Record, firstBatch: DispatchSemaphore, secondRoundTrip: DispatchSemaphore,
                                     behindAccepted: Bool) -> ZoneCommitQueue<Int, Int, [Int]> {
        ZoneCommitQueue<Int, Int, [Int]>(maxBatch: 8, prepareBatch: { changes in
            record.start(changes)
            return { behind in
                if behind != nil && !behindAccepted { return nil }
                if changes == [4, 5] && behind == nil {
                    // Time enough for a caller woken before this batch was sent to have returned.
                    usleep(100_000)
                }
                record.noteReturned(at: changes)
                record.send(changes, behind: behind)
                return { meanwhile in
                    if changes == [2, 3] {
                        secondRoundTrip.wait()
                        // While [2, 3] commits, the changes queued meanwhile are planned.
                        meanwhile(changes)
                        record.noteStarts(whileCommitting: changes)
                    }
                    return changes.map { .success($0 * 10) }
                }
            }
        }, commitBatch: Self.holdingFirst(firstBatch, record: record))
    }

    /// Runs the changes 1 to 5 through `queueOfTwoRoundTrips` and checks every caller got its own
    /// answer and [4, 5] were planned while [2, 3] committed.
    static func runTwoRoundTrips(behindAccepted: Bool) throws -> Record {
        let record = Record()
        let firstBatch = DispatchSemaphore(value: 0)
        let secondRoundTrip = DispatchSemaphore(value: 0)
        let queue = queueOfTwoRoundTrips(record: record, firstBatch: firstBatch, secondRoundTrip: secondRoundTrip,
                                         behindAccepted: behindAccepted)
        let (one, two, three) = try Self.submitThree(queue, record: record)
        firstBatch.signal()
        // [2, 3] is sent; 2 waits for its round trip while 4 and 5 queue.
        let deadline = Date().addingTimeInterval(10)
        while record.starts.count < 1 || queue.queued(lane: 0) != 0 {
            guard Date() < deadline else { throw FixtureError("the second batch was not sent") }
            usleep(1_000)
        }
        let four = try Self.submit(queue, 4, record: record, queuedAfter: 1)
        let five = try Self.submit(queue, 5, record: record, queuedAfter: 2)
        secondRoundTrip.signal()

        #expect(try [one, two, three, four, five].map { try $0.wait(timeoutSeconds: 10) } == [10, 20, 30, 40, 50])
        #expect(record.commits == [[1]])
        #expect(record.starts == [[2, 3], [4, 5]])
        #expect(record.startsWhileCommitting([2, 3]) == [[2, 3], [4, 5]])
        return record
    }

    @Test("the next batch is planned while the last one commits and sent behind its COMMIT; each caller gets its own answer")
    func sendsBehindTheCommit() throws {
        let record = try Self.runTwoRoundTrips(behindAccepted: true)
        #expect(record.sends == ["[2, 3] behind nothing", "[4, 5] behind [2, 3]"])
        // [4, 5] went out before [2, 3]'s round trip was over: nobody but 1 had returned.
        #expect(record.returnedWhenStarting([4, 5]) == [1])
    }

    @Test("a batch that cannot go behind the last one's COMMIT is sent once it is done, before its callers are woken")
    func sentAfterWhenNotBehind() throws {
        let record = try Self.runTwoRoundTrips(behindAccepted: false)
        #expect(record.sends == ["[2, 3] behind nothing", "[4, 5] behind nothing"])
        // When [4, 5] went out, only 1 had returned: 3 (and 2, its leader) waited for it.
        #expect(record.returnedWhenStarting([4, 5]) == [1])
    }

    @Test("a batch that cannot be sent at once is committed by its leader, with what queued meanwhile")
    func unsentBatchIsCommitted() throws {
        let record = Record()
        let firstBatch = DispatchSemaphore(value: 0)
        let queue = ZoneCommitQueue<Int, Int, [Int]>(maxBatch: 8, prepareBatch: { changes in
            record.start(changes)
            return nil
        }, commitBatch: Self.holdingFirst(firstBatch, record: record))
        let (one, two, three) = try Self.submitThree(queue, record: record)
        firstBatch.signal()
        #expect(try [one, two, three].map { try $0.wait(timeoutSeconds: 10) } == [10, 20, 30])
        #expect(record.starts == [[2, 3]])
        #expect(record.commits == [[1], [2, 3]])
    }
}

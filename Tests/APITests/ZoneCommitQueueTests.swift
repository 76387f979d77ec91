import Dispatch
import Foundation
import IntegrationHarness
import Testing

@testable import API

/// The queue on its own, with numbers for changes: who commits which batch, and when callers
/// are woken.
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

        func commit(_ changes: [Int]) { lock.withLock { committed.append(changes) } }
        func start(_ changes: [Int]) { lock.withLock { started.append(changes) } }
        func returned(_ change: Int) { lock.withLock { _ = returned.insert(change) } }
        func noteReturned(at changes: [Int]) { lock.withLock { returnedAtStart[changes] = returned } }
        func noteStarts(whileCommitting changes: [Int]) { lock.withLock { startedWhileCommitting[changes] = started } }
        func startsWhileCommitting(_ changes: [Int]) -> [[Int]]? { lock.withLock { startedWhileCommitting[changes] } }
        var commits: [[Int]] { lock.withLock { committed } }
        var starts: [[Int]] { lock.withLock { started } }
        func returnedWhenStarting(_ changes: [Int]) -> Set<Int>? { lock.withLock { returnedAtStart[changes] } }
    }

    /// Submits `change` on a thread of its own and waits until the lane holds `queuedAfter`
    /// waiting changes (nil: until a batch runs).
    static func submit(_ queue: ZoneCommitQueue<Int, Int>, _ change: Int, record: Record,
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
    static func holdingFirst(_ gate: DispatchSemaphore, record: Record) -> ZoneCommitQueue<Int, Int>.CommitBatch {
        { changes in
            record.commit(changes)
            if changes == [1] { gate.wait() }
            return changes.map { .success($0 * 10) }
        }
    }

    /// 1 leads a batch (held by `holdingFirst`), 2 and 3 queue behind it.
    static func submitThree(_ queue: ZoneCommitQueue<Int, Int>, record: Record) throws
        -> (BackgroundCall<Int>, BackgroundCall<Int>, BackgroundCall<Int>) {
        (try submit(queue, 1, record: record, queuedAfter: 0), try submit(queue, 2, record: record, queuedAfter: 1),
         try submit(queue, 3, record: record, queuedAfter: 2))
    }

    @Test("the next batch is planned while the last one commits and sent before its callers are woken; each caller gets its own answer")
    func sendsBeforeWaking() throws {
        let record = Record()
        let firstBatch = DispatchSemaphore(value: 0)
        let secondRoundTrip = DispatchSemaphore(value: 0)
        let queue = ZoneCommitQueue<Int, Int>(maxBatch: 8, prepareBatch: { changes in
            record.start(changes)
            return {
                if changes == [4, 5] {
                    // Time enough for a caller woken before this batch was sent to have returned.
                    usleep(100_000)
                    record.noteReturned(at: changes)
                }
                return { meanwhile in
                    if changes == [2, 3] {
                        secondRoundTrip.wait()
                        // While [2, 3] commits, the changes queued meanwhile are planned.
                        meanwhile()
                        record.noteStarts(whileCommitting: changes)
                    }
                    return changes.map { .success($0 * 10) }
                }
            }
        }, commitBatch: Self.holdingFirst(firstBatch, record: record))

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
        // When [4, 5] went out, only 1 had returned: 3 (and 2, its leader) waited for it.
        #expect(record.returnedWhenStarting([4, 5]) == [1])
    }

    @Test("a batch that cannot be sent at once is committed by its leader, with what queued meanwhile")
    func unsentBatchIsCommitted() throws {
        let record = Record()
        let firstBatch = DispatchSemaphore(value: 0)
        let queue = ZoneCommitQueue<Int, Int>(maxBatch: 8, prepareBatch: { changes in
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

import Foundation
import Synchronization
import Testing

@testable import Propagation

/// How NOTIFY workers and zone-file writers sleep (`WorkerThreads`): one wake-up wakes one idle
/// thread, not all of them, and none is lost.
@Suite struct WorkerThreadsTests {
    @Test("a wake-up wakes one of eight idle threads, and each further one one more")
    func wakeOne() throws {
        let threads = WorkerThreads()
        let wakeUps = Atomic<Int>(0)
        for index in 0..<8 {
            threads.spawn("worker-\(index)") {
                while threads.isRunning {
                    threads.idle(seconds: 30, since: threads.currentGeneration)
                    if threads.isRunning { wakeUps.add(1, ordering: .relaxed) }
                }
            }
        }
        defer { threads.stop() }
        Thread.sleep(forTimeInterval: 0.3)  // every thread asleep
        #expect(wakeUps.load(ordering: .relaxed) == 0)

        for round in 1...3 {
            threads.wake()
            // Until the woken thread has counted (a loaded machine may take a while), then a
            // little longer for any other thread that wrongly woke too.
            let deadline = Date().addingTimeInterval(10)
            while wakeUps.load(ordering: .relaxed) < round && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            Thread.sleep(forTimeInterval: 0.3)
            #expect(wakeUps.load(ordering: .relaxed) == round, "wake-up \(round) left \(wakeUps.load(ordering: .relaxed)) in all")
        }
    }
}

import Foundation

/// Connects a streaming body's producer (on its own thread) to libmicrohttpd's content reader
/// (on the connection's worker thread) through a bounded queue of chunks, so a large export
/// never sits in memory whole and a slow client slows the producer down instead.
final class BodyStream: @unchecked Sendable {
    /// Chunks waiting for the reader; with 64 KiB chunks this bounds memory near 256 KiB.
    static let queueCapacity = 4

    private let producer: @Sendable (inout HTTPBodyWriter) throws -> Void
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var queue: [[UInt8]] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    // Touched only by the reader (one worker thread).
    private var started = false
    private var current: [UInt8] = []
    private var currentOffset = 0

    init(producer: @escaping @Sendable (inout HTTPBodyWriter) throws -> Void) {
        self.producer = producer
    }

    /// Why the stream ended early, for the access log.
    var failureDescription: String? {
        condition.lock()
        defer { condition.unlock() }
        return failure.map { String(describing: $0) }
    }

    /// Fills `buffer` with the next bytes; 0 means the stream is over, nil that it failed.
    /// Blocks while the producer has nothing ready yet.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        if !started {
            started = true
            let thread = Thread { [self] in runProducer() }
            thread.name = "zonectl-http-stream"
            thread.start()
        }
        if currentOffset == current.count {
            condition.lock()
            while queue.isEmpty && !finished { condition.wait() }
            if queue.isEmpty {
                let failed = failure != nil
                condition.unlock()
                return failed ? nil : 0
            }
            current = queue.removeFirst()
            currentOffset = 0
            condition.broadcast()  // room for the producer
            condition.unlock()
        }
        let count = min(buffer.count, current.count - currentOffset)
        current.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + currentOffset, byteCount: count)
        }
        currentOffset += count
        return count
    }

    /// The response is gone (sent, client vanished, or server stopping): unblock the producer.
    func cancel() {
        condition.lock()
        cancelled = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    private func runProducer() {
        var writer = HTTPBodyWriter(sink: { [self] chunk in try enqueue(chunk) })
        var failure: (any Error)?
        do {
            try producer(&writer)
            try writer.flush()
        } catch {
            failure = error
        }
        condition.lock()
        finished = true
        if !cancelled { self.failure = failure }
        condition.broadcast()
        condition.unlock()
    }

    private func enqueue(_ chunk: [UInt8]) throws {
        guard !chunk.isEmpty else { return }
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= Self.queueCapacity && !cancelled { condition.wait() }
        if cancelled { throw HTTPBodyWriter.Cancelled() }
        queue.append(chunk)
        condition.broadcast()
    }
}

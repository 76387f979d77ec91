import Foundation

/// Requests this process answered, by method and status, for `/metrics`.
///
/// Every request passes through here, so the lock is an `NSLock` (a plain pthread mutex) rather
/// than `Synchronization.Mutex`; see docs/architecture.md, "Locks on the request path".
final class RequestCounters: @unchecked Sendable {
    struct Key: Hashable, Comparable {
        let method: String
        let status: Int
        static func < (left: Key, right: Key) -> Bool { (left.method, left.status) < (right.method, right.status) }
    }

    private let lock = NSLock()
    private var counts: [Key: Int] = [:]
    /// Methods outside this set are counted as "other", so a client cannot grow the table.
    private static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func record(method: String, status: Int) {
        let key = Key(method: Self.methods.contains(method) ? method : "other", status: status)
        lock.withLock { counts[key, default: 0] += 1 }
    }

    func snapshot() -> [(Key, Int)] {
        lock.withLock { counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
}

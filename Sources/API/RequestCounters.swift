import Synchronization

/// Requests this process answered, by method and status, for `/metrics`.
final class RequestCounters: Sendable {
    struct Key: Hashable, Comparable {
        let method: String
        let status: Int
        static func < (left: Key, right: Key) -> Bool { (left.method, left.status) < (right.method, right.status) }
    }

    private let counts = Mutex<[Key: Int]>([:])
    /// Methods outside this set are counted as "other", so a client cannot grow the table.
    private static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func record(method: String, status: Int) {
        let key = Key(method: Self.methods.contains(method) ? method : "other", status: status)
        counts.withLock { $0[key, default: 0] += 1 }
    }

    func snapshot() -> [(Key, Int)] {
        counts.withLock { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
}

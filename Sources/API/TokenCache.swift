import Foundation
import Store

/// Token rows recently read, so that a client sending request after request does not cost a
/// database round trip each time for its token. Entries live `lifetime` seconds: a token
/// revoked through this process is forgotten at once (`forget`), one revoked through another
/// process or straight in the database is honoured here for at most that long. The secret is
/// still checked against the stored hash on every request; only the row is reused.
///
/// Every request reads it, so its lock is an NSLock (docs/architecture.md, "Locks on the
/// request path").
final class TokenCache: @unchecked Sendable {
    let lifetime: Double
    private struct Entry {
        var row: TokenRow
        var expires: Double
    }
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    /// Beyond this many entries the cache starts over (a burst of distinct tokens).
    private static let maximumEntries = 10_000

    /// `lifetime` 0 turns the cache off.
    init(lifetime: Double) {
        self.lifetime = max(0, lifetime)
    }

    /// The row of token `id`: from the cache while fresh, else from `load` (a missing token is
    /// not remembered, so a token created elsewhere works at once).
    func row(id: String, now: Double = Date().timeIntervalSinceReferenceDate, load: () throws -> TokenRow?) rethrows -> TokenRow? {
        if lifetime > 0, let entry = lock.withLock({ entries[id] }), entry.expires > now {
            return entry.row
        }
        guard let row = try load() else {
            forget(id: id)
            return nil
        }
        guard lifetime > 0 else { return row }
        lock.withLock {
            if entries.count >= Self.maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[id] = Entry(row: row, expires: now + lifetime)
        }
        return row
    }

    /// Token `id` was revoked.
    func forget(id: String) {
        _ = lock.withLock { entries.removeValue(forKey: id) }
    }

    /// Tokens went in bulk (an account and its tokens were deleted).
    func forgetAll() {
        lock.withLock { entries.removeAll() }
    }
}

import Foundation
import Store
import Synchronization

/// Token rows recently read, so that a client sending request after request does not cost a
/// database round trip each time for its token. Entries live `lifetime` seconds: a token
/// revoked through this process is forgotten at once (`forget`), one revoked through another
/// process or straight in the database is honoured here for at most that long. The secret is
/// still checked against the stored hash on every request; only the row is reused.
final class TokenCache: Sendable {
    let lifetime: Double
    private struct Entry {
        var row: TokenRow
        var expires: Double
    }
    private let entries = Mutex<[String: Entry]>([:])
    /// Beyond this many entries the cache starts over (a burst of distinct tokens).
    private static let maximumEntries = 10_000

    /// `lifetime` 0 turns the cache off.
    init(lifetime: Double) {
        self.lifetime = max(0, lifetime)
    }

    /// The row of token `id`: from the cache while fresh, else from `load` (a missing token is
    /// not remembered, so a token created elsewhere works at once).
    func row(id: String, now: Double = Date().timeIntervalSinceReferenceDate, load: () throws -> TokenRow?) rethrows -> TokenRow? {
        if lifetime > 0, let entry = entries.withLock({ $0[id] }), entry.expires > now {
            return entry.row
        }
        guard let row = try load() else {
            forget(id: id)
            return nil
        }
        guard lifetime > 0 else { return row }
        entries.withLock { entries in
            if entries.count >= Self.maximumEntries { entries.removeAll(keepingCapacity: true) }
            entries[id] = Entry(row: row, expires: now + lifetime)
        }
        return row
    }

    /// Token `id` was revoked.
    func forget(id: String) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// Tokens went in bulk (an account and its tokens were deleted).
    func forgetAll() {
        entries.withLock { $0.removeAll() }
    }
}

import Foundation

/// Requests per token, as a token bucket: `burst` at once, refilled at `perSecond`. Over the
/// limit a request is answered 429 with `Retry-After`, before it touches the database. Each
/// process keeps its own buckets (several processes allow each token their sum).
///
/// Every request consults it, so its lock is an NSLock (docs/architecture.md, "Locks on the
/// request path").
final class RateLimiter: @unchecked Sendable {
    let perSecond: Double
    let burst: Double
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }
    private let lock = NSLock()
    private var buckets: [String: Bucket] = [:]
    /// Beyond this many buckets, full ones are forgotten (a full bucket is the same as none).
    private static let maximumBuckets = 10_000

    init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = max(1, burst)
    }

    /// nil when the request may go ahead, else the seconds until it could.
    func delay(for key: String, now: Double = Date().timeIntervalSinceReferenceDate) -> Double? {
        lock.withLock {
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.updated) * perSecond)
            bucket.updated = now
            defer {
                buckets[key] = bucket
                if buckets.count > Self.maximumBuckets {
                    buckets = buckets.filter { $0.value.tokens + (now - $0.value.updated) * perSecond < burst }
                }
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / perSecond }
            bucket.tokens -= 1
            return nil
        }
    }
}

import Foundation

/// Where TSIG gets the time: the system clock, or a chosen one in tests (to check BADTIME and
/// to reproduce a known signature).
public struct TSIGClock: Sendable {
    private let now: @Sendable () -> UInt64

    public init(_ now: @escaping @Sendable () -> UInt64) {
        self.now = now
    }

    public static let system = TSIGClock { UInt64(max(0, Date().timeIntervalSince1970)) }

    public static func fixed(_ secondsSince1970: UInt64) -> TSIGClock {
        TSIGClock { secondsSince1970 }
    }

    /// Seconds since 1970-01-01 UTC, as TSIG's Time Signed counts them.
    public func secondsSince1970() -> UInt64 { now() }
}

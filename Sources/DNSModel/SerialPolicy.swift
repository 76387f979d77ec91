import Foundation

/// How a zone's next SOA serial is chosen on each committed change. Every policy's `next` is
/// newer than the current serial in RFC 1982 order, across the 2^32 wrap and whatever the
/// clock says, so secondaries always pick the change up.
///
/// Serial 0 is skipped when counting on (0 → 1): some secondaries and tools treat 0 as
/// "unset". RFC 1982 keeps 1 newer than 4294967295, so skipping it never breaks the order.
public enum SerialPolicy: String, Sendable, CaseIterable {
    /// 1, 2, 3, …
    case increment
    /// Unix time in seconds, or current + 1 when that is not newer (several changes in one
    /// second, a clock that went back).
    case epoch
    /// YYYYMMDDnn of the UTC date. When today's 100 numbers (nn = 00…99) are used up, or the
    /// clock went back, it keeps counting on from the current serial (current + 1, so the
    /// 101st change on 2024-06-01 is 2024060200), as BIND's `serial-update-method date` does;
    /// the serial then runs ahead of the date until the date catches up.
    case date

    public func initial(now: Date) -> ZoneSerial {
        switch self {
        case .increment: return ZoneSerial(rawValue: 1)
        case .epoch: return ZoneSerial(rawValue: SerialPolicy.unixTime(now))
        case .date: return ZoneSerial(rawValue: SerialPolicy.dateSerial(now))
        }
    }

    public func next(after current: ZoneSerial, now: Date) -> ZoneSerial {
        let counted = SerialPolicy.countOn(current)
        switch self {
        case .increment:
            return counted
        case .epoch:
            let candidate = ZoneSerial(rawValue: SerialPolicy.unixTime(now))
            return candidate.isNewer(than: current) ? candidate : counted
        case .date:
            let candidate = ZoneSerial(rawValue: SerialPolicy.dateSerial(now))
            return candidate.isNewer(than: current) ? candidate : counted
        }
    }

    private static func countOn(_ current: ZoneSerial) -> ZoneSerial {
        let next = current.adding(1)
        return next.rawValue == 0 ? next.adding(1) : next
    }

    private static func unixTime(_ now: Date) -> UInt32 {
        let seconds = now.timeIntervalSince1970
        guard seconds > 0 else { return 1 }
        guard seconds < Double(UInt32.max) else { return UInt32.max }
        return UInt32(seconds)
    }

    /// YYYYMMDD00 in UTC; clamped into 32 bits (years past 4294 cannot be written this way).
    private static func dateSerial(_ now: Date) -> UInt32 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        let value = UInt64(max(0, parts.year ?? 1970)) * 1_000_000 + UInt64(parts.month ?? 1) * 10_000
            + UInt64(parts.day ?? 1) * 100
        return UInt32(min(value, UInt64(UInt32.max)))
    }
}

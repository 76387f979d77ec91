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
    /// Computed from the day number: a `Calendar` built per call was about 5% of a batch
    /// leader's CPU time under bench/api.
    private static func dateSerial(_ now: Date) -> UInt32 {
        let (year, month, day) = civilDate(daysSince1970: Int64((now.timeIntervalSince1970 / 86_400).rounded(.down)))
        let value = UInt64(max(0, year)) * 1_000_000 + UInt64(month) * 10_000 + UInt64(day) * 100
        return UInt32(min(value, UInt64(UInt32.max)))
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01. Years are counted from
    /// 1 March, so the leap day ends a year, in 400-year eras of 146,097 days.
    private static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468  // days from 0000-03-01 to 1970-01-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

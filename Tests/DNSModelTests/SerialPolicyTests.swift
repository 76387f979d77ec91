import DNSModel
import Foundation
import Testing

@Suite struct SerialPolicyTests {
    func serial(_ value: UInt32) -> ZoneSerial { ZoneSerial(rawValue: value) }

    /// 2024-06-01 12:00:00 UTC plus `seconds`.
    func june1(plus seconds: TimeInterval = 0) -> Date {
        Date(timeIntervalSince1970: 1_717_243_200 + seconds)
    }

    @Test func rfc1982Comparison() {
        #expect(serial(2).isNewer(than: serial(1)))
        #expect(!serial(1).isNewer(than: serial(2)))
        #expect(!serial(5).isNewer(than: serial(5)))
        // Across the wrap: 0 and 1 are newer than 4294967295.
        #expect(serial(0).isNewer(than: serial(UInt32.max)))
        #expect(serial(1).isNewer(than: serial(UInt32.max)))
        #expect(!serial(UInt32.max).isNewer(than: serial(0)))
        // 2^31 − 1 ahead is newer; exactly 2^31 apart is undefined: neither is newer.
        #expect(serial((1 << 31) - 1).isNewer(than: serial(0)))
        #expect(!serial(1 << 31).isNewer(than: serial(0)))
        #expect(!serial(0).isNewer(than: serial(1 << 31)))
    }

    @Test func rfc1982Addition() {
        #expect(serial(UInt32.max).adding(1) == serial(0))
        #expect(serial(UInt32.max - 1).adding(5) == serial(3))
        #expect(serial(10).adding((1 << 31) - 1).isNewer(than: serial(10)))
    }

    @Test func incrementCountsOnAndWraps() {
        let policy = SerialPolicy.increment
        #expect(policy.initial(now: june1()) == serial(1))
        #expect(policy.next(after: serial(41), now: june1()) == serial(42))
        let wrapped = policy.next(after: serial(UInt32.max), now: june1())
        #expect(wrapped == serial(1))
        #expect(wrapped.isNewer(than: serial(UInt32.max)))
    }

    @Test func epochFollowsTheClockAndNeverGoesBack() {
        let policy = SerialPolicy.epoch
        let now = june1()
        #expect(policy.initial(now: now) == serial(1_717_243_200))
        #expect(policy.next(after: serial(1_700_000_000), now: now) == serial(1_717_243_200))
        // Two changes in one second.
        #expect(policy.next(after: serial(1_717_243_200), now: now) == serial(1_717_243_201))
        // The clock went back an hour.
        #expect(policy.next(after: serial(1_717_246_800), now: now) == serial(1_717_246_801))
        // A serial ahead by more than 2^31 (from a date policy, say) is older in RFC 1982
        // terms only when the distance says so: the next is still newer than the current.
        for current in [UInt32.max, 4_000_000_000, 1 << 31, 0] {
            let next = policy.next(after: serial(current), now: now)
            #expect(next.isNewer(than: serial(current)), "after \(current) came \(next)")
        }
    }

    @Test func dateStartsAtTodayAndCountsPastNinetyNine() {
        let policy = SerialPolicy.date
        #expect(policy.initial(now: june1()) == serial(2024060100))
        #expect(policy.next(after: serial(2024053107), now: june1()) == serial(2024060100))
        #expect(policy.next(after: serial(2024060100), now: june1()) == serial(2024060101))
        // 99 changes in a day, then more: it keeps counting (BIND's serial-update-method date).
        var current = policy.initial(now: june1())
        for _ in 0..<99 { current = policy.next(after: current, now: june1(plus: 60)) }
        #expect(current == serial(2024060199))
        let hundredth = policy.next(after: current, now: june1(plus: 120))
        #expect(hundredth == serial(2024060200))
        #expect(hundredth.isNewer(than: current))
        // The next day the date has been used already, so it goes on counting until it catches up.
        #expect(policy.next(after: hundredth, now: june1(plus: 86_400)) == serial(2024060201))
        #expect(policy.next(after: hundredth, now: june1(plus: 2 * 86_400)) == serial(2024060300))
        // UTC, not local time: 23:30 UTC is still the same day.
        #expect(policy.initial(now: june1(plus: 11.5 * 3600)) == serial(2024060100))
    }

    @Test func dateWithAClockThatWentBack() {
        let policy = SerialPolicy.date
        let current = serial(2024061505)
        let next = policy.next(after: current, now: june1())
        #expect(next == serial(2024061506))
        #expect(next.isNewer(than: current))
    }

    @Test(arguments: SerialPolicy.allCases)
    func nextIsAlwaysNewerAtTheEdges(policy: SerialPolicy) {
        let edges: [UInt32] = [0, 1, 2024060199, 2024060100, 1_717_243_200, (1 << 31) - 1, 1 << 31, (1 << 31) + 1, UInt32.max - 1, UInt32.max]
        let clocks = [june1(), june1(plus: -400 * 86_400), Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 4_000_000_000)]
        for current in edges {
            for clock in clocks {
                let next = policy.next(after: serial(current), now: clock)
                #expect(next.isNewer(than: serial(current)), "\(policy) after \(current) at \(clock) gave \(next)")
            }
        }
    }

    @Test("the date serial's day arithmetic agrees with Foundation's Gregorian calendar in UTC")
    func dateSerialMatchesCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        // Every day from 1900 to 2400 (leap centuries 2000 and 2400, plain 1900 and 2100),
        // at the first and the last second of the day.
        var mismatches: [String] = []
        for day in Int64(-25_567)...Int64(157_000) {
            for second in [0.0, 86_399.0] {
                let date = Date(timeIntervalSince1970: Double(day) * 86_400 + second)
                let parts = calendar.dateComponents([.year, .month, .day], from: date)
                let expected = UInt32(parts.year! * 1_000_000 + parts.month! * 10_000 + parts.day! * 100)
                if SerialPolicy.date.initial(now: date).rawValue != expected, mismatches.count < 5 {
                    mismatches.append("\(date): \(SerialPolicy.date.initial(now: date).rawValue) instead of \(expected)")
                }
            }
        }
        #expect(mismatches.isEmpty)
        // Past 4294 the serial cannot be written in 32 bits and stays at the largest.
        #expect(SerialPolicy.date.initial(now: Date(timeIntervalSince1970: 80_000_000_000)).rawValue == UInt32.max)
    }
}

/// TTL text as zone files write it: seconds ("3600") or units ("1h", "2w", "1h30m"; s, m, h,
/// d, w in either case), as BIND, Knot and NSD read them. Also used for SOA timers.
public enum TimeToLive {
    /// The largest TTL RFC 2181 §8 allows.
    public static let maximum: UInt32 = 2_147_483_647

    /// Seconds, or nil when the text is not a TTL or does not fit 32 bits.
    public static func parse(_ text: String) -> UInt32? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        if bytes.allSatisfy(isDigit) {
            guard bytes.count <= 10, let value = UInt64(text), value <= UInt64(UInt32.max) else { return nil }
            return UInt32(value)
        }
        var total: UInt64 = 0
        var number: UInt64 = 0
        var digits = 0
        for byte in bytes {
            if isDigit(byte) {
                number = number * 10 + UInt64(byte - 48)
                digits += 1
                guard digits <= 10 else { return nil }
                continue
            }
            let unit: UInt64
            switch foldCase(byte) {
            case UInt8(ascii: "s"): unit = 1
            case UInt8(ascii: "m"): unit = 60
            case UInt8(ascii: "h"): unit = 3600
            case UInt8(ascii: "d"): unit = 86400
            case UInt8(ascii: "w"): unit = 604_800
            default: return nil
            }
            guard digits > 0 else { return nil }
            total += number * unit
            guard total <= UInt64(UInt32.max) else { return nil }
            number = 0
            digits = 0
        }
        // "1h30" leaves a number without a unit: BIND refuses it, so do we.
        guard digits == 0 else { return nil }
        return UInt32(total)
    }
}

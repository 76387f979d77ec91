/// Base16 (RFC 4648, section 8). DNS presentation writes it in upper case (DS digests, `\#`
/// data); the API's cursors and token ids use lower case. Both cases are read.
public enum Base16 {
    private static let lower = Array("0123456789abcdef".utf8)
    private static let upper = Array("0123456789ABCDEF".utf8)

    public static func encode<Bytes: Collection<UInt8>>(_ octets: Bytes, uppercase: Bool = false) -> String {
        let digits = uppercase ? upper : lower
        var text: [UInt8] = []
        text.reserveCapacity(octets.count * 2)
        for octet in octets {
            text.append(digits[Int(octet >> 4)])
            text.append(digits[Int(octet & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The octets of `text`, or nil unless it is an even number of hex digits and nothing else.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var octets: [UInt8] = []
        octets.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for byte in text.utf8 {
            guard let value = digitValue(byte) else { return nil }
            if let pending = high {
                octets.append(pending << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return high == nil ? octets : nil
    }

    /// The value of one hex digit (ASCII), either case.
    @inline(__always)
    public static func digitValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }
}

/// A zone's SOA serial with RFC 1982 serial number arithmetic (SERIAL_BITS = 32).
public struct ZoneSerial: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// RFC 1982 §3.2: true when `self` is greater than `other`. Serials exactly 2^31 apart are
    /// not comparable (the RFC leaves it undefined); that answers false both ways.
    public func isNewer(than other: ZoneSerial) -> Bool {
        let distance = rawValue &- other.rawValue
        return distance != 0 && distance < 1 << 31
    }

    /// RFC 1982 §3.1 addition: `n` may be at most 2^31 − 1.
    public func adding(_ n: UInt32) -> ZoneSerial {
        precondition(n <= (1 << 31) - 1, "RFC 1982 addition is defined for 0…2^31−1 only")
        return ZoneSerial(rawValue: rawValue &+ n)
    }

    public var description: String { String(rawValue) }
}

/// Class codes seen in zonectl's traffic (RFC 1035 §3.2.4, RFC 2136 §2.4, RFC 8945 §4.2).
public enum DNSClass {
    public static let internet: UInt16 = 1
    public static let chaos: UInt16 = 3
    public static let none: UInt16 = 254
    public static let any: UInt16 = 255
}

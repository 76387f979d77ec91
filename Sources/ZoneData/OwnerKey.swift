import DNSModel

extension DomainName {
    /// The name as bytes whose plain byte order (PostgreSQL's bytea order) is DNSSEC canonical
    /// order (RFC 4034 §6.1): labels from the right, each ended by 0x00 0x00, with a 0x00 inside
    /// a label written 0x00 0x01 so a shorter label still sorts first. Names are stored lower
    /// case, so no case folding is needed here. The descendants of a name are exactly the keys
    /// that start with its key.
    public var ownerKey: [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(wire.count + labelCount * 2)
        for label in labels.reversed() {
            for byte in label {
                key.append(byte)
                if byte == 0 { key.append(1) }
            }
            key.append(0)
            key.append(0)
        }
        return key
    }
}

import DNSModel

/// Renders RRsets as RFC 1035 zone file text, one RRset at a time.
///
/// Stateless between RRsets, so a caller streaming a zone from the database page by page holds
/// only the page: it writes `header()`, then `render(_:)` for each RRset in zone order
/// (`ZoneOrder`), and passes the bytes on. The owner is written on every line rather than left
/// blank for "same as before": a line then means the same thing on its own (to grep, to diff,
/// to a validator), and no state is carried across RRsets or pages.
///
/// Names are written relative to the origin when at or below it (always shorter, and unambiguous
/// because the file sets `$ORIGIN` once and never changes it), the apex as `@`, others absolute.
/// The TTL column is left out when it equals `$TTL`.
public struct ZoneFileRenderer: Sendable {
    public let origin: DomainName
    public let defaultTTL: UInt32

    public init(origin: DomainName, defaultTTL: UInt32) {
        self.origin = origin
        self.defaultTTL = defaultTTL
    }

    /// `$ORIGIN` and `$TTL` lines.
    public func header() -> [UInt8] {
        Array("$ORIGIN \(origin)\n$TTL \(defaultTTL)\n".utf8)
    }

    /// The lines of one RRset.
    public func render(_ rrset: RRset) -> [UInt8] {
        var bytes: [UInt8] = []
        render(rrset, into: &bytes)
        return bytes
    }

    /// Appends the lines of one RRset to `bytes`, for callers that fill a buffer and flush it.
    public func render(_ rrset: RRset, into bytes: inout [UInt8]) {
        var prefix = ownerText(rrset.owner)
        prefix += "\t"
        if rrset.ttl != defaultTTL {
            prefix += String(rrset.ttl)
            prefix += "\t"
        }
        prefix += "IN\t"
        prefix += rrset.type.description
        prefix += "\t"
        for rdata in rrset.rdatas {
            bytes.append(contentsOf: prefix.utf8)
            bytes.append(contentsOf: rdata.presentation(origin: origin).utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
    }

    /// A whole in-memory zone: header, then the RRsets in zone order.
    public func render(zone rrsets: [RRset]) -> [UInt8] {
        var bytes = header()
        for rrset in ZoneOrder.sorted(rrsets, apex: origin) {
            render(rrset, into: &bytes)
        }
        return bytes
    }

    func ownerText(_ owner: DomainName) -> String {
        if owner == origin { return "@" }
        let text: String
        if owner.isAtOrBelow(origin), let relative = owner.relative(to: origin) {
            text = relative
        } else {
            text = owner.description
        }
        // A line starting with '$' would be read as a directive; '\$' is the same label octet.
        // Likewise a bare '@' would mean the origin.
        if text.utf8.first == UInt8(ascii: "$") || text == "@" {
            return "\\" + text
        }
        return text
    }
}

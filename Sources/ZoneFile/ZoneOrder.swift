import DNSModel

/// The order a rendered zone lists its RRsets in: the apex SOA first, the apex NS next, then
/// owners in canonical order (RFC 4034 §6.1, so a name's children follow it) and types by number.
///
/// The renderer itself never sorts (the database hands it RRsets page by page already in this
/// order); this is for zones held in memory, such as a parsed file or a test zone.
public enum ZoneOrder {
    public static func sorted(_ rrsets: [RRset], apex: DomainName) -> [RRset] {
        rrsets.sorted { areInIncreasingOrder($0, $1, apex: apex) }
    }

    public static func areInIncreasingOrder(_ left: RRset, _ right: RRset, apex: DomainName) -> Bool {
        let leftRank = rank(left, apex: apex)
        let rightRank = rank(right, apex: apex)
        if leftRank != rightRank { return leftRank < rightRank }
        if left.owner != right.owner { return left.owner < right.owner }
        return left.type.rawValue < right.type.rawValue
    }

    private static func rank(_ rrset: RRset, apex: DomainName) -> Int {
        guard rrset.owner == apex else { return 2 }
        if rrset.type == .soa { return 0 }
        if rrset.type == .ns { return 1 }
        return 2
    }
}

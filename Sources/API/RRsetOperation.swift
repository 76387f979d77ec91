import DNSModel

/// One requested change to one RRset, already parsed: names are in the zone, RDATA is valid,
/// and no record is listed twice. `pointer` locates it in the request for error messages.
struct RRsetOperation: Sendable {
    enum Action: String, Sendable, CaseIterable {
        /// The RRset becomes exactly these records (none: it is deleted).
        case replace
        /// The RRset is deleted; deleting one that does not exist is not an error.
        case delete
        /// These records join the RRset (created if needed); ones already there stay once.
        case add
        /// These records leave the RRset; ones not there are ignored.
        case remove
    }

    var action: Action
    var owner: DomainName
    var type: RRType
    /// nil keeps the RRset's TTL, or the zone's default TTL for a new RRset.
    var ttl: UInt32?
    var rdatas: [RData]
    var pointer: String
    /// The RRset must not exist yet (`If-None-Match: *` on PUT); 412 otherwise.
    var createOnly = false
}

/// Identifies an RRset within one zone.
struct RRsetName: Hashable, Sendable {
    var owner: DomainName
    var type: RRType
}

import DNSModel
import Store
import ZoneData

/// The RRsets of one zone that a batch of changes has read, with the batch's changes applied on
/// top. Changes are planned and checked against it in memory, one after the other, and the
/// batch's net difference is written once at the end (`ZoneEditor.write`): a batch of N changes
/// costs a few statements, not a few per change.
///
/// Owners are loaded whole (every type at the name), so for a loaded owner the overlay is the
/// truth and the database is not asked again. `stored` keeps what the database holds, for the
/// difference to write.
struct ZoneRecordOverlay {
    let zoneID: Int64
    private var stored: [RRsetName: RRset] = [:]
    private var current: [DomainName: [RRType: RRset]] = [:]
    private var loadedOwners: Set<DomainName> = []
    /// Every record of the zone is loaded (a whole-zone import).
    private var isComplete = false

    init(zoneID: Int64) {
        self.zoneID = zoneID
    }

    /// The owners an earlier batch loaded, with what they held when it committed.
    init(zoneID: Int64, known: KnownOwners) {
        self.zoneID = zoneID
        for rrset in known.rrsets { remember(rrset) }
        loadedOwners = known.owners
    }

    /// Loaded owners and everything they hold, as stored.
    struct KnownOwners {
        var owners: Set<DomainName> = []
        var rrsets: [RRset] = []
    }

    /// What `owners` hold, those of them that are loaded; only right after `takeDifference` (what
    /// is current is then what is stored).
    func known(_ owners: Set<DomainName>) -> KnownOwners {
        var known = KnownOwners()
        for owner in owners where isLoaded(owner) {
            known.owners.insert(owner)
            known.rrsets += current[owner].map { Array($0.values) } ?? []
        }
        return known
    }

    func isLoaded(_ owner: DomainName) -> Bool {
        isComplete || loadedOwners.contains(owner)
    }

    subscript(name: RRsetName) -> RRset? { current[name.owner]?[name.type] }

    /// Every RRset at `owner`, which must be loaded.
    func rrsets(at owner: DomainName) -> [RRset] {
        current[owner].map { Array($0.values) } ?? []
    }

    /// Every RRset of the zone; only after `loadAll`.
    var all: [RRset] {
        precondition(isComplete, "the whole zone was asked for before it was loaded")
        return current.values.flatMap(\.values)
    }

    /// Of `owners`, the ones not loaded yet.
    func missing(_ owners: some Sequence<DomainName>) -> Set<DomainName> {
        Set(owners.filter { !isLoaded($0) })
    }

    /// Takes `rrsets` as everything stored at `owners` (read by the caller, perhaps with other
    /// zones' owners in the same round trip).
    mutating func absorb(_ rrsets: [RRset], loaded owners: Set<DomainName>) {
        let owners = missing(owners)
        for rrset in rrsets where owners.contains(rrset.owner) { remember(rrset) }
        loadedOwners.formUnion(owners)
    }

    /// Reads the owners not loaded yet, in one round trip.
    mutating func load(owners: some Sequence<DomainName>, on db: PostgresConnection) throws {
        let missing = missing(owners)
        guard !missing.isEmpty else { return }
        let rows = try RecordRepository.records(zoneID: zoneID, ownerKeys: missing.map(\.ownerKey), on: db)
        absorb(try StoredData.rrsets(rows), loaded: missing)
    }

    /// Reads the whole zone; owners already loaded keep what this batch made of them.
    mutating func loadAll(on db: PostgresConnection) throws {
        guard !isComplete else { return }
        for rrset in try StoredData.rrsets(RecordRepository.all(zoneID: zoneID, on: db)) where !loadedOwners.contains(rrset.owner) {
            remember(rrset)
        }
        isComplete = true
    }

    private mutating func remember(_ rrset: RRset) {
        stored[RRsetName(owner: rrset.owner, type: rrset.type)] = rrset
        current[rrset.owner, default: [:]][rrset.type] = rrset
    }

    /// Sets the RRset `name` after a change; its owner must be loaded.
    mutating func set(_ name: RRsetName, to rrset: RRset?) {
        precondition(isLoaded(name.owner), "an RRset changed at \(name.owner) before its owner was loaded")
        current[name.owner, default: [:]][name.type] = rrset
        if current[name.owner]?.isEmpty == true { current[name.owner] = nil }
    }

    /// RRsets strictly below `owner` as the batch sees them: at most about `limit` from the
    /// database (a few are enough to show that a delegation would hide something), corrected by
    /// the loaded owners.
    func descendants(of owner: DomainName, limit: Int, on db: PostgresConnection) throws -> [RRset] {
        var found: [RRset] = []
        if !isComplete {
            let rows = try RecordRepository.descendants(zoneID: zoneID, of: owner.ownerKey, limit: limit, on: db)
            found = try StoredData.rrsets(rows).filter { !loadedOwners.contains($0.owner) }
        }
        for (name, rrsets) in current where name != owner && name.isAtOrBelow(owner) {
            found += rrsets.values
        }
        return found
    }

    /// What the batch changed, as the database needs it: the stored RRsets to delete and the rows
    /// of their new content. Afterwards the overlay takes what it holds as stored.
    mutating func takeDifference() -> (deleting: [RRsetKey], inserting: [RecordRow]) {
        var deleting: [RRsetKey] = []
        var inserting: [RecordRow] = []
        var names = Set(stored.keys)
        for (owner, rrsets) in current {
            for type in rrsets.keys { names.insert(RRsetName(owner: owner, type: type)) }
        }
        for name in names {
            let before = stored[name]
            let after = self[name]
            guard !ZoneEditor.same(before, after) else { continue }
            if before != nil { deleting.append(RRsetKey(ownerKey: name.owner.ownerKey, type: Int64(name.type.rawValue))) }
            if let after { inserting += StoredData.rows(after) }
            stored[name] = after
        }
        return (deleting, inserting)
    }
}

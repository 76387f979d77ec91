import DNSModel
import Foundation
import HTTPServer
import Store
import ZoneData

/// Plans and writes changes to a zone: the one place where records, serial and journal are
/// written.
///
/// An editor lives inside one transaction, after the zone's row lock
/// (`ZoneRepository.lockWithAccounts`): the lock orders concurrent changes of one zone, so each
/// change starts from the serial the previous one committed and the zone never has two contents
/// under one serial. Changes are applied in memory, each against the state the one before left
/// (`ZoneRecordOverlay`), each with its own serial and journal entry; `write` (or the batch's
/// writer, with `takeWrite`) then stores all of them in two statements at most. A change that
/// changes nothing writes nothing and keeps the serial (clients re-sending a desired state rely
/// on that). Listeners of `zone_changed` hear of each change when its transaction commits.
struct ZoneEditor {
    /// Where what the editor was not given is read; nil for an editor that plans without a
    /// database (`ZonePlans`), which must be given everything it looks at.
    private let db: PostgresConnection?
    let account: AccountRow
    /// The zone as the changes applied so far leave it.
    private(set) var zone: HostedZone
    private var records: ZoneRecordOverlay
    /// Journal entries of the changes applied and not yet written.
    private var journal: [NewZoneChange] = []
    /// The apex SOA and NS the service owns, as the zone rules see them. Built once: the rules do
    /// not look at the serial, and nothing else of them changes while the editor lives.
    private let serviceRRsets: [RRset]

    /// `known`: owners an earlier batch loaded and what they held (`ZonePlans`), taken as
    /// loaded.
    init(db: PostgresConnection?, zone: HostedZone, account: AccountRow,
         known: ZoneRecordOverlay.KnownOwners = .init()) throws {
        self.db = db
        self.zone = zone
        self.account = account
        records = ZoneRecordOverlay(zoneID: zone.id, known: known)
        serviceRRsets = [try zone.soaRRset(), try zone.apexNSRRset()]
    }

    /// What the owners `touched` and the names up to the apex hold, those loaded; right after
    /// `takeWrite` (see `ZoneRecordOverlay.known`).
    func knownOwners(around touched: some Sequence<DomainName>) -> ZoneRecordOverlay.KnownOwners {
        records.known(Self.neighbourhood(of: touched, apex: zone.name))
    }

    /// What one change did.
    struct Outcome {
        let zone: HostedZone
        let changed: Bool
        let removed: [ResourceRecord]
        let added: [ResourceRecord]
        /// What the change's RRsets hold now, by name; an RRset it deleted is absent.
        let rrsets: [RRsetName: RRset]
    }

    /// The names `apply` will look at for operations on `touched` owners and has not loaded
    /// yet: those owners and the names between them and the apex (where a delegation would hide
    /// them). A batch reads them for all its changes, and all its zones, in one round trip
    /// (`absorb`).
    func unloadedOwners(_ touched: some Sequence<DomainName>) -> Set<DomainName> {
        records.missing(Self.neighbourhood(of: touched, apex: zone.name))
    }

    /// The owners `touched` and the names between them and `apex`: what a change of the zone
    /// at `apex` looks at (a delegation on the way up would hide the touched names).
    static func neighbourhood(of touched: some Sequence<DomainName>, apex: DomainName) -> Set<DomainName> {
        var owners: Set<DomainName> = []
        for owner in touched where owners.insert(owner).inserted {
            var name = owner.parent
            while let current = name, current != apex, current.isAtOrBelow(apex), owners.insert(current).inserted {
                name = current.parent
            }
        }
        return owners
    }

    /// Takes `rrsets` as everything stored at `owners` (from `unloadedOwners`).
    mutating func absorb(_ rrsets: [RRset], loaded owners: Set<DomainName>) {
        records.absorb(rrsets, loaded: owners)
    }

    /// Applies one change in memory: `operations` in order; with `replaceAll`, every RRset they
    /// do not mention is deleted (an import in replace mode). Throws a 4xx problem listing every
    /// rule broken, and then leaves the editor as it was.
    mutating func apply(_ operations: [RRsetOperation], replaceAll: Bool = false, kind: String, tokenID: String?) throws -> Outcome {
        let touchedOwners = Set(operations.map(\.owner))
        var original: [RRsetName: RRset] = [:]
        if replaceAll {
            try records.loadAll(on: database())
            for rrset in records.all { original[RRsetName(owner: rrset.owner, type: rrset.type)] = rrset }
        } else {
            let unloaded = unloadedOwners(touchedOwners)
            if !unloaded.isEmpty { try records.load(owners: unloaded, on: database()) }
            for owner in touchedOwners {
                for rrset in records.rrsets(at: owner) { original[RRsetName(owner: owner, type: rrset.type)] = rrset }
            }
        }

        var working = original
        var pointers: [RRsetName: String] = [:]
        var errors: [HTTPProblem.FieldError] = []
        var mentioned: Set<RRsetName> = []
        for operation in operations {
            let name = RRsetName(owner: operation.owner, type: operation.type)
            mentioned.insert(name)
            pointers[name] = operation.pointer
            if zone.isServiceOwned(owner: operation.owner, type: operation.type) {
                errors.append(.init(pointer: operation.pointer, message: serviceOwnedMessage(operation.type)))
                continue
            }
            if operation.createOnly, working[name] != nil {
                throw Problems.preconditionFailed(
                    "the zone already has \(operation.type) records at \(operation.owner) and If-None-Match: * asked to create only")
            }
            working[name] = Self.apply(operation, to: working[name], defaultTTL: UInt32(zone.row.defaultTTL))
        }
        if replaceAll {
            for name in original.keys where !mentioned.contains(name) {
                working[name] = nil
            }
        }
        let resulting = mentioned.reduce(into: [RRsetName: RRset]()) { $0[$1] = working[$1] }

        let changedNames = Set(original.keys).union(working.keys).filter { !Self.same(original[$0], working[$0]) }
        guard errors.isEmpty else { throw Problems.validation(errors) }
        guard !changedNames.isEmpty else {
            return Outcome(zone: zone, changed: false, removed: [], added: [], rrsets: resulting)
        }

        for name in changedNames {
            guard let rrset = working[name], Int64(rrset.ttl) < account.minTTL else { continue }
            errors.append(.init(
                pointer: (pointers[name] ?? "") + (pointers[name] == nil ? "" : "/ttl"),
                message: "TTL \(rrset.ttl) of \(rrset.owner) \(rrset.type) is below this account's minimum TTL of \(account.minTTL) seconds"))
        }
        errors += try ruleViolations(changed: changedNames, working: working, replaceAll: replaceAll, pointers: pointers)
        guard errors.isEmpty else { throw Problems.validation(errors) }

        var removed: [ResourceRecord] = []
        var added: [ResourceRecord] = []
        for name in changedNames.sorted(by: { ($0.owner, $0.type) < ($1.owner, $1.type) }) {
            let before = original[name]
            let after = working[name]
            let beforeRecords = Set(before?.records ?? [])
            let afterRecords = Set(after?.records ?? [])
            removed += (before?.records ?? []).filter { !afterRecords.contains($0) }
            added += (after?.records ?? []).filter { !beforeRecords.contains($0) }
        }
        let recordCount = zone.row.recordCount - Int64(removed.count) + Int64(added.count)
        if recordCount > account.maxRecordsPerZone && recordCount > zone.row.recordCount {
            throw Problems.quotaExceeded(
                "the zone would hold \(recordCount) records, above this account's limit of \(account.maxRecordsPerZone) records per zone")
        }

        let serial = zone.policy.next(after: zone.serial, now: Date())
        journal.append(NewZoneChange(
            zoneID: zone.id, serialFrom: Int64(zone.serial.rawValue), serialTo: Int64(serial.rawValue), tokenID: tokenID,
            kind: kind, removedJSON: Self.journalJSON(removed), addedJSON: Self.journalJSON(added)))
        for name in changedNames { records.set(name, to: working[name]) }
        zone = zone.changed(to: serial, recordCount: recordCount)
        return Outcome(zone: zone, changed: true, removed: removed, added: added, rrsets: resulting)
    }

    /// Hands over what the changes applied since the last hand-over must write (nil: nothing);
    /// the caller writes it (`ZoneChangeRepository.commit`, perhaps with other zones' writes)
    /// and gives the stored row back to `written`.
    mutating func takeWrite() -> ZoneWrite? {
        guard !journal.isEmpty else { return nil }
        let (deleting, inserting) = records.takeDifference()
        defer { journal = [] }
        return ZoneWrite(zoneID: zone.id, deleting: deleting, inserting: inserting, changes: journal,
                         serial: Int64(zone.serial.rawValue), recordCount: zone.row.recordCount)
    }

    /// Stores every change applied since the last write, on its own. The zone as stored.
    mutating func write() throws -> HostedZone {
        guard let write = takeWrite() else { return zone }
        guard let row = try ZoneChangeRepository.commit([write], on: database())[zone.id] else {
            throw StoredData.Corrupt("zone \(zone.id) vanished inside its own transaction")
        }
        zone = try HostedZone(row)
        return zone
    }

    /// The connection to read from; an editor without one cannot read.
    private func database() throws -> PostgresConnection {
        guard let db else { throw NoDatabase() }
        return db
    }

    /// An editor planning without a database needed to read.
    struct NoDatabase: Error {}

    static func apply(_ operation: RRsetOperation, to current: RRset?, defaultTTL: UInt32) -> RRset? {
        let ttl = operation.ttl ?? current?.ttl ?? defaultTTL
        switch operation.action {
        case .delete:
            return nil
        case .replace:
            guard !operation.rdatas.isEmpty else { return nil }
            return RRset(owner: operation.owner, type: operation.type, ttl: ttl, rdatas: operation.rdatas)
        case .add:
            var rdatas = current?.rdatas ?? []
            let present = Set(rdatas)
            rdatas += operation.rdatas.filter { !present.contains($0) }
            guard !rdatas.isEmpty else { return current }
            return RRset(owner: operation.owner, type: operation.type, ttl: ttl, rdatas: rdatas)
        case .remove:
            guard let current else { return nil }
            let gone = Set(operation.rdatas)
            let rdatas = current.rdatas.filter { !gone.contains($0) }
            guard !rdatas.isEmpty else { return nil }
            return RRset(owner: current.owner, type: current.type, ttl: operation.ttl ?? current.ttl, rdatas: rdatas)
        }
    }

    /// Two RRsets are the same when TTL and the set of records match; record order is not data.
    static func same(_ left: RRset?, _ right: RRset?) -> Bool {
        switch (left, right) {
        case (nil, nil): return true
        case let (left?, right?): return left.ttl == right.ttl && Set(left.rdatas) == Set(right.rdatas)
        default: return false
        }
    }

    private func serviceOwnedMessage(_ type: RRType) -> String {
        type == .soa
            ? "the SOA record is managed by the service (its serial changes with every change); change SOA timers with PATCH on the zone"
            : "the NS records at the zone apex are managed by the service (they name the pool's servers)"
    }

    /// The zone rules on the changed RRsets and what surrounds them: everything at their owners,
    /// delegations above them, and what a new delegation would hide below it.
    private func ruleViolations(changed: Set<RRsetName>, working: [RRsetName: RRset], replaceAll: Bool,
                                pointers: [RRsetName: String]) throws -> [HTTPProblem.FieldError] {
        let changedOwners = Set(changed.map(\.owner))
        var context = working
        if !replaceAll {
            // NS sets on the way up to the apex (loaded with the owners): a changed name below a
            // delegation is occluded.
            for owner in changedOwners {
                var name = owner.parent
                while let current = name, current != zone.name, current.isAtOrBelow(zone.name) {
                    let ns = RRsetName(owner: current, type: .ns)
                    if context[ns] == nil, !changedOwners.contains(current), let rrset = records[ns] { context[ns] = rrset }
                    name = current.parent
                }
            }
            // A new delegation hides what is below it; a few of those records are enough to say so.
            for name in changed where name.type == .ns && name.owner != zone.name && working[name] != nil {
                for rrset in try records.descendants(of: name.owner, limit: 100, on: database()) {
                    let key = RRsetName(owner: rrset.owner, type: rrset.type)
                    if !changed.contains(key) { context[key] = rrset }
                }
            }
        }
        for rrset in serviceRRsets { context[RRsetName(owner: rrset.owner, type: rrset.type)] = rrset }

        let violations = ZoneRules.check(apex: zone.name, rrsets: Array(context.values))
        var errors: [HTTPProblem.FieldError] = []
        var seen: Set<String> = []
        for violation in violations {
            let relevant = changedOwners.contains(violation.owner)
                || changedOwners.contains { violation.owner.isAtOrBelow($0) && $0 != violation.owner }
            guard relevant else { continue }
            let pointer = pointerFor(violation, changed: changed, pointers: pointers)
            let message = "\(violation.message) [\(violation.rule)]"
            if seen.insert(pointer + message).inserted {
                errors.append(.init(pointer: pointer, message: message))
            }
        }
        return errors
    }

    private func pointerFor(_ violation: ZoneRuleViolation, changed: Set<RRsetName>, pointers: [RRsetName: String]) -> String {
        if let type = violation.type, let pointer = pointers[RRsetName(owner: violation.owner, type: type)] {
            return pointer
        }
        if let name = changed.first(where: { $0.owner == violation.owner }), let pointer = pointers[name] {
            return pointer
        }
        // Hidden below a new delegation: blame the delegation.
        if let name = changed.first(where: { $0.type == .ns && violation.owner.isAtOrBelow($0.owner) }), let pointer = pointers[name] {
            return pointer
        }
        return ""
    }

    /// Journal records as `[{"name", "type", "ttl", "data"}]`.
    static func journalJSON(_ records: [ResourceRecord]) -> String {
        String(decoding: JSONValue.array(records.map(recordJSON)).serialized(), as: UTF8.self)
    }

    static func recordJSON(_ record: ResourceRecord) -> JSONValue {
        .object([
            ("name", .string(record.owner.description)), ("type", .string(record.type.description)),
            ("ttl", .int(Int64(record.ttl))), ("data", .string(record.rdata.presentation())),
        ])
    }
}

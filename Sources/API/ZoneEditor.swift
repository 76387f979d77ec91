import DNSModel
import Foundation
import HTTPServer
import Store
import ZoneData

/// Commits changes to a zone: the one place where records, serial and journal are written.
///
/// Every change runs inside the caller's transaction, after `ZoneRepository.lock`: the row lock
/// orders concurrent changes of one zone, so each reads the serial the previous one committed
/// and the zone never has two contents under one serial. A change that changes nothing writes
/// nothing and keeps the serial (clients re-sending a desired state rely on that). It does not
/// wake `zone_changed` listeners: its callers do, with the COMMIT
/// (`PostgresConnection.notifyAfterCommit`), once they know which changes stayed.
struct ZoneEditor {
    let db: PostgresConnection
    let zone: HostedZone
    let account: AccountRow
    let tokenID: String?

    /// What a commit did.
    struct Outcome {
        let zone: HostedZone
        let changed: Bool
        let removed: [ResourceRecord]
        let added: [ResourceRecord]
    }

    /// Applies `operations` in order; with `replaceAll`, every RRset they do not mention is
    /// deleted (an import in replace mode). Throws a 422 problem listing every rule broken.
    func commit(_ operations: [RRsetOperation], replaceAll: Bool = false, kind: String) throws -> Outcome {
        let touchedOwners = Set(operations.map(\.owner))
        let currentRows = replaceAll
            ? try RecordRepository.all(zoneID: zone.id, on: db)
            : try RecordRepository.records(zoneID: zone.id, ownerKeys: touchedOwners.map(\.ownerKey), on: db)
        var original: [RRsetName: RRset] = [:]
        for rrset in try StoredData.rrsets(currentRows) {
            original[RRsetName(owner: rrset.owner, type: rrset.type)] = rrset
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
            working[name] = Self.apply(operation, to: working[name], defaultTTL: UInt32(zone.row.defaultTTL))
        }
        if replaceAll {
            for name in original.keys where !mentioned.contains(name) {
                working[name] = nil
            }
        }

        let changedNames = Set(original.keys).union(working.keys).filter { !Self.same(original[$0], working[$0]) }
        guard errors.isEmpty else { throw Problems.validation(errors) }
        guard !changedNames.isEmpty else {
            return Outcome(zone: zone, changed: false, removed: [], added: [])
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
        var deleteKeys: [RRsetKey] = []
        var insertRows: [RecordRow] = []
        for name in changedNames.sorted(by: { ($0.owner, $0.type) < ($1.owner, $1.type) }) {
            let before = original[name]
            let after = working[name]
            let beforeRecords = Set(before?.records ?? [])
            let afterRecords = Set(after?.records ?? [])
            removed += (before?.records ?? []).filter { !afterRecords.contains($0) }
            added += (after?.records ?? []).filter { !beforeRecords.contains($0) }
            if before != nil { deleteKeys.append(RRsetKey(ownerKey: name.owner.ownerKey, type: Int64(name.type.rawValue))) }
            if let after { insertRows += StoredData.rows(after) }
        }
        let recordCount = zone.row.recordCount - Int64(removed.count) + Int64(added.count)
        if recordCount > account.maxRecordsPerZone && recordCount > zone.row.recordCount {
            throw Problems.quotaExceeded(
                "the zone would hold \(recordCount) records, above this account's limit of \(account.maxRecordsPerZone) records per zone")
        }

        try RecordRepository.replace(zoneID: zone.id, deleting: deleteKeys, inserting: [], on: db)
        let serial = zone.policy.next(after: zone.serial, now: Date())
        // New records, serial, record count and journal entry in one round trip.
        let change = NewZoneChange(
            zoneID: zone.id, serialFrom: Int64(zone.serial.rawValue), serialTo: Int64(serial.rawValue), tokenID: tokenID,
            kind: kind, removedJSON: Self.journalJSON(removed), addedJSON: Self.journalJSON(added))
        guard let row = try ZoneChangeRepository.commit(change, inserting: insertRows, recordCount: recordCount, on: db) else {
            throw StoredData.Corrupt("zone \(zone.id) vanished inside its own transaction")
        }
        return Outcome(zone: try HostedZone(row), changed: true, removed: removed, added: added)
    }

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
            // NS sets on the way up to the apex: a changed name below a delegation is occluded.
            var ancestors: Set<DomainName> = []
            for owner in changedOwners {
                var name = owner.parent
                while let current = name, current != zone.name, current.isAtOrBelow(zone.name) {
                    ancestors.insert(current)
                    name = current.parent
                }
            }
            let missing = ancestors.filter { context[RRsetName(owner: $0, type: .ns)] == nil && !changedOwners.contains($0) }
            for rrset in try StoredData.rrsets(RecordRepository.records(
                zoneID: zone.id, ownerKeys: missing.map(\.ownerKey), type: Int64(RRType.ns.rawValue), on: db)) {
                context[RRsetName(owner: rrset.owner, type: rrset.type)] = rrset
            }
            // A new delegation hides what is below it; a few of those records are enough to say so.
            for name in changed where name.type == .ns && name.owner != zone.name && working[name] != nil {
                for rrset in try StoredData.rrsets(RecordRepository.descendants(
                    zoneID: zone.id, of: name.owner.ownerKey, limit: 100, on: db)) {
                    let key = RRsetName(owner: rrset.owner, type: rrset.type)
                    if !changed.contains(key) { context[key] = rrset }
                }
            }
        }
        context[RRsetName(owner: zone.name, type: .soa)] = try zone.soaRRset()
        context[RRsetName(owner: zone.name, type: .ns)] = try zone.apexNSRRset()

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

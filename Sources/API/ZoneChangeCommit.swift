import DNSModel
import HTTPServer
import Store
import ZoneData

/// One change of a zone as a route asks for it, before the zone is locked.
struct ZoneChange {
    let call: APIService.Call
    /// The path's `{zone}`, parsed once.
    let reference: APIService.ZoneReference
    /// The journal's name for it ("rrsets", "import").
    let kind: String
    /// Every RRset the operations do not mention goes (an import in replace mode).
    let replaceAll: Bool
    /// The change's operations, read from the request against the zone it names. Runs with the
    /// zone locked but must not read the database: the batch's earlier changes are not written
    /// yet when it runs.
    let operations: (HostedZone) throws -> [RRsetOperation]
    /// The operations already read, in the caller's thread, for a change whose operations depend
    /// only on the zone's name and that names its zone by name. The batch then knows what each
    /// such change will look at before it locks, reads it in the lock's round trip, and its
    /// leader (whose time every change of the batch waits for) does not parse the request.
    let early: (zone: DomainName, operations: Result<[RRsetOperation], any Error>)?
    /// The answer, once the change is committed. Built in the caller's thread, not by the
    /// batch's leader, whom the next batch waits for.
    let respond: (ZoneEditor.Outcome) -> HTTPResponse
}

extension APIService {
    /// Runs one change of a zone and answers it once committed. It shares its transaction with
    /// the other changes queued at the same time in its lane (`ZoneCommitQueue`); a whole-zone
    /// import keeps a transaction of its own rather than hold up the changes queued behind it.
    func commitChange(_ call: Call, kind: String = "rrsets", replaceAll: Bool = false,
                      operations: @escaping (HostedZone) throws -> [RRsetOperation],
                      respond: @escaping (ZoneEditor.Outcome) -> HTTPResponse) throws -> HTTPResponse {
        try commit(ZoneChange(call: call, reference: ZoneReference(call.parameter("zone")), kind: kind, replaceAll: replaceAll,
                              operations: operations, early: nil, respond: respond))
    }

    /// `commitChange` for operations that depend only on the zone's name (RRset routes): when
    /// the path names the zone by name, they are read here, before the change queues.
    func commitChange(_ call: Call, operationsIn: @escaping (DomainName) throws -> [RRsetOperation],
                      respond: @escaping (ZoneEditor.Outcome) -> HTTPResponse) throws -> HTTPResponse {
        let reference = ZoneReference(call.parameter("zone"))
        var early: (zone: DomainName, operations: Result<[RRsetOperation], any Error>)?
        if case .name(let name) = reference {
            early = (name, Result { try operationsIn(name) })
        }
        return try commit(ZoneChange(call: call, reference: reference, kind: "rrsets", replaceAll: false,
                                     operations: { try operationsIn($0.name) }, early: early, respond: respond))
    }

    private func commit(_ change: ZoneChange) throws -> HTTPResponse {
        let outcome = try committed(change)
        var response = change.respond(outcome)
        response.headers.set("ETag", outcome.zone.etag)
        return response
    }

    private func committed(_ change: ZoneChange) throws -> ZoneEditor.Outcome {
        if change.replaceAll || change.kind == "import" {
            return try Self.commitZoneChanges([change], pool: pool, plans: zonePlans)[0].get()
        }
        do {
            return try zoneCommits.submit(lane: commitLane(change.reference), change)
        } catch is ZoneLockedElsewhere {
            // Another transaction holds the zone (an import, a pool update, another process):
            // wait for it here, alone, rather than hold up the lane.
            return try Self.commitZoneChanges([change], pool: pool, plans: zonePlans, waitForLocks: true)[0].get()
        }
    }

    /// A batch found the change's zone locked by another transaction and left the change out.
    struct ZoneLockedElsewhere: Error {}

    /// The lane a change of the zone `reference` names waits in: the same for every spelling of
    /// one name (case, trailing dot, U-label or A-label), as the reference is the parsed name. A
    /// zone named once by name and once by id may get two; its row lock still orders their
    /// changes.
    func commitLane(_ reference: ZoneReference) -> Int {
        let hash: Int
        switch reference {
        case .id(let id): hash = id.hashValue
        case .name(let name): hash = name.hashValue
        case .none: hash = 0
        }
        return Int(UInt(bitPattern: hash) % UInt(commitLanes))
    }

    /// Commits changes in one transaction; one result per change, in order. They may be of
    /// several zones.
    ///
    /// Each change is checked and planned on its own, against its zone as the changes before it
    /// left it, with its own serial, journal entry and If-Match check; a change refused with a
    /// 4xx leaves no trace and only its caller sees the error. The database sees one statement
    /// locking every zone of the batch, one read of the touched names and one write (two when
    /// RRsets are replaced) for the whole batch. Should the transaction fail, each change is
    /// tried again in a transaction of its own, so the error reaches only the caller whose
    /// change caused it.
    ///
    /// Without `waitForLocks`, a zone another transaction holds is not waited for: its changes
    /// fail with `ZoneLockedElsewhere`, for their callers to commit alone.
    ///
    /// When an earlier batch left a plan of every zone (`ZonePlans`), the batch is first planned
    /// from those, without reading, and locked, written and committed in one round trip
    /// (`prepareFromPlans`); the usual way is taken when that cannot be done or the plans were
    /// stale.
    static func commitZoneChanges(_ changes: [ZoneChange], pool: ConnectionPool, plans: ZonePlans,
                                  waitForLocks: Bool = false, fromPlans: Bool = true) -> [Result<ZoneEditor.Outcome, any Error>] {
        if fromPlans, !waitForLocks, let send = prepareFromPlans(changes, pool: pool, plans: plans) { return send(nil)!({ _ in }) }
        do {
            return try pool.transaction { db in try applyAndWrite(changes, waitForLocks: waitForLocks, plans: plans, on: db) }
        } catch let error as DatabaseError where error.isTransient || error.kind == .unavailable {
            // Retried already, or the database is gone: nothing one change did.
            return changes.map { _ in .failure(error) }
        } catch {
            guard changes.count > 1 else { return [.failure(error)] }
            return changes.flatMap { commitZoneChanges([$0], pool: pool, plans: plans, waitForLocks: true) }
        }
    }

    /// The batch planned from `plans`, to be sent as one round trip: [BEGIN, lock (without
    /// waiting), write, COMMIT], the write checking that every zone and account row is still the
    /// version planned from and that the owners taken to be empty are (`ZoneWrite`). Planning
    /// needs no database, so a leader may plan the next batch while its own COMMIT runs (see
    /// `ZoneCommitQueue`). Returns what sends the batch (behind a COMMIT in flight, or on a
    /// connection of its own), which returns what waits for its round trip and answers the
    /// changes (on any thread); nil, with nothing sent, when a zone has no plan, when a change
    /// needs the database to be planned (a zone named by id, a new delegation below the apex,
    /// whose check reads what it would hide), or when a change would be refused or change
    /// nothing (such an answer would rest on a plan nobody checked). When the round trip fails
    /// (a plan was stale, a zone locked elsewhere, the COMMIT it was sent behind failed,
    /// anything else), nothing committed and the batch is committed the usual way.
    static func prepareFromPlans(_ changes: [ZoneChange], pool: ConnectionPool, plans: ZonePlans)
        -> ZoneCommitQueue<ZoneChange, ZoneEditor.Outcome, PostgresConnection.BehindCommit>.Send? {
        var names: [String] = []
        var operationsOf: [[RRsetOperation]] = []
        for change in changes {
            guard !change.replaceAll, case .name(let name) = change.reference, let early = change.early, early.zone == name,
                  case .success(let operations) = early.operations,
                  !operations.contains(where: { $0.type == .ns && $0.owner != name }) else { return nil }
            names.append(name.description)
            operationsOf.append(operations)
        }
        guard let found = plans.plans(for: Set(names)) else { return nil }
        var editors: [String: ZoneEditor] = [:]
        var touched: [String: [DomainName]] = [:]
        var outcomes: [ZoneEditor.Outcome] = []
        var writes: [ZoneWrite] = []
        do {
            for (index, change) in changes.enumerated() {
                let plan = found[names[index]]!
                let zone = try visibleZone(change.call, zone: plan.zone)
                try checkIfMatch(change.call, zone: zone)
                if editors[names[index]] == nil {
                    editors[names[index]] = try ZoneEditor(db: nil, zone: zone, account: plan.account, known: plan.known)
                }
                touched[names[index], default: []] += operationsOf[index].map(\.owner)
            }
            // What the plans do not know is taken to be empty, and the write checks it is.
            var assumed: [String: Set<DomainName>] = [:]
            for (name, owners) in touched {
                assumed[name] = editors[name]!.unloadedOwners(owners)
                editors[name]!.absorb([], loaded: assumed[name]!)
            }
            for (index, change) in changes.enumerated() {
                try checkIfMatch(change.call, zone: editors[names[index]]!.zone)
                let outcome = try editors[names[index]]!.apply(operationsOf[index], kind: change.kind,
                                                                tokenID: change.call.principal.tokenID)
                guard outcome.changed else { throw Unplannable() }
                outcomes.append(outcome)
            }
            for (name, plan) in found.sorted(by: { $0.value.zone.id < $1.value.zone.id }) {
                guard var write = editors[name]!.takeWrite() else { throw Unplannable() }
                write.expected = plan.versions
                write.assumedEmpty = assumed[name, default: []].map(\.ownerKey)
                writes.append(write)
            }
        } catch {
            // Refused, or nothing to write: the usual way answers, from what it reads.
            return nil
        }
        let statements = ZoneChangeRepository.commitStatements(writes, after: [ZoneRepository.lockStatement(ids: writes.map(\.zoneID))])
        // The plans this batch leaves: kept as soon as the write's results are in, while its
        // COMMIT still runs, so the next batch can be planned meanwhile. Should the COMMIT fail,
        // they name row versions that never were, and the next batch's check fails.
        let keep = { (results: [PostgresResult]) in
            let versions = (try? ZoneChangeRepository.versions(written: results.last?.rows ?? [])) ?? [:]
            for (name, plan) in found {
                guard let version = versions[plan.zone.id] else { continue }
                plans.keep(editors[name]!, versions: RowVersions(zone: version, account: plan.versions.account),
                           touched: touched[name] ?? [])
            }
        }
        let usualWay = { commitZoneChanges(changes, pool: pool, plans: plans, fromPlans: false) }
        return { behind in
            let db: PostgresConnection
            do {
                if let behind {
                    // Not there (a statement not prepared on that connection yet): sent after.
                    guard try behind.startCommit(statements) else { return nil }
                    db = behind.connection
                } else {
                    db = try pool.checkOut()
                    do { try db.startCommit(statements) } catch {
                        pool.checkIn(db)
                        throw error
                    }
                }
            } catch {
                plans.miss(Set(names))
                return { _ in usualWay() }
            }
            return { meanwhile in
                // A batch sent behind this one's COMMIT owns the connection from then on.
                var passedOn = false
                do {
                    _ = try db.finishCommit { results, next in
                        keep(results)
                        meanwhile(next)
                        passedOn = next.sentStatements != nil
                    }
                } catch {
                    if !passedOn { pool.checkIn(db) }
                    plans.miss(Set(names))
                    return usualWay()
                }
                if !passedOn { pool.checkIn(db) }
                plans.hit()
                return outcomes.map { .success($0) }
            }
        }
    }

    /// A batch that cannot be planned from plans after all.
    private struct Unplannable: Error {}

    /// The body of `commitZoneChanges`, inside its transaction.
    private static func applyAndWrite(_ changes: [ZoneChange], waitForLocks: Bool, plans: ZonePlans,
                                      on db: PostgresConnection) throws -> [Result<ZoneEditor.Outcome, any Error>] {
        let references = changes.map(\.reference)
        var ids: Set<Int64> = []
        var names: Set<String> = []
        for reference in references {
            switch reference {
            case .id(let id): ids.insert(id)
            case .name(let name): names.insert(name.description)
            case .none: break
            }
        }
        // What the changes read before the lock will look at, read right after the lock in the
        // same round trip.
        var earlyOwners: [DomainName: Set<DomainName>] = [:]
        for change in changes where !change.replaceAll {
            guard let early = change.early, case .success(let operations) = early.operations else { continue }
            earlyOwners[early.zone, default: []].formUnion(ZoneEditor.neighbourhood(of: operations.map(\.owner), apex: early.zone))
        }
        let earlyRead = earlyOwners.isEmpty ? nil : RecordRepository.recordsStatement(
            atOwnersOf: earlyOwners.flatMap { zone, owners in owners.map { (zone.description, $0.ownerKey) } })
        var byID: [Int64: (zone: ZoneRow, account: AccountRow?, versions: RowVersions)] = [:]
        var idByName: [String: Int64] = [:]
        var busyIDs: Set<Int64> = []
        var earlyRecords: [Int64: [RecordRow]] = [:]
        if !ids.isEmpty || !names.isEmpty {
            let found = try ZoneRepository.lockWithAccounts(ids: ids.sorted(), names: names.sorted(), skipLocked: !waitForLocks,
                                                            then: earlyRead, on: db)
            if let read = found.then {
                for (zoneID, row) in try RecordRepository.zoneRecords(read) { earlyRecords[zoneID, default: []].append(row) }
            }
            for locked in found.locked {
                byID[locked.zone.id] = locked
                idByName[locked.zone.name] = locked.zone.id
            }
            for row in found.busy {
                busyIDs.insert(row.id)
                idByName[row.name] = row.id
            }
        }

        var results = [Result<ZoneEditor.Outcome, any Error>?](repeating: nil, count: changes.count)
        var planned: [(index: Int, zoneID: Int64, operations: [RRsetOperation])] = []
        var editors: [Int64: ZoneEditor] = [:]
        for (index, change) in changes.enumerated() {
            do {
                var id: Int64?
                switch references[index] {
                case .id(let given): id = given
                case .name(let name): id = idByName[name.description]
                case .none: id = nil
                }
                if let id, busyIDs.contains(id) {
                    results[index] = .failure(ZoneLockedElsewhere())
                    continue
                }
                let row = id.flatMap { byID[$0]?.zone }
                let zone = try visibleZone(change.call, row: row)
                try checkIfMatch(change.call, zone: zone)
                let operations: [RRsetOperation]
                if let early = change.early, early.zone == zone.name {
                    operations = try early.operations.get()
                } else {
                    operations = try change.operations(zone)
                }
                if editors[zone.id] == nil {
                    var account = byID[zone.id]?.account
                    if account == nil { account = try AccountRepository.find(id: zone.row.accountID, on: db) }
                    guard let account else {
                        throw StoredData.Corrupt("zone \(zone.row.name) belongs to missing account \(zone.row.accountID)")
                    }
                    editors[zone.id] = try ZoneEditor(db: db, zone: zone, account: account)
                    if let owners = earlyOwners[zone.name] {
                        editors[zone.id]!.absorb(try StoredData.rrsets(earlyRecords[zone.id] ?? []), loaded: owners)
                    }
                }
                planned.append((index, zone.id, operations))
            } catch let problem as HTTPProblem {
                // Refused: this change alone. Anything else fails the transaction.
                results[index] = .failure(problem)
            }
        }
        guard !planned.isEmpty else { return results.map { $0! } }

        // What every change will look at, for every zone, in one round trip.
        var wanted: [Int64: Set<DomainName>] = [:]
        for (index, zoneID, operations) in planned where !changes[index].replaceAll {
            wanted[zoneID, default: []].formUnion(operations.map(\.owner))
        }
        var owners: [Int64: Set<DomainName>] = [:]
        for (zoneID, touched) in wanted {
            owners[zoneID] = editors[zoneID]!.unloadedOwners(touched)
        }
        let keys = owners.flatMap { zoneID, names in names.map { ZoneOwnerKey(zoneID: zoneID, ownerKey: $0.ownerKey) } }
        var stored: [Int64: [RecordRow]] = [:]
        for (zoneID, row) in try RecordRepository.records(at: keys, on: db) { stored[zoneID, default: []].append(row) }
        for (zoneID, names) in owners {
            editors[zoneID]!.absorb(try StoredData.rrsets(stored[zoneID] ?? []), loaded: names)
        }

        var outcomes: [(index: Int, outcome: ZoneEditor.Outcome)] = []
        var touchedOwners: [Int64: [DomainName]] = [:]
        for (index, zoneID, operations) in planned {
            if !changes[index].replaceAll { touchedOwners[zoneID, default: []] += operations.map(\.owner) }
            let change = changes[index]
            do {
                // Again: a change earlier in this batch may have moved the zone on.
                try checkIfMatch(change.call, zone: editors[zoneID]!.zone)
                let outcome = try editors[zoneID]!.apply(operations, replaceAll: change.replaceAll, kind: change.kind,
                                                         tokenID: change.call.principal.tokenID)
                outcomes.append((index, outcome))
            } catch let problem as HTTPProblem {
                results[index] = .failure(problem)
            }
        }

        var writes: [ZoneWrite] = []
        for zoneID in editors.keys.sorted() {
            if let write = editors[zoneID]!.takeWrite() { writes.append(write) }
        }
        // The write and the COMMIT in one round trip. From here on nothing may throw: the
        // changes are committed, and an error would send them round again one by one.
        let versions = writes.isEmpty ? [:] : try ZoneChangeRepository.commitAndEnd(writes, on: db)
        for (index, outcome) in outcomes { results[index] = .success(outcome) }
        // What this batch knew of its zones, for the next one to plan from.
        for (zoneID, editor) in editors {
            guard let read = byID[zoneID], read.versions.account != "-", read.account != nil else { continue }
            plans.keep(editor, versions: RowVersions(zone: versions[zoneID] ?? read.versions.zone, account: read.versions.account),
                       touched: touchedOwners[zoneID] ?? [])
        }
        return results.map { $0! }
    }
}

import DNSModel
import HTTPServer
import Store
import ZoneData

/// One change of a zone as a route asks for it, before the zone is locked.
struct ZoneChange {
    let call: APIService.Call
    /// The journal's name for it ("rrsets", "import").
    let kind: String
    /// Every RRset the operations do not mention goes (an import in replace mode).
    let replaceAll: Bool
    /// The change's operations, read from the request against the zone it names. Runs with the
    /// zone locked but must not read the database: the batch's earlier changes are not written
    /// yet when it runs.
    let operations: (HostedZone) throws -> [RRsetOperation]
    /// The answer, once the change is applied; sent only after the COMMIT.
    let respond: (ZoneEditor.Outcome) -> HTTPResponse
}

extension APIService {
    /// Runs one change of a zone and answers it once committed. It shares its transaction with
    /// the other changes of the zone queued at the same time (`ZoneCommitQueue`); a whole-zone
    /// import keeps a transaction of its own rather than hold up the changes queued behind it.
    func commitChange(_ call: Call, kind: String = "rrsets", replaceAll: Bool = false,
                      operations: @escaping (HostedZone) throws -> [RRsetOperation],
                      respond: @escaping (ZoneEditor.Outcome) -> HTTPResponse) throws -> HTTPResponse {
        let change = ZoneChange(call: call, kind: kind, replaceAll: replaceAll, operations: operations, respond: respond)
        if replaceAll || kind == "import" {
            return try Self.commitZoneChanges([change], pool: pool)[0].get()
        }
        return try zoneCommits.submit(zone: Self.commitLane(call), change)
    }

    /// Commits changes of one zone in one transaction; one result per change, in order.
    ///
    /// Each change is checked and planned on its own, against the zone as the changes before it
    /// left it, with its own serial, journal entry and If-Match check; a change refused with a
    /// 4xx leaves no trace and only its caller sees the error. The database sees one lock, one
    /// read of the touched names and one write for the whole batch. Should that write fail, each
    /// change is tried again in a transaction of its own, so the error reaches only the caller
    /// whose change caused it.
    static func commitZoneChanges(_ changes: [ZoneChange], pool: ConnectionPool) -> [Result<HTTPResponse, any Error>] {
        do {
            return try pool.transaction { db in try applyAndWrite(changes, on: db) }
        } catch let error as DatabaseError where error.isTransient || error.kind == .unavailable {
            // Retried already, or the database is gone: nothing one change did.
            return changes.map { _ in .failure(error) }
        } catch {
            guard changes.count > 1 else { return [.failure(error)] }
            return changes.flatMap { commitZoneChanges([$0], pool: pool) }
        }
    }

    /// The body of `commitZoneChanges`, inside its transaction. Queues one notification per
    /// committed change, to go out with the COMMIT.
    private static func applyAndWrite(_ changes: [ZoneChange], on db: PostgresConnection) throws -> [Result<HTTPResponse, any Error>] {
        // Every change of a batch names the zone the same way (`commitLane`): one lock serves all.
        let locked = try lockedZoneWithAccount(changes[0].call, on: db)
        var results = [Result<HTTPResponse, any Error>?](repeating: nil, count: changes.count)
        var planned: [(index: Int, operations: [RRsetOperation])] = []
        for (index, change) in changes.enumerated() {
            do {
                let zone = try visibleZone(change.call, row: locked?.zone)
                try checkIfMatch(change.call, zone: zone)
                planned.append((index, try change.operations(zone)))
            } catch {
                results[index] = .failure(error)
            }
        }
        guard let locked, !planned.isEmpty else { return results.map { $0! } }

        var account = locked.account
        if account == nil { account = try AccountRepository.find(id: locked.zone.accountID, on: db) }
        guard let account else {
            throw StoredData.Corrupt("zone \(locked.zone.name) belongs to missing account \(locked.zone.accountID)")
        }
        var editor = ZoneEditor(db: db, zone: try HostedZone(locked.zone), account: account)
        try editor.prefetch(planned.filter { !changes[$0.index].replaceAll }.flatMap(\.operations))
        var outcomes: [(index: Int, outcome: ZoneEditor.Outcome)] = []
        for (index, operations) in planned {
            let change = changes[index]
            do {
                // Again: a change earlier in this batch may have moved the zone on.
                try checkIfMatch(change.call, zone: editor.zone)
                let outcome = try editor.apply(operations, replaceAll: change.replaceAll, kind: change.kind,
                                               tokenID: change.call.principal.tokenID)
                outcomes.append((index, outcome))
            } catch {
                results[index] = .failure(error)
            }
        }
        if editor.hasUnwrittenChanges {
            _ = try editor.write()
            for (_, outcome) in outcomes where outcome.changed {
                let (channel, payload) = ZoneChangeRepository.notification(
                    zoneID: outcome.zone.id, serial: Int64(outcome.zone.serial.rawValue))
                try db.notifyAfterCommit(channel: channel, payload: payload)
            }
        }
        for (index, outcome) in outcomes {
            var response = changes[index].respond(outcome)
            response.headers.set("ETag", outcome.zone.etag)
            results[index] = .success(response)
        }
        return results.map { $0! }
    }
}

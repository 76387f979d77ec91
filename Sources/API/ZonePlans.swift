import DNSModel
import Foundation
import Store
import ZoneData

/// What the last batch that committed changes of a zone knew of it: the zone's row as it left
/// it, its account's row, the versions of both, and what the owners its changes touched hold
/// (only those: a change often touches a name again, and a plan that carried every owner it
/// ever saw would cost every batch the time to copy them).
///
/// The next batch of changes of such zones plans from this instead of reading: it locks them,
/// writes and commits in ONE round trip, and the write checks the plan was still true (both
/// rows at these versions, and nothing stored at the owners it took to be empty; see
/// `ZoneWrite`). While the zone's row is the version this batch wrote, nothing else has changed
/// the zone (every change of a zone updates its row), so what this batch knew is still the zone.
/// When the check fails (another process or route changed the zone, an owner was not empty),
/// the batch is committed again the usual way, and its zones are planned the usual way for the
/// next few batches (`benchedBatches`), so a workload that keeps missing pays for it rarely.
final class ZonePlans: @unchecked Sendable {
    struct Plan {
        /// Parsed already: planning from it costs no parsing of the row.
        let zone: HostedZone
        let account: AccountRow
        let versions: RowVersions
        let known: ZoneRecordOverlay.KnownOwners
    }

    /// Zones kept; when full, all are forgotten (they come back with their next batch).
    static let maxZones = 4_096
    static let benchedBatches = 16

    private let lock = NSLock()
    private var plans: [String: Plan] = [:]
    private var benched: [String: Int] = [:]
    private var hitCount = 0
    private var missCount = 0

    /// Batches committed from plans, and plans found stale, since the process started.
    var counts: (hits: Int, misses: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (hitCount, missCount)
    }

    /// A batch was committed from plans.
    func hit() {
        lock.lock()
        hitCount += 1
        lock.unlock()
    }

    /// The plans of all these zones (by name), or nil unless every one has one.
    func plans(for names: Set<String>) -> [String: Plan]? {
        lock.lock()
        defer { lock.unlock() }
        var found: [String: Plan] = [:]
        for name in names {
            guard let plan = plans[name] else { return nil }
            found[name] = plan
        }
        return found
    }

    /// Keeps what a committed batch knew of a zone, unless the zone sits out after a miss.
    func keep(_ plan: Plan) {
        lock.lock()
        defer { lock.unlock() }
        let name = plan.zone.row.name
        if let left = benched[name] {
            benched[name] = left > 1 ? left - 1 : nil
            plans[name] = nil
            return
        }
        if plans.count >= Self.maxZones, plans[name] == nil { plans.removeAll() }
        plans[name] = plan
    }

    /// Keeps what `editor` knows of its zone once its changes are written: the zone as they
    /// leave it, at `versions`, and what the owners `touched` hold.
    func keep(_ editor: ZoneEditor, versions: RowVersions, touched: [DomainName]) {
        keep(Plan(zone: editor.zone, account: editor.account, versions: versions, known: editor.knownOwners(around: touched)))
    }

    /// Forgets these zones after a plan of them was found stale, for `benchedBatches` batches.
    func miss(_ names: Set<String>) {
        lock.lock()
        defer { lock.unlock() }
        missCount += 1
        for name in names {
            plans[name] = nil
            benched[name] = Self.benchedBatches
        }
        if benched.count > Self.maxZones { benched.removeAll() }
    }
}

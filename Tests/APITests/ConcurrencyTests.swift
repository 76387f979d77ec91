import Foundation
import HTTPServer
import Store
import Synchronization
import Testing

@testable import API

/// Serials under concurrent writers over real HTTP: the property hosted DNS lives or dies by.
@Suite("Serials under concurrency")
struct ConcurrencyTests {
    struct Acknowledged: Sendable {
        let zone: String
        let name: String
        let serial: Int64
    }

    /// Runs `body(0..<count)` on threads of their own, all at once (a dispatch pool would run
    /// only as many as there are cores), and waits for them.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread {
                body(index)
                group.leave()
            }.start()
        }
        group.wait()
    }

    /// Runs `clients` × `changes` PATCHes, each adding one A record at its own name.
    static func hammer(_ api: APIFixture, token: String, zones: [String], clients: Int, changes: Int) -> (acks: [Acknowledged], failures: [String]) {
        let acks = Mutex<[Acknowledged]>([])
        let failures = Mutex<[String]>([])
        Self.onThreads(clients) { client in
            let zone = zones[client % zones.count]
            for change in 0..<changes {
                let name = "c\(client)-\(change).\(zone)"
                do {
                    let response = try api.patch(zone, token: token, #"[{"action": "add", "name": "\#(name)", "type": "A", "records": ["192.0.2.\#(change % 250)"]}]"#)
                    guard response.status == 200, let serial = try response.json()["serial"]?.intValue else {
                        failures.withLock { $0.append("\(name): \(response.status) \(response.text)") }
                        continue
                    }
                    acks.withLock { $0.append(Acknowledged(zone: zone, name: name, serial: serial)) }
                } catch {
                    failures.withLock { $0.append("\(name): \(error)") }
                }
            }
        }
        return (acks.withLock { $0 }, failures.withLock { $0 })
    }

    /// Ordered by serial, each journal entry starts where the previous one ended.
    static func checkJournal(_ api: APIFixture, zone: String, token: String, expectedChanges: Int) throws {
        var entries: [(from: Int64?, to: Int64)] = []
        var path = "/v1/zones/\(zone)/changes?limit=1000"
        while true {
            let body = try api.client.send("GET", path, token: token).json()
            for item in body["items"]?.arrayValue ?? [] {
                entries.append((item["serial_from"]?.intValue, try #require(item["serial_to"]?.intValue)))
            }
            guard let cursor = body["next_cursor"]?.stringValue else { break }
            path = "/v1/zones/\(zone)/changes?limit=1000&cursor=\(cursor)"
        }
        entries.reverse()  // oldest first
        #expect(entries.count == expectedChanges + 1)  // + the creation
        #expect(entries.first?.from == nil)
        for (previous, next) in zip(entries, entries.dropFirst()) where next.from != previous.to {
            Issue.record("journal of \(zone) not contiguous: \(previous.to) then \(next.from.map(String.init) ?? "nil")→\(next.to)")
            break
        }
    }

    @Test("16 clients × 200 changes on one zone: distinct serials, contiguous journal, nothing lost, one SOA")
    func oneZone() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme", quotas: #""max_records_per_zone": 100000"#)
        try api.createZone("busy.example", token: acme.token)
        let (acks, failures) = Self.hammer(api, token: acme.token, zones: ["busy.example."], clients: 16, changes: 200)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(acks.count == 3200)
        #expect(Set(acks.map(\.serial)).count == acks.count, "two acknowledged changes share a serial")

        try Self.checkJournal(api, zone: "busy.example.", token: acme.token, expectedChanges: 3200)
        let names = Set(try api.rrsetLines("busy.example.", token: acme.token).map { String($0.split(separator: " ")[0]) })
        #expect(names.isSuperset(of: acks.map(\.name)), "an acknowledged change is missing from the zone")
        let export = try api.client.send("GET", "/v1/zones/busy.example/export", token: acme.token)
        #expect(export.status == 200)
        let soaLines = export.text.split(separator: "\n").filter { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).contains("SOA") }
        #expect(soaLines.count == 1)
        #expect(export.text.contains(" \(try api.serial("busy.example", token: acme.token)) "))
    }

    @Test("16 clients on 16 zones: every zone's serials distinct and journals contiguous")
    func manyZones() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let zones = (0..<16).map { "z\($0).example." }
        for zone in zones { try api.createZone(zone, token: acme.token) }
        let (acks, failures) = Self.hammer(api, token: acme.token, zones: zones, clients: 16, changes: 50)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(acks.count == 800)
        for zone in zones {
            let serials = acks.filter { $0.zone == zone }.map(\.serial)
            #expect(Set(serials).count == serials.count)
            try Self.checkJournal(api, zone: zone, token: acme.token, expectedChanges: 50)
        }
    }

    /// The journal of a zone, oldest first: (serial_from, serial_to, changed_at).
    static func journal(_ api: APIFixture, zone: String, token: String) throws -> [(from: Int64?, to: Int64, at: String)] {
        var entries: [(from: Int64?, to: Int64, at: String)] = []
        var path = "/v1/zones/\(zone)/changes?limit=1000"
        while true {
            let body = try api.client.send("GET", path, token: token).json()
            for item in body["items"]?.arrayValue ?? [] {
                entries.append((item["serial_from"]?.intValue, try #require(item["serial_to"]?.intValue),
                                item["changed_at"]?.stringValue ?? ""))
            }
            guard let cursor = body["next_cursor"]?.stringValue else { break }
            path = "/v1/zones/\(zone)/changes?limit=1000&cursor=\(cursor)"
        }
        return entries.reversed()
    }

    enum Attempt: String, Sendable {
        case add, staleIfMatch, invalidRecord, ruleBroken, noChange
    }

    struct Answer: Sendable {
        let attempt: Attempt
        let name: String
        let status: Int
        let serial: Int64?
        let etag: String?
    }

    @Test("16 clients on one zone, refusals mixed in: each refused change gets its own 4xx and writes nothing; the others get distinct serials")
    func refusalsInsideBatches() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme", quotas: #""max_records_per_zone": 100000"#)
        try api.createZone("mixed.example", token: acme.token)
        let created = try api.serial("mixed.example", token: acme.token)
        let zoneID = try #require(try api.client.send("GET", "/v1/zones/mixed.example", token: acme.token).json()["id"]?.intValue)
        // One change first, so that the creation's ETag is stale for every If-Match below.
        #expect(try api.patch("mixed.example", token: acme.token, #"[{"action": "add", "name": "seed.mixed.example.", "type": "A", "records": ["192.0.2.9"]}]"#).status == 200)
        let listener = try PostgresConnection(conninfo: api.conninfo)
        defer { listener.close() }
        try listener.listen("zone_changed")
        let answers = Mutex<[Answer]>([])
        let errors = Mutex<[String]>([])
        Self.onThreads(16) { client in
            for round in 0..<40 {
                let name = "c\(client)-\(round).mixed.example."
                let attempts: [Attempt] = [.add, .staleIfMatch, .invalidRecord, .ruleBroken, .noChange]
                let attempt = attempts[(client + round) % attempts.count]
                do {
                    let response: APIClient.Response
                    switch attempt {
                    case .add:
                        response = try api.patch("mixed.example", token: acme.token,
                                                 #"[{"action": "add", "name": "\#(name)", "type": "A", "records": ["192.0.2.1"]}]"#)
                    case .staleIfMatch:
                        // The zone's first ETag: long gone once anything committed.
                        response = try api.patch("mixed.example", token: acme.token,
                                                 #"[{"action": "add", "name": "\#(name)", "type": "A", "records": ["192.0.2.2"]}]"#,
                                                 headers: ["If-Match": "\"\(created)\""])
                    case .invalidRecord:
                        response = try api.patch("mixed.example", token: acme.token,
                                                 #"[{"action": "add", "name": "\#(name)", "type": "A", "records": ["not-an-address"]}]"#)
                    case .ruleBroken:
                        // A CNAME beside other data at the same name: refused by the zone rules,
                        // after the change has read the zone inside the batch.
                        response = try api.patch("mixed.example", token: acme.token,
                                                 #"[{"action": "add", "name": "\#(name)", "type": "A", "records": ["192.0.2.3"]}, {"action": "add", "name": "\#(name)", "type": "CNAME", "records": ["target.example."]}]"#)
                    case .noChange:
                        // Deleting what does not exist changes nothing and must keep the serial.
                        response = try api.patch("mixed.example", token: acme.token,
                                                 #"[{"action": "delete", "name": "\#(name)", "type": "TXT"}]"#)
                    }
                    let serial = response.status == 200 ? try response.json()["serial"]?.intValue : nil
                    answers.withLock { $0.append(Answer(attempt: attempt, name: name, status: response.status, serial: serial, etag: response.header("ETag"))) }
                } catch {
                    errors.withLock { $0.append("\(name): \(error)") }
                }
            }
        }
        #expect(errors.withLock { $0 }.isEmpty)
        let all = answers.withLock { $0 }
        #expect(all.count == 640)
        for answer in all {
            switch answer.attempt {
            case .add, .noChange: #expect(answer.status == 200, "\(answer)")
            case .staleIfMatch: #expect(answer.status == 412, "\(answer)")
            case .invalidRecord, .ruleBroken: #expect(answer.status == 422, "\(answer)")
            }
        }
        let added = all.filter { $0.attempt == .add }
        let serials = added.compactMap(\.serial)
        #expect(serials.count == added.count)
        #expect(Set(serials).count == serials.count, "two changes share a serial")
        for answer in added { #expect(answer.etag == "\"\(answer.serial ?? -1)\"") }

        // Only the real changes are in the zone and in the journal, one entry each, contiguous.
        let lines = try api.rrsetLines("mixed.example", token: acme.token)
        let owners = Set(lines.map { String($0.split(separator: " ")[0]) })
        #expect(owners == Set(added.map(\.name) + ["seed.mixed.example."]))
        #expect(!lines.contains { $0.contains(" CNAME ") || $0.contains("192.0.2.2") || $0.contains("192.0.2.3") })
        let journal = try Self.journal(api, zone: "mixed.example", token: acme.token)
        #expect(journal.count == added.count + 2)  // + the creation and the seed
        for (previous, next) in zip(journal, journal.dropFirst()) where next.from != previous.to {
            Issue.record("journal not contiguous: \(previous.to) then \(next.from.map(String.init) ?? "nil")→\(next.to)")
            break
        }
        #expect(Set(journal.dropFirst(2).map(\.to)) == Set(serials))
        #expect(try api.serial("mixed.example", token: acme.token) == serials.max())
        // Listeners heard of every committed change, once, after its commit, and of nothing else.
        var heard: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while heard.count < serials.count && Date() < deadline {
            heard += try listener.notifications(timeoutSeconds: 2).map(\.payload)
        }
        heard += try listener.notifications(timeoutSeconds: 0.3).map(\.payload)
        #expect(heard.sorted() == serials.map { "\(zoneID) \($0)" }.sorted())
        // The batched path did run: some transaction held several of these changes.
        #expect(api.service.zoneCommits.largestBatch > 1)
    }

    @Test("with --commit-batch 1 every change has a transaction of its own, and the same guarantees")
    func unbatched() throws {
        let api = try APIFixture(commitBatch: 1)
        let acme = try api.createCustomer("acme")
        try api.createZone("single.example", token: acme.token)
        let (acks, failures) = Self.hammer(api, token: acme.token, zones: ["single.example."], clients: 8, changes: 25)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(Set(acks.map(\.serial)).count == 200)
        let journal = try Self.journal(api, zone: "single.example.", token: acme.token)
        #expect(journal.count == 201)
        #expect(api.service.zoneCommits.largestBatch == 1)
        for (previous, next) in zip(journal, journal.dropFirst()) where next.from != previous.to {
            Issue.record("journal not contiguous: \(previous.to) then \(next.from.map(String.init) ?? "nil")→\(next.to)")
            break
        }
    }

    @Test("4 zones, each named by name by some clients and by id by others: per-zone serials distinct, journals contiguous")
    func zonesNamedTwoWays() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let names = (0..<4).map { "lane\($0).example." }
        var references: [String] = []
        for name in names {
            let id = try #require(try api.createZone(name, token: acme.token)["id"]?.intValue)
            // The same zone both ways: a batch must see one zone, not two.
            references += [name, String(id)]
        }
        let serials = Mutex<[String: [Int64]]>([:])
        let failures = Mutex<[String]>([])
        let ways = references
        Self.onThreads(16) { client in
            let zone = names[client % names.count]
            // Per zone, two clients name it by name and two by id.
            let reference = ways[2 * (client % names.count) + (client / names.count) % 2]
            for change in 0..<25 {
                let owner = "c\(client)-\(change).\(zone)"
                do {
                    let response = try api.patch(reference, token: acme.token, #"[{"action": "add", "name": "\#(owner)", "type": "A", "records": ["192.0.2.1"]}]"#)
                    guard response.status == 200, let serial = try response.json()["serial"]?.intValue else {
                        failures.withLock { $0.append("\(owner) via \(reference): \(response.status) \(response.text)") }
                        continue
                    }
                    serials.withLock { $0[zone, default: []].append(serial) }
                } catch {
                    failures.withLock { $0.append("\(owner): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
        for name in names {
            let zoneSerials = serials.withLock { $0[name] ?? [] }
            #expect(zoneSerials.count == 100)
            #expect(Set(zoneSerials).count == zoneSerials.count, "two changes of \(name) share a serial")
            try Self.checkJournal(api, zone: name, token: acme.token, expectedChanges: 100)
        }
        #expect(api.service.zoneCommits.largestBatch > 1)
    }
}

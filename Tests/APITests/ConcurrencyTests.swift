import Foundation
import HTTPServer
import Synchronization
import Testing

/// Serials under concurrent writers over real HTTP: the property hosted DNS lives or dies by.
@Suite("Serials under concurrency")
struct ConcurrencyTests {
    struct Acknowledged: Sendable {
        let zone: String
        let name: String
        let serial: Int64
    }

    /// Runs `clients` × `changes` PATCHes, each adding one A record at its own name.
    static func hammer(_ api: APIFixture, token: String, zones: [String], clients: Int, changes: Int) -> (acks: [Acknowledged], failures: [String]) {
        let acks = Mutex<[Acknowledged]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: clients) { client in
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
        let api = try APIFixture(threads: 4)
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
        let api = try APIFixture(threads: 4)
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
}

import Foundation
import HTTPServer
import IntegrationHarness
import Store
import Synchronization
import Testing

/// Several `zonectl serve` processes on one PostgreSQL: they share NOTIFY and serial-check work
/// without doing it twice, and when one dies the others finish what it held.
@Suite("Several zonectl processes on one database", .serialized)
struct ScaleOutTests {
    static let zones = (1...20).map { String(format: "z%02d.scale.test.", $0) }

    /// What the clients saw: per zone, the serials acknowledged.
    final class Acknowledged: Sendable {
        let serials = Mutex<[String: [UInt32]]>([:])
        let failures = Mutex<[String]>([])

        func add(_ zone: String, _ serial: UInt32) { serials.withLock { $0[zone, default: []].append(serial) } }
        func fail(_ message: String) { failures.withLock { $0.append(message) } }
        var count: Int { serials.withLock { $0.values.reduce(0) { $0 + $1.count } } }
    }

    /// `total` one-RRset changes from 16 clients, spread over the zones and the processes'
    /// HTTP ports; a process that is gone is skipped (its in-flight change is unacknowledged).
    static func load(_ servers: [ZonectlServer], total: Int, into acknowledged: Acknowledged,
                     alive: @escaping @Sendable (Int) -> Bool, phase: String) {
        let clients = 16
        DispatchQueue.concurrentPerform(iterations: clients) { client in
            for index in stride(from: client, to: total, by: clients) {
                let zone = zones[index % zones.count]
                var target = index % servers.count
                if !alive(target) { target = (target + 1) % servers.count }
                if !alive(target) { target = (target + 1) % servers.count }
                let body = #"{"changes": [{"action": "replace", "name": "c\#(client).\#(zone)", "type": "TXT", "records": ["\"\#(phase) \#(index)\""]}]}"#
                do {
                    let reply = try servers[target].api("PATCH", "/v1/zones/\(zone)/rrsets", body)
                    if reply.status == 200, let serial = reply.json["serial"]?.intValue {
                        acknowledged.add(zone, UInt32(serial))
                    } else if alive(target) {
                        acknowledged.fail("\(zone) via process \(target): \(reply.status) \(reply.text)")
                    }
                } catch {
                    if alive(target) { acknowledged.fail("\(zone) via process \(target): \(error)") }
                }
            }
        }
    }

    /// Every secondary serves each zone's current serial.
    static func expectConverged(_ servers: [ZonectlServer], _ secondaries: [SecondaryServer], within seconds: Double) throws {
        let live = servers.first { (try? $0.api("GET", "/v1/health").status) == 200 }!
        for zone in zones {
            let serial = UInt32(try live.must(200, "GET", "/v1/zones/\(zone)")["serial"]?.intValue ?? 0)
            for secondary in secondaries {
                #expect(secondary.waitForSerial(serial, of: zone, timeout: seconds),
                        "\(secondary.kind) serves \(String(describing: secondary.soaSerial(of: zone))) of \(zone), not \(serial)")
            }
        }
    }

    /// BIND's log: for each zone and serial, the source ports its NOTIFYs came from. zonectl
    /// opens one socket per NOTIFY exchange (a resend reuses it), so two ports for one serial
    /// mean it was announced twice.
    static func notifySources(_ log: String) -> [String: Set<String>] {
        var sources: [String: Set<String>] = [:]
        for line in log.split(separator: "\n") where line.contains(": notify from 127.0.0.1#") {
            guard let zoneStart = line.range(of: "zone ")?.upperBound,
                  let from = line.range(of: ": notify from 127.0.0.1#"),
                  let serialRange = line.range(of: ": serial ") else { continue }
            let zone = line[zoneStart..<from.lowerBound]
            let port = line[from.upperBound...].prefix { $0.isNumber }
            let serial = line[serialRange.upperBound...].prefix { $0.isNumber }
            sources["\(zone) \(serial)", default: []].insert(String(port))
        }
        return sources
    }

    @Test("3 processes, 16 clients, 1,000 changes over 20 zones: every change acknowledged with a distinct serial, every secondary at every final serial, each NOTIFY sent once; one process killed mid-run, the other two finish its work")
    func scaleOut() throws {
        let arguments = ["--lease-seconds", "5", "--notify-workers", "2"]
        let first = try ZonectlServer(extraArguments: arguments)
        var servers = [first]
        defer { for server in servers { server.stop() } }
        servers.append(try ZonectlServer(extraArguments: arguments, sharing: first))
        servers.append(try ZonectlServer(extraArguments: arguments, sharing: first))

        let catalog = "catalog.scale.test."
        try first.must(201, "POST", "/v1/pools", #"{"name": "scale", "nameservers": ["ns1.scale-dns.test."], "soa_mname": "ns1.scale-dns.test.", "soa_rname": "hostmaster.scale-dns.test.", "catalog_zone": "\#(catalog)"}"#)
        let account = try first.must(201, "POST", "/v1/accounts", #"{"name": "scale"}"#)["id"]?.intValue ?? 0
        for zone in Self.zones {
            try first.must(201, "POST", "/v1/zones", #"{"name": "\#(zone)", "account_id": \#(account), "pool": "scale", "serial_policy": "increment"}"#)
        }
        let secondaries = [
            try SecondaryServer(kind: .bind, zones: [], primaryPort: first.dnsPort, catalog: catalog),
            try SecondaryServer(kind: .knot, zones: [], primaryPort: first.dnsPort, catalog: catalog),
            try SecondaryServer(kind: .nsd, zones: Self.zones, primaryPort: first.dnsPort),
        ]
        defer { for secondary in secondaries { secondary.stop(removingFiles: true) } }
        for secondary in secondaries {
            try first.must(201, "POST", "/v1/pools/scale/servers",
                           #"{"address": "127.0.0.1", "port": \#(secondary.port), "catalog": \#(secondary.kind != .nsd)}"#)
            try secondary.start()
        }
        try Self.expectConverged(servers, secondaries, within: 60)

        // Phase 1: all three processes up.
        let acknowledged = Acknowledged()
        Self.load(servers, total: 1000, into: acknowledged, alive: { _ in true }, phase: "one")
        #expect(acknowledged.failures.withLock { $0 } == [])
        #expect(acknowledged.count == 1000)
        try Self.expectConverged(servers, secondaries, within: 60)
        let sources = Self.notifySources(secondaries[0].logText())
        #expect(sources.count >= Self.zones.count, "BIND's log shows \(sources.count) NOTIFYs: the check below would prove nothing")
        let duplicates = sources.filter { $0.value.count > 1 }
        #expect(duplicates.isEmpty, "announced more than once: \(duplicates)")

        // Phase 2: 400 more, and the third process is killed while they run.
        let killed = Mutex(false)
        let victim = servers[2]
        let killer = Thread {
            // A quarter of the way into the second run.
            let deadline = Date().addingTimeInterval(120)
            while acknowledged.count < 1000 + 100 && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
            killed.withLock { $0 = true }
            victim.kill()
        }
        killer.start()
        Self.load(servers, total: 400, into: acknowledged, alive: { index in index != 2 || !killed.withLock { $0 } }, phase: "two")
        #expect(killed.withLock { $0 }, "the load ended before the kill; the test proves nothing about take-over")
        #expect(acknowledged.failures.withLock { $0 }.isEmpty, "\(acknowledged.failures.withLock { $0 }.prefix(5))")
        try Self.expectConverged(Array(servers[0..<2]), secondaries, within: 60)

        // Serials: distinct per zone, and the journal a contiguous chain.
        let db = try PostgresConnection(conninfo: first.conninfo)
        defer { db.close() }
        for (zone, serials) in acknowledged.serials.withLock({ $0 }) {
            #expect(Set(serials).count == serials.count, "\(zone) acknowledged a serial twice")
            let chain = try db.query(
                "SELECT c.serial_from, c.serial_to FROM zone_changes c JOIN zones z ON z.id = c.zone_id WHERE z.name = $1 ORDER BY c.id",
                [.text(zone)]).rows.map { (try $0.optionalInt("serial_from"), try $0.int("serial_to")) }
            for (previous, next) in zip(chain, chain.dropFirst()) {
                #expect(next.0 == previous.1, "\(zone): journal jumps from \(previous.1) to \(String(describing: next.0))")
            }
            #expect(Set(serials).isSubset(of: Set(chain.map { UInt32($0.1) })))
        }
        // zonectl's own view agrees: every pair acknowledged and (catalogs aside: Knot does not
        // answer queries for a catalog it reads) answered the current serial.
        let behind = """
            SELECT count(*) AS n FROM propagation_state p JOIN zones z ON z.id = p.zone_id
            WHERE p.notified_serial IS DISTINCT FROM z.serial OR (z.kind = 'primary' AND p.seen_serial IS DISTINCT FROM z.serial)
            """
        let deadline = Date().addingTimeInterval(30)
        var remaining = try db.query(behind).rows[0].int("n")
        while remaining > 0 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            remaining = try db.query(behind).rows[0].int("n")
        }
        #expect(remaining == 0, "zonectl still thinks \(remaining) zone × server pairs are behind")
    }
}

import DNSModel
import DNSWire
import Foundation
import IntegrationHarness
import Testing

/// The harness's BIND and Knot secondaries in catalog mode (RFC 9432 version 2), following a
/// real BIND primary that serves a hand-written catalog: configured with the catalog only, they
/// serve the members it lists, add a member when the catalog gains one and drop a member when
/// it loses one, and keep that over a restart.
@Suite("SecondaryServer catalog mode")
struct CatalogSecondaryTests {
    static let catalog = "catalog.test"
    static let key = SecondaryServerTests.key256

    /// A version 2 catalog listing `members`, each under a unique id that stays with its zone
    /// (RFC 9432 §4.1: an id is never moved to another zone).
    static func catalogText(serial: UInt32, members: [String]) -> String {
        var text = """
            $ORIGIN \(catalog).
            $TTL 0
            @ IN SOA invalid. invalid. \(serial) 3600 600 86400 0
            @ IN NS invalid.
            version IN TXT "2"

            """
        for member in members {
            text += "\(uniqueID(member)).zones IN PTR \(member).\n"
        }
        return text
    }

    static func uniqueID(_ zone: String) -> String {
        "id-" + zone.replacingOccurrences(of: ".", with: "-")
    }

    /// Seconds from `since` until `condition` held for each secondary (polled in turn, so each
    /// time is its own); records an issue for each that never got there. A secondary not there
    /// after `renotifyAfter` seconds gets the catalog's NOTIFY again (`notifyCatalog`), and
    /// again every `renotifyAfter` seconds.
    static func timeUntil(
        _ secondaries: [SecondaryServer], within timeout: Double, since: Date, _ what: String,
        renotifyAfter: Double? = nil, _ condition: (SecondaryServer) -> Bool
    ) -> [SecondaryKind: Double] {
        var reached: [SecondaryKind: Double] = [:]
        let deadline = Date().addingTimeInterval(timeout)
        var nextNotify = renotifyAfter.map { Date().addingTimeInterval($0) }
        while reached.count < secondaries.count && Date() < deadline {
            for secondary in secondaries where reached[secondary.kind] == nil && condition(secondary) {
                reached[secondary.kind] = Date().timeIntervalSince(since)
            }
            if let due = nextNotify, let renotifyAfter, Date() >= due {
                for secondary in secondaries where reached[secondary.kind] == nil { notifyCatalog(secondary) }
                nextNotify = Date().addingTimeInterval(renotifyAfter)
            }
            usleep(10_000)
        }
        for secondary in secondaries where reached[secondary.kind] == nil {
            Issue.record("\(secondary.kind): not \(what) within \(timeout) s; log: \(secondary.logText().suffix(3000))")
        }
        return reached
    }

    /// The catalog's NOTIFY, signed with the transfer key, sent to `secondary` by the test: what
    /// a primary does again when a secondary has not caught up (zonectl does, until the
    /// secondary's serial is the zone's). The primary BIND's own NOTIFY after a restart can go
    /// unheeded (Knot, now and then), and the catalog's refresh timer is an hour; this test is
    /// about following the catalog, not about one NOTIFY getting through.
    static func notifyCatalog(_ secondary: SecondaryServer) {
        let message = DNSMessage.notify(id: UInt16.random(in: 0...UInt16.max), zone: name(catalog + "."))
        guard let signed = try? TSIG.signRequest(message.encode(), key: key) else { return }
        _ = try? LoopbackDNS.udp(signed.bytes, port: secondary.port, timeout: 1, attempts: 1)
    }

    static func seconds(_ times: [SecondaryKind: Double]) -> String {
        times.map { "\($0.key): \(String(format: "%.2f", $0.value)) s" }.sorted().joined(separator: ", ")
    }

    /// The zone as `dig AXFR` gets it from the secondary (tests compare secondaries this way).
    static func transferredRecords(_ zone: String, from secondary: SecondaryServer) throws -> [String] {
        let result = try ChildProcess.run(
            "dig", ["+norec", "+tries=1", "+time=2", "-p", "\(secondary.port)", "@127.0.0.1", zone, "AXFR"], timeoutSeconds: 20)
        return result.output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(";") && !$0.isEmpty }
    }

    @Test func bindAndKnotFollowTheCatalog() throws {
        let primaryPort = FreePort.tcpAndUDP()
        let key = SecondaryServerTests.secondaryKey(Self.key)
        let secondaries = [
            try SecondaryServer(kind: .bind, zones: [], primaryPort: primaryPort, key: key, catalog: Self.catalog + "."),
            try SecondaryServer(kind: .knot, zones: [], primaryPort: primaryPort, key: key, catalog: Self.catalog + "."),
        ]
        defer { for secondary in secondaries { secondary.stop(removingFiles: true) } }

        /// The primary serves the catalog and both candidate members at all times (only the
        /// catalog decides what the secondaries serve), each transferred only with the key.
        func primary(catalogSerial: UInt32, members: [String]) throws -> NamedServer {
            let options = "allow-transfer { key \"xfr-key\"; }; "
                + SecondaryServerTests.alsoNotify(secondaries.map { ($0.port, Self.key) })
            return try NamedServer(
                zones: [
                    .init(name: Self.catalog, text: Self.catalogText(serial: catalogSerial, members: members), options: options),
                    .init(name: "a.test", text: SecondaryServerTests.zoneText("a.test", serial: 10), options: options),
                    .init(name: "b.test", text: SecondaryServerTests.zoneText("b.test", serial: 20), options: options),
                ],
                keys: [Self.key], port: primaryPort)
        }

        // Catalog serial 1 lists a.test only.
        var server = try primary(catalogSerial: 1, members: ["a.test"])
        defer { server.stop() }
        let started = Date()
        for secondary in secondaries { try secondary.start() }
        let first = Self.timeUntil(secondaries, within: 30, since: started, "serving a.test at serial 10") {
            $0.soaSerial(of: "a.test.") == 10
        }
        for secondary in secondaries {
            #expect(!secondary.servesZone("b.test."), "\(secondary.kind) serves b.test, which the catalog does not list")
            // Members inherit the transfer ACL for loopback, as explicit zones have it.
            let records = try Self.transferredRecords("a.test.", from: secondary)
            #expect(records.contains { $0.hasPrefix("www.a.test.") && $0.hasSuffix("192.0.2.12") },
                    "\(secondary.kind) AXFR of a.test: \(records)")
        }
        #expect(secondaries[0].soaSerial(of: Self.catalog + ".") == 1, "BIND serves its copy of the catalog")

        // Serial 2 adds b.test: the catalog's NOTIFY brings the new member.
        server.stop()
        let added = Date()
        server = try primary(catalogSerial: 2, members: ["a.test", "b.test"])
        let primaryUp = Date().timeIntervalSince(added)
        let addTimes = Self.timeUntil(secondaries, within: 30, since: added, "serving b.test at serial 20", renotifyAfter: 5) {
            $0.soaSerial(of: "b.test.") == 20
        }
        for secondary in secondaries {
            #expect(secondary.soaSerial(of: "a.test.") == 10, "\(secondary.kind) lost a.test when b.test was added")
        }

        // Serial 3 lists b.test only: a.test is dropped.
        server.stop()
        let removed = Date()
        server = try primary(catalogSerial: 3, members: ["b.test"])
        let removeTimes = Self.timeUntil(secondaries, within: 30, since: removed, "dropping a.test", renotifyAfter: 5) {
            !$0.servesZone("a.test.")
        }
        for secondary in secondaries {
            #expect(secondary.soaSerial(of: "b.test.") == 20, "\(secondary.kind) lost b.test when a.test was removed")
        }

        // A restart (primary down) keeps the catalog's word: b.test from the secondary's files, no a.test.
        server.stop()
        for secondary in secondaries {
            secondary.stop()
            try secondary.start()
            #expect(secondary.waitForSerial(20, of: "b.test.", timeout: 5),
                    "\(secondary.kind) lost b.test over a restart: \(secondary.logText().suffix(3000))")
            #expect(!secondary.servesZone("a.test."), "\(secondary.kind) serves the removed a.test again after a restart")
        }
        print("SecondaryServer catalog: a.test at first start: \(Self.seconds(first)); b.test added (primary answering after \(String(format: "%.2f", primaryUp)) s): \(Self.seconds(addTimes)); a.test dropped: \(Self.seconds(removeTimes))")
    }

    @Test func nsdRefusesACatalog() {
        #expect(throws: SecondaryServerError.self) {
            _ = try SecondaryServer(kind: .nsd, zones: [], primaryPort: 53000, catalog: Self.catalog + ".")
        }
        do {
            _ = try SecondaryServer(kind: .nsd, zones: ["x.test."], primaryPort: 53000, catalog: Self.catalog + ".")
            Issue.record("NSD accepted a catalog")
        } catch {
            #expect("\(error)".contains("NSD 4.6 has no catalog zones"))
        }
    }

    /// Without a catalog, an empty zone list is still a mistake.
    @Test func noZonesAndNoCatalogIsRefused() {
        #expect(throws: SecondaryServerError.self) {
            _ = try SecondaryServer(kind: .bind, zones: [], primaryPort: 53000)
        }
    }
}

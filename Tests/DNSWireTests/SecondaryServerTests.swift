import DNSModel
import DNSWire
import Foundation
import IntegrationHarness
import Testing

/// The harness's real secondaries (BIND, Knot, NSD) following a real BIND primary: they get
/// the zone, follow NOTIFY, keep the zone over a restart, ask the primary at start, retry a
/// primary that was down, and need the right TSIG key where the primary insists on one.
@Suite("SecondaryServer")
struct SecondaryServerTests {
    static let key256 = try! TSIGKey(
        name: name("xfr-key."), algorithm: .hmacSHA256, base64Secret: "c2Vjb25kYXJ5LXRlc3Qta2V5LTI1Ni1ieXRlcy0wMDA=")
    static let key512 = try! TSIGKey(
        name: name("xfr-key-512."), algorithm: .hmacSHA512,
        base64Secret: "c2Vjb25kYXJ5LXRlc3Qta2V5LTUxMi1ieXRlcy0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=")

    static func secondaryKey(_ key: TSIGKey) -> SecondaryTSIGKey {
        SecondaryTSIGKey(name: key.name.description, algorithm: key.algorithm.rawValue, base64Secret: key.base64Secret)
    }

    static func zoneText(_ zone: String, serial: UInt32) -> String {
        """
        $ORIGIN \(zone).
        $TTL 300
        @ IN SOA ns1 hostmaster \(serial) 3600 600 86400 300
        @ IN NS ns1
        ns1 IN A 192.0.2.1
        www IN A 192.0.2.\(serial % 250 + 2)

        """
    }

    /// NOTIFY targets as named's also-notify takes them, each with the key the secondary holds.
    static func alsoNotify(_ targets: [(port: UInt16, key: TSIGKey?)]) -> String {
        let list = targets.map { target in
            "127.0.0.1 port \(target.port)" + (target.key.map { " key \"\($0.name.description.dropLast())\"" } ?? "") + ";"
        }
        return "notify explicit; also-notify { \(list.joined(separator: " ")) };"
    }

    /// BIND follows an open zone; Knot (hmac-sha256) and NSD (hmac-sha512) a zone the primary
    /// transfers only with a key.
    @Test func poolFollowsPrimaryThroughChangesAndRestarts() throws {
        let open = "open.test", keyed = "keyed.test"
        let primaryPort = FreePort.tcpAndUDP()
        let secondaries = [
            try SecondaryServer(kind: .bind, zones: [open + "."], primaryPort: primaryPort),
            try SecondaryServer(kind: .knot, zones: [keyed + "."], primaryPort: primaryPort, key: Self.secondaryKey(Self.key256)),
            try SecondaryServer(kind: .nsd, zones: [keyed + "."], primaryPort: primaryPort, key: Self.secondaryKey(Self.key512)),
        ]
        let zoneOf: [SecondaryKind: String] = [.bind: open + ".", .knot: keyed + ".", .nsd: keyed + "."]
        defer { for secondary in secondaries { secondary.stop(removingFiles: true) } }

        func primary(serial: UInt32, notifying: Bool) throws -> NamedServer {
            let openOptions = notifying ? Self.alsoNotify([(secondaries[0].port, nil)]) : "notify no;"
            let keyedNotify = notifying
                ? Self.alsoNotify([(secondaries[1].port, Self.key256), (secondaries[2].port, Self.key512)]) : "notify no;"
            let keyedOptions = "allow-transfer { key \"xfr-key\"; key \"xfr-key-512\"; }; " + keyedNotify
            return try NamedServer(
                zones: [
                    .init(name: open, text: Self.zoneText(open, serial: serial), options: openOptions),
                    .init(name: keyed, text: Self.zoneText(keyed, serial: serial), options: keyedOptions),
                ],
                keys: [Self.key256, Self.key512], port: primaryPort)
        }

        /// Seconds from `started` to each secondary's answering `serial` (all polled in turn, so
        /// each time is its own).
        func expectAll(at serial: UInt32, within timeout: Double, since started: Date = Date(), _ what: String) -> [SecondaryKind: Double] {
            var reached: [SecondaryKind: Double] = [:]
            let deadline = Date().addingTimeInterval(timeout)
            while reached.count < secondaries.count && Date() < deadline {
                for secondary in secondaries where reached[secondary.kind] == nil {
                    if secondary.soaSerial(of: zoneOf[secondary.kind]!) == serial {
                        reached[secondary.kind] = Date().timeIntervalSince(started)
                    }
                }
                usleep(10_000)
            }
            for secondary in secondaries where reached[secondary.kind] == nil {
                let zone = zoneOf[secondary.kind]!
                Issue.record("\(secondary.kind) did not reach serial \(serial) \(what) within \(timeout) s; it answers \(String(describing: secondary.soaSerial(of: zone))); log: \(secondary.logText().suffix(3000))")
            }
            return reached
        }

        // Serial 1: a fresh pool gets the zones (the primary's NOTIFY at load, or the first refresh).
        var server = try primary(serial: 1, notifying: true)
        // Stops whichever primary is current when the test ends, also when it throws midway.
        defer { server.stop() }
        for secondary in secondaries { try secondary.start() }
        _ = expectAll(at: 1, within: 30, "after first start")

        // Serial 2: a new primary on the same port; its NOTIFY at load brings everyone along.
        server.stop()
        let restarted = Date()
        server = try primary(serial: 2, notifying: true)
        let primaryAnswering = Date().timeIntervalSince(restarted)
        let times = expectAll(at: 2, within: 30, since: restarted, "after the primary's NOTIFY")
        print("SecondaryServer: after the primary's restart (answering after \(String(format: "%.2f", primaryAnswering)) s), serial 2 reached: \(times.map { "\($0.key): \(String(format: "%.2f", $0.value)) s" }.sorted().joined(separator: ", "))")

        // Primary down, secondaries restarted: each serves serial 2 from its own files.
        server.stop()
        for secondary in secondaries {
            secondary.stop()
            #expect(!secondary.isRunning)
            try secondary.start()
            let zone = zoneOf[secondary.kind]!
            #expect(secondary.soaSerial(of: zone) == 2, "\(secondary.kind) lost the zone over a restart: \(secondary.logText().suffix(3000))")
        }

        // Serial 3 without NOTIFY: the primary comes back and the retries (capped at 2 s) find it.
        let primaryBack = Date()
        server = try primary(serial: 3, notifying: false)
        let retried = expectAll(at: 3, within: 20, since: primaryBack, "by retrying a primary that was down")

        // Serial 4 without NOTIFY while they are down: each asks the primary as it starts.
        for secondary in secondaries { secondary.stop() }
        server.stop()
        server = try primary(serial: 4, notifying: false)
        let restarting = Date()
        for secondary in secondaries { try secondary.start() }
        let refreshed = expectAll(at: 4, within: 15, since: restarting, "by refreshing at start")
        func seconds(_ times: [SecondaryKind: Double]) -> String {
            times.map { "\($0.key): \(String(format: "%.2f", $0.value)) s" }.sorted().joined(separator: ", ")
        }
        print("SecondaryServer: serial 3 by retry after the primary came back: \(seconds(retried)); serial 4 from the start of the restarts: \(seconds(refreshed))")
    }

    /// Where the primary insists on a key, a secondary with the right key gets the zone and one
    /// with the same key name but another secret never does.
    @Test(arguments: SecondaryKind.allCases)
    func keyedZoneNeedsTheRightKey(kind: SecondaryKind) throws {
        let zone = "locked.test"
        let right = Self.secondaryKey(Self.key256)
        let wrong = SecondaryTSIGKey(name: right.name, algorithm: right.algorithm, base64Secret: "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0wMDAwMDA=")
        let primaryPort = FreePort.tcpAndUDP()
        let good = try SecondaryServer(kind: kind, zones: [zone + "."], primaryPort: primaryPort, key: right)
        defer { good.stop(removingFiles: true) }
        let bad = try SecondaryServer(kind: kind, zones: [zone + "."], primaryPort: primaryPort, key: wrong)
        defer { bad.stop(removingFiles: true) }
        let named = try NamedServer(
            zones: [.init(name: zone, text: Self.zoneText(zone, serial: 7),
                          options: "allow-transfer { key \"xfr-key\"; }; " + Self.alsoNotify([(good.port, Self.key256), (bad.port, Self.key256)]))],
            keys: [Self.key256], port: primaryPort)
        defer { named.stop() }
        try good.start()
        try bad.start()
        #expect(good.waitForSerial(7, of: zone + ".", timeout: 20), "\(kind) with the right key: \(good.logText().suffix(3000))")
        // Long enough for NOTIFY, the refresh at start and a retry.
        Thread.sleep(forTimeInterval: 3)
        #expect(bad.soaSerial(of: zone + ".") == nil, "\(kind) with a wrong secret got the zone")
        #expect(bad.isRunning)
    }

    /// Nobody on the primary's port: started, answering, but not serving the zone.
    @Test(arguments: SecondaryKind.allCases)
    func secondaryWithoutPrimaryServesNothing(kind: SecondaryKind) throws {
        let secondary = try SecondaryServer(kind: kind, zones: ["orphan.test."], primaryPort: FreePort.tcpAndUDP())
        defer { secondary.stop(removingFiles: true) }
        try secondary.start()
        #expect(secondary.isRunning)
        #expect(secondary.soaSerial(of: "orphan.test.") == nil)
        Thread.sleep(forTimeInterval: 1)
        #expect(secondary.soaSerial(of: "orphan.test.") == nil)
        #expect(secondary.soaSerial(of: "not-configured.test.") == nil)
        secondary.stop()
        secondary.stop()
        #expect(!secondary.isRunning)
        #expect(FileManager.default.fileExists(atPath: secondary.directory.path))
        secondary.stop(removingFiles: true)
        #expect(!FileManager.default.fileExists(atPath: secondary.directory.path))
    }

    /// A configuration the server's own checker refuses is reported at init, not at start.
    @Test func refusedConfigurationIsReported() throws {
        let key = SecondaryTSIGKey(name: "xfr-key", algorithm: "hmac-sha256", base64Secret: "not base64!")
        #expect(throws: SecondaryServerError.self) {
            _ = try SecondaryServer(kind: .nsd, zones: ["example.test."], primaryPort: 53000, key: key)
        }
    }
}

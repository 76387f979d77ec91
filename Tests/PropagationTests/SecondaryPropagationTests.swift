import DNSModel
import DNSWire
import Foundation
import HTTPServer
import IntegrationHarness
import Store
import Testing

/// zonectl as the hidden primary of real secondaries: BIND 9, Knot (signing with TSIG) and NSD
/// on loopback, configured for the test zone and nothing else. No refresh timer fires during
/// these tests (the SOA refresh is hours), so a secondary that has a new serial got it because
/// zonectl's NOTIFY made it ask.
@Suite("Propagation to real BIND, Knot and NSD secondaries", .serialized)
struct SecondaryPropagationTests {
    static let zone = "e2e.test."

    /// zonectl, a pool with the three secondaries (Knot keyed), and the zone, served by all.
    final class Setup {
        let server: ZonectlServer
        let secondaries: [SecondaryServer]
        let key: SecondaryTSIGKey

        init(zonectlArguments: [String] = []) throws {
            server = try ZonectlServer(extraArguments: zonectlArguments)
            do {
                let created = try server.must(201, "POST", "/v1/tsig-keys", #"{"name": "knot-xfr.", "algorithm": "hmac-sha256"}"#)
                key = SecondaryTSIGKey(name: "knot-xfr.", algorithm: "hmac-sha256", base64Secret: created["secret"]?.stringValue ?? "")
                secondaries = try [
                    SecondaryServer(kind: .bind, zones: [SecondaryPropagationTests.zone], primaryPort: server.dnsPort),
                    SecondaryServer(kind: .knot, zones: [SecondaryPropagationTests.zone], primaryPort: server.dnsPort, key: key),
                    SecondaryServer(kind: .nsd, zones: [SecondaryPropagationTests.zone], primaryPort: server.dnsPort),
                ]
            } catch {
                server.stop()
                throw error
            }
            do {
                try server.must(201, "POST", "/v1/pools", #"{"name": "e2e", "nameservers": ["ns1.e2e-dns.test.", "ns2.e2e-dns.test."], "soa_mname": "ns1.e2e-dns.test.", "soa_rname": "hostmaster.e2e-dns.test."}"#)
                for secondary in secondaries {
                    let key = secondary.kind == .knot ? #", "tsig_key": "knot-xfr.""# : ""
                    try server.must(201, "POST", "/v1/pools/e2e/servers",
                                    #"{"address": "127.0.0.1", "port": \#(secondary.port), "description": "\#(secondary.kind)", "catalog": false\#(key)}"#)
                    try secondary.start()
                }
                let account = try server.must(201, "POST", "/v1/accounts", #"{"name": "e2e"}"#)["id"]?.intValue ?? 0
                try server.must(201, "POST", "/v1/zones", #"{"name": "\#(SecondaryPropagationTests.zone)", "account_id": \#(account), "pool": "e2e"}"#)
            } catch {
                stop()
                throw error
            }
        }

        func stop() {
            for secondary in secondaries { secondary.stop(removingFiles: true) }
            server.stop()
        }

        var serial: UInt32 {
            get throws { UInt32(try server.must(200, "GET", "/v1/zones/\(SecondaryPropagationTests.zone)")["serial"]?.intValue ?? -1) }
        }

        func change(_ changes: String) throws -> UInt32 {
            let reply = try server.must(200, "PATCH", "/v1/zones/\(SecondaryPropagationTests.zone)/rrsets", #"{"changes": \#(changes)}"#)
            return UInt32(reply["serial"]?.intValue ?? -1)
        }

        /// Waits until every secondary in `servers` answers `serial`; records which did not.
        func expectAll(_ servers: [SecondaryServer]? = nil, at serial: UInt32, within seconds: Double,
                       sourceLocation: SourceLocation = #_sourceLocation) {
            for secondary in servers ?? secondaries {
                let reached = secondary.waitForSerial(serial, of: SecondaryPropagationTests.zone, timeout: seconds)
                #expect(reached, "\(secondary.kind) serves \(String(describing: secondary.soaSerial(of: SecondaryPropagationTests.zone))), not \(serial); its log: \(secondary.logText().suffix(3000))\nzonectl: \(server.log.suffix(3000))",
                        sourceLocation: sourceLocation)
            }
        }

        func status() throws -> JSONValue {
            try server.must(200, "GET", "/v1/zones/\(SecondaryPropagationTests.zone)/status")
        }

        /// The status entry of one secondary.
        func status(of secondary: SecondaryServer) throws -> JSONValue? {
            try status()["servers"]?.arrayValue?.first { $0["port"]?.intValue == Int64(secondary.port) }
        }
    }

    /// Answers of a secondary, as a resolver would see them.
    static func answers(_ secondary: SecondaryServer, _ name: String, _ type: RRType) throws -> [String] {
        let reply = try DNSTestClient(port: secondary.port).udp(.query(id: UInt16.random(in: 1...60000), name: DomainName(presentation: name, origin: .root), type: type))
        return try reply.answers.filter { $0.type == type }.map { try $0.resourceRecord().rdata.presentation() }.sorted()
    }

    @Test("a created zone is served by all three; a change is live on each at once, AXFR from each equals the export, dig IXFR gets only the difference")
    func propagation() throws {
        let setup = try Setup()
        defer { setup.stop() }
        let created = try setup.serial
        setup.expectAll(at: created, within: 30)

        let serial = try setup.change(#"[{"action": "replace", "name": "www.e2e.test.", "type": "A", "ttl": 300, "records": ["192.0.2.1", "192.0.2.2"]}, {"action": "replace", "name": "e2e.test.", "type": "TXT", "records": ["\"hello from zonectl\""]}]"#)
        setup.expectAll(at: serial, within: 10)
        for secondary in setup.secondaries {
            #expect(try Self.answers(secondary, "www.e2e.test.", .a) == ["192.0.2.1", "192.0.2.2"], "\(secondary.kind)")
            #expect(try Self.answers(secondary, "e2e.test.", .txt) == ["\"hello from zonectl\""], "\(secondary.kind)")
        }

        let next = try setup.change(#"[{"action": "replace", "name": "www.e2e.test.", "type": "A", "ttl": 300, "records": ["192.0.2.3"]}]"#)
        setup.expectAll(at: next, within: 10)
        for secondary in setup.secondaries {
            #expect(try Self.answers(secondary, "www.e2e.test.", .a) == ["192.0.2.3"], "\(secondary.kind)")
        }

        // Every secondary holds exactly what the API exports.
        let export = try setup.server.export(Self.zone)
        let expected = try DigRecords.canonical(export, zone: Self.zone)
        for secondary in setup.secondaries {
            let transferred = try DigRecords.axfr(port: secondary.port, zone: Self.zone)
            #expect(transferred == expected, "\(secondary.kind) differs from the export")
        }

        // dig as a client of zonectl: IXFR from the previous serial is the one change.
        let ixfr = try DigRecords.ixfrLines(port: setup.server.dnsPort, zone: Self.zone, from: serial)
        #expect(ixfr.count == 7, "\(ixfr)")
        #expect(ixfr.filter { $0.contains("\tA\t") } == ["www.e2e.test.\t300\tIN\tA\t192.0.2.1", "www.e2e.test.\t300\tIN\tA\t192.0.2.2", "www.e2e.test.\t300\tIN\tA\t192.0.2.3"])

        // zonectl saw each of them answer the serial.
        let deadline = Date().addingTimeInterval(15)
        var status = try setup.status()
        while status["in_sync"]?.boolValue != true && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            status = try setup.status()
        }
        #expect(status["in_sync"]?.boolValue == true, "\(status)")
        #expect(status["servers"]?.arrayValue?.count == 3)
        for entry in status["servers"]?.arrayValue ?? [] {
            #expect(entry["serial"]?.intValue == Int64(next) && entry["notified_serial"]?.intValue == Int64(next), "\(entry)")
        }
        #expect(try setup.server.must(200, "GET", "/v1/zones/\(Self.zone)")["in_sync"]?.boolValue == true)
    }

    @Test("a stopped secondary falls behind, status says so with the error, and it catches up by itself when started again")
    func stoppedSecondary() throws {
        let setup = try Setup()
        defer { setup.stop() }
        setup.expectAll(at: try setup.serial, within: 30)
        let stopped = setup.secondaries[2]
        let running = Array(setup.secondaries[0..<2])
        stopped.stop()

        var serial: UInt32 = 0
        for index in 1...3 {
            serial = try setup.change(#"[{"action": "replace", "name": "host\#(index).e2e.test.", "type": "A", "records": ["192.0.2.\#(index)"]}]"#)
        }
        setup.expectAll(running, at: serial, within: 10)
        var entry = try setup.status(of: stopped)
        let deadline = Date().addingTimeInterval(15)
        while entry?["last_error"] == .null && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            entry = try setup.status(of: stopped)
        }
        #expect(entry?["in_sync"]?.boolValue == false)
        #expect(entry?["last_error"]?.stringValue?.isEmpty == false, "\(String(describing: entry))")
        #expect(try setup.status()["in_sync"]?.boolValue == false)

        try stopped.start()
        setup.expectAll([stopped], at: serial, within: 30)
        #expect(try Self.answers(stopped, "host3.e2e.test.", .a) == ["192.0.2.3"])
    }

    @Test("zonectl killed with SIGKILL after acknowledging a change, before its NOTIFY: after restart the NOTIFY goes out and every secondary updates")
    func killedBeforeNotify() throws {
        // The NOTIFY delay holds every NOTIFY back 3 s, so the kill surely comes first.
        let setup = try Setup(zonectlArguments: ["--notify-delay-ms", "3000"])
        defer { setup.stop() }
        let before = try setup.serial
        setup.expectAll(at: before, within: 30)

        let serial = try setup.change(#"[{"action": "replace", "name": "www.e2e.test.", "type": "A", "records": ["192.0.2.77"]}]"#)
        setup.server.kill()

        // Owed, and not sent: in the database, and on the secondaries.
        let db = try PostgresConnection(conninfo: setup.server.conninfo)
        defer { db.close() }
        let owed = try db.query("SELECT count(*) AS n FROM propagation_state WHERE target_serial = $1 AND notified_serial IS NULL",
                                [.int(Int64(serial))]).rows[0].int("n")
        #expect(owed == 3)
        Thread.sleep(forTimeInterval: 1)
        for secondary in setup.secondaries {
            #expect(secondary.soaSerial(of: Self.zone) == before, "\(secondary.kind) moved without a NOTIFY")
        }

        try setup.server.start()
        setup.expectAll(at: serial, within: 30)
        for secondary in setup.secondaries {
            #expect(try Self.answers(secondary, "www.e2e.test.", .a) == ["192.0.2.77"], "\(secondary.kind)")
        }
    }
}

/// Zone contents through `dig` and `named-compilezone`, tools nobody on this project wrote.
enum DigRecords {
    /// The records of zone-file text (an export, or dig's AXFR output with its closing SOA) in
    /// named-compilezone's full canonical form, one sorted line each.
    static func canonical(_ text: String, zone: String) throws -> [String] {
        var seen: Set<String> = []
        let unique = text.split(separator: "\n").map(String.init).filter { seen.insert($0).inserted }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("canonical-\(UUID().uuidString).zone")
        try (unique.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try ChildProcess.run("named-compilezone", ["-q", "-i", "none", "-s", "full", "-o", "-", zone, file.path])
        guard result.status == 0 else {
            throw HarnessFailure("named-compilezone refused the zone: \(result.output) \(result.error)\n\(unique.joined(separator: "\n"))")
        }
        return result.output.split(separator: "\n")
            .map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
            .filter { !$0.isEmpty }
            .sorted()
    }

    static func axfr(port: UInt16, zone: String) throws -> [String] {
        let result = try ChildProcess.run("dig", ["@127.0.0.1", "-p", String(port), zone, "AXFR", "+noall", "+answer"])
        return try canonical(result.output, zone: zone)
    }

    /// dig's IXFR answer lines, fields separated by one tab.
    static func ixfrLines(port: UInt16, zone: String, from serial: UInt32) throws -> [String] {
        let result = try ChildProcess.run("dig", ["@127.0.0.1", "-p", String(port), zone, "IXFR=\(serial)", "+noall", "+answer"])
        return result.output.split(separator: "\n").map { String($0).split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: "\t") }
    }
}

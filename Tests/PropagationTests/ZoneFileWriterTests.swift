import DNSModel
import DNSWire
import Foundation
import HTTPServer
import IntegrationHarness
import Testing

/// `zonectl serve --zone-dir`: zone files on disk for a primary that reads files.
@Suite("Zone files on disk", .serialized)
struct ZoneFileWriterTests {
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zone-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The serial of a zone file, as named-checkzone reads it (nil when it does not load).
    static func fileSerial(_ path: String, zone: String) -> UInt32? {
        guard let result = try? ChildProcess.run("named-checkzone", ["-i", "local", zone, path]), result.status == 0,
              let range = result.output.range(of: "loaded serial ") else { return nil }
        return UInt32(result.output[range.upperBound...].prefix { $0.isNumber })
    }

    static func wait(seconds: Double, until condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    @Test("after a burst of 200 changes the file holds the final serial and passes named-checkzone, written far fewer than 200 times; a named reading the directory serves it after the hook's rndc reload")
    func burst() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let controlPort = FreePort.tcp()
        let namedPort = FreePort.tcpAndUDP()
        let keyFile = directory.appendingPathComponent("rndc.key").path
        try #"key "rndc-key" { algorithm hmac-sha256; secret "\#(Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())"; };"#
            .write(toFile: keyFile, atomically: true, encoding: .utf8)
        let runs = directory.appendingPathComponent("hook-runs").path
        let hook = "echo %z >> \(runs) && rndc -s 127.0.0.1 -p \(controlPort) -k \(keyFile) reload %z"
        let server = try ZonectlServer(extraArguments: ["--zone-dir", directory.path, "--after-write", hook, "--after-write-timeout", "10"])
        defer { server.stop() }
        let account = try server.must(201, "POST", "/v1/accounts", #"{"name": "files"}"#)["id"]?.intValue ?? 0
        try server.must(201, "POST", "/v1/zones", #"{"name": "burst.test.", "account_id": \#(account), "serial_policy": "increment"}"#)
        let file = directory.appendingPathComponent("burst.test.zone").path
        #expect(try Self.wait(seconds: 20) { FileManager.default.fileExists(atPath: file) }, "\(server.log.suffix(2000))")

        // A real primary reading the directory, reloaded by the hook.
        let namedDirectory = directory.appendingPathComponent("named")
        try FileManager.default.createDirectory(at: namedDirectory, withIntermediateDirectories: true)
        let config = """
            include "\(keyFile)";
            controls { inet 127.0.0.1 port \(controlPort) allow { 127.0.0.1; } keys { "rndc-key"; }; };
            options {
              directory "\(namedDirectory.path)"; pid-file "\(namedDirectory.path)/named.pid";
              listen-on port \(namedPort) { 127.0.0.1; }; listen-on-v6 { none; };
              recursion no; dnssec-validation no; notify no;
            };
            zone "burst.test" { type primary; file "\(file)"; };
            """
        let configFile = namedDirectory.appendingPathComponent("named.conf").path
        try config.write(toFile: configFile, atomically: true, encoding: .utf8)
        let named = try ChildProcess("named", ["-c", configFile, "-g", "-u", "root", "-n", "1"])
        defer {
            named.signal(SIGTERM)
            _ = try? named.wait(timeoutSeconds: 10)
        }
        let zone = try DomainName(presentation: "burst.test.", origin: .root)
        let namedClient = DNSTestClient(port: namedPort)
        #expect(try Self.wait(seconds: 20) { (try? namedClient.udp(.query(id: 1, name: zone, type: .soa)))?.rcode == .noError },
                "named did not load the file: \(named.standardError.suffix(2000))")

        var serial: UInt32 = 0
        for index in 0..<200 {
            let reply = try server.must(200, "PATCH", "/v1/zones/burst.test/rrsets",
                                        #"{"changes": [{"action": "replace", "name": "burst.test.", "type": "TXT", "records": ["\"change \#(index)\""]}, {"action": "add", "name": "h\#(index % 20).burst.test.", "type": "A", "records": ["192.0.2.\#(index)"]}]}"#)
            serial = UInt32(reply["serial"]?.intValue ?? 0)
        }
        #expect(Self.wait(seconds: 30) { Self.fileSerial(file, zone: "burst.test.") == serial })
        let check = try ChildProcess.run("named-checkzone", ["-i", "full", "-k", "fail", "burst.test.", file])
        #expect(check.status == 0, "\(check.output)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains("\"change 199\""))

        // Coalesced: one write per burst window, not one per change.
        let hookRuns = ((try? String(contentsOfFile: runs, encoding: .utf8)) ?? "").split(separator: "\n").count
        #expect(hookRuns >= 2 && hookRuns < 100, "the hook ran \(hookRuns) times for 201 changes")

        // named serves the final serial: the last hook run reloaded it.
        #expect(try Self.wait(seconds: 20) {
            (try? namedClient.udp(.query(id: 2, name: zone, type: .soa)))?.answerSOA(for: zone)?.serial.rawValue == serial
        }, "named: \(named.standardError.suffix(2000))")
        // The write is recorded after the hook returns, which may be just after named reloaded.
        #expect(try Self.wait(seconds: 20) {
            try server.must(200, "GET", "/v1/zones/burst.test/status")["zone_file"]?["serial"]?.intValue == Int64(serial)
        })
        let status = try server.must(200, "GET", "/v1/zones/burst.test/status")
        #expect(status["zone_file"]?["serial"]?.intValue == Int64(serial))
        #expect(status["zone_file"]?["hook_error"] == .null, "\(status)")
        // No temporary file is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("a failing hook is shown in the zone's status; deleting the zone removes its file")
    func failingHookAndDeletion() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ZonectlServer(extraArguments: ["--zone-dir", directory.path, "--after-write", "echo cannot reload %z >&2; exit 3"])
        defer { server.stop() }
        let account = try server.must(201, "POST", "/v1/accounts", #"{"name": "files"}"#)["id"]?.intValue ?? 0
        try server.must(201, "POST", "/v1/zones", #"{"name": "hook.test.", "account_id": \#(account)}"#)
        let file = directory.appendingPathComponent("hook.test.zone").path
        var hookError = ""
        #expect(try Self.wait(seconds: 20) {
            hookError = try server.must(200, "GET", "/v1/zones/hook.test/status")["zone_file"]?["hook_error"]?.stringValue ?? ""
            return !hookError.isEmpty
        })
        #expect(hookError.contains("exited with status 3") && hookError.contains("cannot reload hook.test"), "\(hookError)")
        #expect(FileManager.default.fileExists(atPath: file))

        try server.must(204, "DELETE", "/v1/zones/hook.test")
        #expect(Self.wait(seconds: 20) { !FileManager.default.fileExists(atPath: file) })
    }

    @Test("--after-write without --zone-dir, or a directory that cannot be written, stops serve with a message")
    func badConfiguration() throws {
        let conninfo = try PostgresCluster.shared().createDatabase()
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = conninfo
        environment["ZONECTL_MIGRATIONS"] = ZonectlServer.repositoryRoot.appendingPathComponent("migrations").path
        for arguments in [["--after-write", "true"], ["--zone-dir", "/nonexistent/zones"]] {
            let serve = try ChildProcess(ZonectlServer.binary, ["serve", "--migrate", "--port", "0", "--dns-port", "0"] + arguments,
                                         environment: environment)
            #expect(try serve.wait(timeoutSeconds: 60) != 0)
            #expect(serve.standardError.contains(arguments[0]), "\(serve.standardError)")
        }
    }
}

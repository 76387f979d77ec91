import DNSModel
import DNSWire
import Foundation
import IntegrationHarness

/// A real BIND 9 `named` on a free loopback port, authoritative for the zones it is given,
/// with TSIG keys. Started by a test and stopped by it (`stop`, also when the test fails).
final class NamedServer: @unchecked Sendable {
    struct Zone {
        let name: String
        let text: String
        /// Extra statements inside the zone block (ACLs).
        let options: String
    }

    let port: UInt16
    let directory: URL
    private let process: ChildProcess

    /// `port` reuses a port, to start a new server where a stopped one was (a primary restarted
    /// with new zone text, as its secondaries see it); a free one is picked otherwise.
    init(zones: [Zone], keys: [TSIGKey], port: UInt16? = nil) throws {
        self.port = port ?? FreePort.tcpAndUDP()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wire-named-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = ""
        for key in keys {
            config += "key \"\(key.name.description.dropLast())\" { algorithm \(key.algorithm.rawValue); secret \"\(key.base64Secret)\"; };\n"
        }
        config += """
            options {
              directory "\(directory.path)";
              pid-file "\(directory.path)/named.pid";
              session-keyfile "\(directory.path)/session.key";
              listen-on port \(self.port) { 127.0.0.1; };
              listen-on-v6 { none; };
              recursion no;
              dnssec-validation no;
              notify no;
            };
            controls { };

            """
        for zone in zones {
            let file = directory.appendingPathComponent("\(zone.name).zone")
            try zone.text.write(to: file, atomically: true, encoding: .utf8)
            config += "zone \"\(zone.name)\" { type primary; file \"\(file.path)\"; \(zone.options) };\n"
        }
        let configFile = directory.appendingPathComponent("named.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        process = try ChildProcess("named", ["-c", configFile.path, "-g", "-u", "root", "-n", "1"])
        do {
            try LoopbackDNS.waitUntilAnswering(process, name: "named", port: self.port, zone: zones[0].name) { $0.rcode != .serverFailure }
        } catch {
            stop()
            throw error
        }
    }

    func stop() {
        LoopbackDNS.stop(process, removing: directory)
    }

    var log: String { process.standardError }
}

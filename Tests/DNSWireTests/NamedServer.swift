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

    init(zones: [Zone], keys: [TSIGKey]) throws {
        port = FreePort.tcpAndUDP()
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
              listen-on port \(port) { 127.0.0.1; };
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
            try waitUntilAnswering(zone: zones[0].name)
        } catch {
            stop()
            throw error
        }
    }

    /// Ready when it answers a SOA query (not after a fixed sleep).
    private func waitUntilAnswering(zone: String) throws {
        let query = DNSMessage.query(id: 1, name: try DomainName(presentation: zone + ".", origin: nil), type: .soa).encode()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else {
                throw LoopbackError("named exited at start: \(process.standardError.suffix(2000))")
            }
            if let reply = try LoopbackDNS.udp(query, port: port, timeout: 0.2), let message = try? DNSMessage.decode(reply), message.rcode != .serverFailure {
                return
            }
        }
        throw LoopbackError("named did not answer within 30 s: \(process.standardError.suffix(2000))")
    }

    func stop() {
        process.signal(SIGTERM)
        if (try? process.wait(timeoutSeconds: 15)) == nil {
            process.signal(SIGKILL)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    var log: String { process.standardError }
}

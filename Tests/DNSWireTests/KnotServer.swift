import DNSModel
import DNSWire
import Foundation
import IntegrationHarness

/// A real Knot DNS `knotd` on a free loopback port, primary for the zones it is given; each
/// zone is open to transfers from loopback, or only with `transferKey` when one is named.
final class KnotServer: @unchecked Sendable {
    struct Zone {
        let name: String
        let text: String
        let transferKey: TSIGKey?
    }

    let port: UInt16
    let directory: URL
    private let process: ChildProcess

    init(zones: [Zone]) throws {
        port = FreePort.tcpAndUDP()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wire-knot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keys = zones.compactMap(\.transferKey)
        var config = """
            server:
                listen: 127.0.0.1@\(port)
                rundir: \(directory.path)
                pidfile: \(directory.path)/knot.pid
            database:
                storage: \(directory.path)
            log:
              - target: stderr
                any: warning

            """
        if !keys.isEmpty {
            config += "key:\n"
            for key in keys {
                config += "  - id: \(key.name)\n    algorithm: \(key.algorithm.rawValue)\n    secret: \(key.base64Secret)\n"
            }
        }
        config += "acl:\n  - id: loopback\n    address: 127.0.0.0/8\n    action: transfer\n"
        for key in keys {
            config += "  - id: keyed-\(key.name)\n    key: \(key.name)\n    action: transfer\n"
        }
        config += "zone:\n"
        for zone in zones {
            let file = directory.appendingPathComponent("\(zone.name).zone")
            try zone.text.write(to: file, atomically: true, encoding: .utf8)
            let acl = zone.transferKey.map { "keyed-\($0.name)" } ?? "loopback"
            config += "  - domain: \(zone.name)\n    file: \(file.path)\n    acl: \(acl)\n    zonefile-sync: -1\n    journal-content: none\n    semantic-checks: off\n"
        }
        let configFile = directory.appendingPathComponent("knot.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        process = try ChildProcess("knotd", ["-c", configFile.path])
        do {
            try LoopbackDNS.waitUntilAnswering(process, name: "knotd", port: port, zone: zones[0].name) { $0.rcode == .noError }
        } catch {
            stop()
            throw error
        }
    }

    func stop() {
        LoopbackDNS.stop(process, removing: directory)
    }
}

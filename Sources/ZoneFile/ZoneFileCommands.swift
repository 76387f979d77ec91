import DNSModel
import Foundation

/// `zonectl zonefile check` and `zonectl zonefile format`, as functions the binary's argument
/// parser calls; they return the process exit code.
///
/// Exit codes: 0 the zone is valid (and, for `format`, was written); 1 the zone has errors (each
/// on stderr as `FILE:LINE: message [rule]`); 2 the command could not run (unreadable file,
/// origin that is not a domain name). `-` as the path reads standard input.
public enum ZoneFileCommands {
    /// Parses and checks the file; prints every error, or a one-line summary on success.
    public static func check(origin: String, path: String) -> Int32 {
        guard let (apex, bytes) = load(origin: origin, path: path) else { return 2 }
        switch ZoneFileParser.parse(bytes, origin: apex) {
        case .failure(let failure):
            report(failure.errors, path: path, kind: nil)
            writeStandardError("\(displayName(path)): zone \(apex) has \(failure.errors.count) error\(failure.errors.count == 1 ? "" : "s")\n")
            return 1
        case .success(let zone):
            report(zone.warnings, path: path, kind: "warning")
            var summary = "zone \(apex): \(zone.records.count) records in \(zone.rrsets.count) RRsets"
            if let serial = soaSerial(zone) {
                summary += ", serial \(serial)"
            }
            writeStandardOutput(Array((summary + ": OK\n").utf8))
            return 0
        }
    }

    /// Parses the file and writes its canonical rendering to standard output.
    public static func format(origin: String, path: String) -> Int32 {
        guard let (apex, bytes) = load(origin: origin, path: path) else { return 2 }
        switch ZoneFileParser.parse(bytes, origin: apex) {
        case .failure(let failure):
            report(failure.errors, path: path, kind: nil)
            return 1
        case .success(let zone):
            report(zone.warnings, path: path, kind: "warning")
            let renderer = ZoneFileRenderer(origin: apex, defaultTTL: mostCommonTTL(zone.rrsets))
            var buffer = renderer.header()
            buffer.reserveCapacity(1 << 16)
            for rrset in zone.rrsets {
                renderer.render(rrset, into: &buffer)
                if buffer.count >= 1 << 16 {
                    writeStandardOutput(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            writeStandardOutput(buffer)
            return 0
        }
    }

    /// The TTL most RRsets have, so the rendering leaves the TTL column out on most lines.
    static func mostCommonTTL(_ rrsets: [RRset]) -> UInt32 {
        var counts: [UInt32: Int] = [:]
        for rrset in rrsets { counts[rrset.ttl, default: 0] += 1 }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? 3600
    }

    static func soaSerial(_ zone: ParsedZone) -> UInt32? {
        guard let soa = zone.rrsets.first(where: { $0.type == .soa && $0.owner == zone.origin })?.rdatas.first else {
            return nil
        }
        let wire = soa.wire
        guard wire.count >= 20 else { return nil }
        return wire[(wire.count - 20)..<(wire.count - 16)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    private static func load(origin: String, path: String) -> (DomainName, [UInt8])? {
        let apex: DomainName
        do {
            // The origin on the command line is absolute whether or not it ends in a dot, and
            // may be written in Unicode (converted to its A-labels).
            apex = try DomainName(userInput: origin)
        } catch {
            writeStandardError("zonectl: origin '\(origin)' is not a domain name: \(error)\n")
            return nil
        }
        if path == "-" {
            return (apex, [UInt8](FileHandle.standardInput.readDataToEndOfFile()))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            writeStandardError("zonectl: cannot read \(path): no such file or not readable\n")
            return nil
        }
        return (apex, [UInt8](data))
    }

    private static func displayName(_ path: String) -> String {
        path == "-" ? "(stdin)" : path
    }

    private static func report(_ problems: [ZoneFileError], path: String, kind: String?) {
        guard !problems.isEmpty else { return }
        var text = ""
        for problem in problems {
            text += "\(displayName(path)):\(problem.line): "
            if let kind { text += "\(kind): " }
            text += "\(problem.message) [\(problem.rule)]\n"
        }
        writeStandardError(text)
    }

    private static func writeStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func writeStandardOutput(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        FileHandle.standardOutput.write(Data(bytes))
    }
}

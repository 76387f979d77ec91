import API
import DNSModel
import Foundation

/// A setting given by flag, else by environment variable, else a default: the order every
/// sub-command documents in its --help.
enum Settings {
    static func string(_ flag: String?, env name: String) -> String? {
        if let flag { return flag }
        if let value = ProcessInfo.processInfo.environment[name], !value.isEmpty { return value }
        return nil
    }

    static func int(_ flag: Int?, env name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        let value: Int
        if let flag {
            value = flag
        } else if let text = ProcessInfo.processInfo.environment[name], !text.isEmpty {
            guard let parsed = Int(text) else { throw SettingError("\(name) must be a whole number, not '\(text)'") }
            value = parsed
        } else {
            value = fallback
        }
        guard range.contains(value) else {
            throw SettingError("\(name.lowercased().replacingOccurrences(of: "zonectl_", with: "").replacingOccurrences(of: "_", with: "-")) must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
        return value
    }

    static func databaseURL(_ flag: String?) throws -> String {
        guard let url = string(flag, env: "DATABASE_URL") else {
            throw SettingError("no database: pass --database-url or set DATABASE_URL (e.g. postgresql://user@127.0.0.1/zonectl)")
        }
        return url
    }
}

extension Settings {
    /// SOA and apex NS of new zones; the placeholders under .invalid when nothing is configured.
    static func zoneDefaults(mname: String?, rname: String?, nameservers: String?) throws -> ZoneDefaults {
        var defaults = ZoneDefaults.placeholder
        if let text = string(mname, env: "ZONECTL_SOA_MNAME") {
            defaults.mname = try name(text, setting: "soa-mname")
        }
        if let text = string(rname, env: "ZONECTL_SOA_RNAME") {
            defaults.rname = try name(text, setting: "soa-rname")
        }
        if let text = string(nameservers, env: "ZONECTL_NAMESERVERS") {
            let names = try text.split(separator: ",").map { try name($0.trimmingCharacters(in: .whitespaces), setting: "nameservers") }
            guard !names.isEmpty else { throw SettingError("nameservers must name at least one server") }
            defaults.nameservers = names
        }
        return defaults
    }

    private static func name(_ text: String, setting: String) throws -> DomainName {
        do {
            return try DomainName(userInput: text)
        } catch {
            throw SettingError("\(setting) '\(text)' is not a domain name: \(error)")
        }
    }
}

struct SettingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation

/// A TSIG key a secondary uses to sign its transfer requests (and to check the primary's
/// NOTIFY), in the form the servers' configuration files take it.
public struct SecondaryTSIGKey: Sendable {
    /// "xfr-key." or "xfr-key": the servers treat both as the same domain name.
    public let name: String
    /// "hmac-sha256" or "hmac-sha512" (the spelling all three servers accept).
    public let algorithm: String
    public let base64Secret: String

    public init(name: String, algorithm: String, base64Secret: String) {
        self.name = name
        self.algorithm = algorithm
        self.base64Secret = base64Secret
    }

    /// Without the trailing dot: every configuration refers to the key by this one spelling.
    var configName: String { name.hasSuffix(".") ? String(name.dropLast()) : name }
}

public enum SecondaryKind: String, Sendable, CaseIterable {
    case bind, knot, nsd
}

/// The configuration file of each secondary, and which files it keeps between runs.
///
/// How quickly each one notices a change (measured here with BIND 9.18.49, Knot 3.2.6,
/// NSD 4.6.1, a BIND primary on loopback):
/// - NOTIFY: all three ask the primary at once when a NOTIFY comes, also before their first
///   transfer; each reached a new serial within about 1 s of the primary's NOTIFY.
/// - A failed refresh (primary down, or not serving the zone yet) is retried after the SOA's
///   RETRY (normally minutes, with back-off). Capped here at 2 s: BIND `min-retry-time 1;
///   max-retry-time 2;` (its min-retry-time defaults to 300 and would win), Knot
///   `retry-max-interval: 2` (also bounds its bootstrap retries before the first transfer),
///   NSD `max-retry-time: 2` (bounds also its exponential back-off, XFRD_TRANSFER_TIMEOUT_START
///   10 s doubling, used while it has no SOA).
///   Exception: BIND before its first transfer has no SOA to clamp and retries after its
///   built-in DNS_ZONE_DEFAULTRETRY (60 s, minus jitter; about 55 s seen) — a fresh BIND
///   secondary whose primary was down gets the zone from the next NOTIFY, not from a retry.
/// - Restart: BIND loads its zone file and schedules the first refresh within the zone's
///   retry interval, so the retry cap above also makes it ask quickly (seen: 2.0 s; with
///   BIND's default bounds and SOA retry 600, nothing within 22 s). Knot keeps its refresh
///   timers in `storage/timers` and NSD in `xfrdfile`; started with them, both wait for the
///   old refresh time (up to the SOA's REFRESH; nothing within 30 s seen). `start()` deletes
///   those two files first, so both refresh at start (seen: 0.1–0.5 s). Zone data stays.
/// - Refresh intervals are left to the SOA: no polling every few seconds, so the primary sees
///   only the queries NOTIFY, start-up and retries cause.
///
/// Catalog zones (RFC 9432 version 2; BIND and Knot only, measured with the same versions and
/// a BIND primary restarted with a new catalog text, which NOTIFYs the catalog and its zones):
/// - A member new in the catalog: both transfer the catalog on its NOTIFY, add the member and
///   transfer it at once (no NOTIFY for the member needed). From the primary's restart (it
///   answered after 0.1 s), in CatalogSecondaryTests over 3 runs: Knot 0.6 s, BIND 1.1 s.
///   About 0.5 s of that is the BIND primary pacing its start-up NOTIFYs (its log: 0.5 s
///   between one zone's NOTIFY and the next); BIND starts the new member's transfer about 0.5 s
///   after adding it. BIND's catalog processing is rate-limited by `min-update-interval`
///   (default 5 s, set to 1 s here). At first start: Knot 0.1 s, BIND 0.5 s.
/// - A member removed from the catalog: both stop serving it about 0.6 s after the primary's
///   restart (the same NOTIFY pacing) and answer its queries with REFUSED, so
///   `soaSerial(of:)` is nil. Knot purges its files; BIND deletes the zone. Neither brings it
///   back over a restart.
/// - Pointing an existing unique id (`<id>.zones PTR`) at another zone confused BIND 9.18
///   here: it deleted the other member that had the new target and kept serving the old
///   zone, no longer tied to the catalog (Knot handled it). A producer should give each member
///   its own id and remove the id with the member, never repoint it.
/// - Knot answers queries for the catalog zone itself with REFUSED; BIND serves it.
enum SecondaryConfiguration {
    /// Retry cap in seconds for failed refreshes (see above).
    static let retrySeconds = 2

    /// The file written into `directory` and the command line that runs the server on it.
    /// `catalog` (BIND and Knot only; the caller refuses it for NSD): see `bind` and `knot`.
    static func render(
        kind: SecondaryKind, zones: [String], port: UInt16, primaryPort: UInt16, key: SecondaryTSIGKey?,
        directory: String, catalog: String? = nil
    ) -> (fileName: String, text: String, arguments: [String]) {
        switch kind {
        case .bind:
            let file = directory + "/named.conf"
            return ("named.conf",
                    bind(zones: zones, port: port, primaryPort: primaryPort, key: key, directory: directory, catalog: catalog),
                    ["-c", file, "-g", "-u", "root", "-n", "1"])
        case .knot:
            let file = directory + "/knot.conf"
            return ("knot.conf",
                    knot(zones: zones, port: port, primaryPort: primaryPort, key: key, directory: directory, catalog: catalog),
                    ["-c", file])
        case .nsd:
            let file = directory + "/nsd.conf"
            return ("nsd.conf", nsd(zones: zones, port: port, primaryPort: primaryPort, key: key, directory: directory),
                    ["-c", file, "-d"])
        }
    }

    static func executable(_ kind: SecondaryKind) -> String {
        switch kind {
        case .bind: "named"
        case .knot: "knotd"
        case .nsd: "nsd"
        }
    }

    /// The server's own configuration checker, run on the file before the first start.
    static func checker(_ kind: SecondaryKind, configFile: String) -> (String, [String]) {
        switch kind {
        case .bind: ("named-checkconf", [configFile])
        case .knot: ("knotc", ["-c", configFile, "conf-check"])
        case .nsd: ("nsd-checkconf", [configFile])
        }
    }

    /// Files that hold refresh timers or a pid from the previous run, removed before each
    /// start (see the type's comment); zone data is kept.
    static func runStateFiles(_ kind: SecondaryKind, directory: String) -> [String] {
        switch kind {
        case .bind: [directory + "/named.pid"]
        case .knot: [directory + "/timers"]
        case .nsd: [directory + "/xfrd.state", directory + "/nsd.pid"]
        }
    }

    /// The zone's storage file name inside the directory: "example.test." → "example.test.db".
    static func zoneFile(_ zone: String) -> String {
        (zone.hasSuffix(".") ? zone : zone + ".") + "db"
    }

    static func absolute(_ zone: String) -> String { zone.hasSuffix(".") ? zone : zone + "." }

    // MARK: BIND 9.18

    /// `masterfile-format text` keeps the transferred zone readable for whoever debugs a test
    /// (BIND's default for secondaries is raw). A primary in `primaries` may always NOTIFY in
    /// BIND (by address), so allow-notify cannot make BIND insist on the key; with a key it
    /// still checks a signed NOTIFY's signature.
    ///
    /// With a catalog: `catalog-zones` in options names it, with the primary as
    /// `default-primaries` of every member (members take their other options, allow-transfer
    /// and allow-notify, from options), their files in the server's directory
    /// (`__catz__…db`, and the list of added zones in `_default.nzd`, so a restart keeps them),
    /// and `min-update-interval 1` (default 5 s: a catalog change within 5 s of the previous one
    /// would wait that long). The catalog itself is an ordinary secondary zone.
    static func bind(
        zones: [String], port: UInt16, primaryPort: UInt16, key: SecondaryTSIGKey?, directory: String, catalog: String? = nil
    ) -> String {
        var text = ""
        if let key {
            text += "key \"\(key.configName)\" { algorithm \(key.algorithm); secret \"\(key.base64Secret)\"; };\n"
        }
        let primary = "127.0.0.1 port \(primaryPort)" + (key.map { " key \"\($0.configName)\"" } ?? "")
        let notifiers = key.map { "key \"\($0.configName)\";" } ?? "127.0.0.1;"
        var catalogOptions = ""
        if let catalog {
            catalogOptions = """

                  // catalog members inherit these two
                  allow-notify { \(notifiers) };
                  catalog-zones {
                    zone "\(absolute(catalog))" default-primaries { \(primary); } zone-directory "\(directory)" in-memory no min-update-interval 1;
                  };
                """
        }
        text += """
            options {
              directory "\(directory)";
              pid-file "\(directory)/named.pid";
              session-keyfile "\(directory)/session.key";
              listen-on port \(port) { 127.0.0.1; };
              listen-on-v6 { none; };
              recursion no;
              dnssec-validation no;
              notify no;
              masterfile-format text;
              // tests compare what a secondary holds with dig AXFR from loopback
              allow-transfer { 127.0.0.1; };
              min-retry-time 1;
              max-retry-time \(retrySeconds);\(catalogOptions)
            };
            controls { };

            """
        for zone in (catalog.map { [$0] } ?? []) + zones {
            text += """
                zone "\(absolute(zone))" {
                  type secondary;
                  primaries { \(primary); };
                  allow-notify { \(notifiers) };
                  file "\(directory)/\(zoneFile(zone))";
                };

                """
        }
        return text
    }

    // MARK: Knot 3.2

    /// knotd stays in the foreground without -d and logs to stderr. `master:` is still the
    /// 3.2 name of the primary list.
    ///
    /// With a catalog: the catalog zone has `catalog-role: interpret` and every member gets the
    /// `catalog-member` template (same primary, ACLs, storage and retry cap as an explicit
    /// zone; file `<zone>.db`). Knot keeps the member list in `<storage>/catalog`, so a restart
    /// keeps the members; a member removed from the catalog is purged (zone file, journal,
    /// timers). Knot answers queries for the catalog zone itself with REFUSED (it serves the
    /// catalog only by transfer), so `soaSerial(of: catalog)` is nil on Knot.
    static func knot(
        zones: [String], port: UInt16, primaryPort: UInt16, key: SecondaryTSIGKey?, directory: String, catalog: String? = nil
    ) -> String {
        var text = """
            server:
                listen: 127.0.0.1@\(port)
                rundir: \(directory)
            database:
                storage: \(directory)
            log:
              - target: stderr
                any: info

            """
        if let key {
            text += """
                key:
                  - id: \(key.configName)
                    algorithm: \(key.algorithm)
                    secret: \(key.base64Secret)

                """
        }
        let keyLine = key.map { "\n    key: \($0.configName)" } ?? ""
        text += """
            remote:
              - id: primary
                address: 127.0.0.1@\(primaryPort)\(keyLine)
            acl:
              - id: notify-from-primary
                address: 127.0.0.1\(keyLine)
                action: notify
              - id: transfer-to-tests
                address: 127.0.0.1
                action: transfer

            """
        let secondaryOptions = """
                master: primary
                acl: [notify-from-primary, transfer-to-tests]
                storage: \(directory)
                retry-max-interval: \(retrySeconds)
            """
        if catalog != nil {
            // "%s" is the member's name without the final dot, as zoneFile(_:) names files.
            text += """
                template:
                  - id: catalog-member
                \(secondaryOptions)
                    file: "%s.db"

                """
        }
        text += "zone:\n"
        if let catalog {
            text += """
                  - domain: \(absolute(catalog))
                \(secondaryOptions)
                    file: \(zoneFile(catalog))
                    catalog-role: interpret
                    catalog-template: catalog-member

                """
        }
        for zone in zones {
            text += """
                  - domain: \(absolute(zone))
                \(secondaryOptions)
                    file: \(zoneFile(zone))

                """
        }
        return text
    }

    // MARK: NSD 4.6

    /// NSD keeps secondary zones in its database file, which it updates with each transfer
    /// before serving it. Not `database: ""` (zone files only): then a transferred zone reaches
    /// disk only at the next `zonefiles-write` tick, and NSD 4.6.1 does not write it on SIGTERM —
    /// seen here: a secondary stopped 0.15 s after a transfer came back without the zone.
    /// `-d` keeps NSD in the foreground; it logs to `logfile`.
    static func nsd(zones: [String], port: UInt16, primaryPort: UInt16, key: SecondaryTSIGKey?, directory: String) -> String {
        var text = """
            server:
                ip-address: 127.0.0.1@\(port)
                do-ip6: no
                username: ""
                database: "\(directory)/nsd.db"
                zonesdir: "\(directory)"
                zonelistfile: "\(directory)/zone.list"
                xfrdfile: "\(directory)/xfrd.state"
                xfrdir: "\(directory)"
                pidfile: "\(directory)/nsd.pid"
                logfile: "\(directory)/nsd.log"
                verbosity: 2
            remote-control:
                control-enable: no

            """
        if let key {
            text += """
                key:
                    name: "\(key.configName)"
                    algorithm: \(key.algorithm)
                    secret: "\(key.base64Secret)"

                """
        }
        let keyName = key?.configName ?? "NOKEY"
        for zone in zones {
            text += """
                zone:
                    name: "\(absolute(zone))"
                    request-xfr: 127.0.0.1@\(primaryPort) \(keyName)
                    provide-xfr: 127.0.0.1 NOKEY
                    allow-notify: 127.0.0.1 \(keyName)
                    max-retry-time: \(retrySeconds)

                """
        }
        return text
    }
}

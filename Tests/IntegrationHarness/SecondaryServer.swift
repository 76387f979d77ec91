import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why a secondary could not be configured or started, with what it logged.
public struct SecondaryServerError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A real BIND 9 (`named`), Knot DNS (`knotd`) or NSD (`nsd`) running as a secondary of a
/// primary on 127.0.0.1 (zonectl, or another server in tests), on a free loopback port of its
/// own. Configured once, then started, stopped and started again on the same port with the
/// same files, as an operator restarts a server. Its zones are kept on disk, so a restarted
/// secondary serves what it had and asks the primary for newer at once (see
/// `SecondaryConfiguration` for the options that make each server quick).
///
/// Every start must be matched by a `stop` (a `defer` right after `start()`); anything still
/// running when the test process exits is killed then.
public final class SecondaryServer: @unchecked Sendable {
    public let kind: SecondaryKind
    /// Chosen once with `FreePort.tcpAndUDP()`, kept across restarts.
    public let port: UInt16
    /// The server's configuration, zone storage and logs; removed by `stop(removingFiles: true)`.
    public let directory: URL
    let zones: [String]
    /// The catalog zone whose members it serves, nil when it has only explicit zones.
    public let catalog: String?
    private let arguments: [String]
    private let state = Mutex(RunState())

    private struct RunState {
        var process: ChildProcess?
        /// The NSD processes the running one forked (xfrd, server child), to kill with it.
        var descendants: [pid_t] = []
        /// stdout and stderr of runs that ended, for `logText`.
        var earlierOutput = ""
        var filesRemoved = false
    }

    /// Configures (does not start) a secondary for `zones` (absolute names with trailing dot)
    /// whose primary is 127.0.0.1:`primaryPort`, transfers signed with `key` when given (the
    /// same key also authorises NOTIFY from the primary). The configuration is checked with
    /// the server's own checker (named-checkconf, knotc conf-check, nsd-checkconf).
    ///
    /// `catalog` (BIND and Knot; NSD 4.6 has no catalog zones and throws): the server is also a
    /// secondary of that catalog zone (RFC 9432 version 2) from the same primary, and serves
    /// every member zone the catalog lists, transferred from the same primary with the same key,
    /// dropping members the catalog no longer lists. `zones` may then be empty. How fast
    /// members come and go: see `SecondaryConfiguration`.
    public init(
        kind: SecondaryKind, zones: [String], primaryPort: UInt16, key: SecondaryTSIGKey? = nil, catalog: String? = nil
    ) throws {
        if let catalog {
            guard kind != .nsd else {
                throw SecondaryServerError(
                    "NSD 4.6 has no catalog zones: configure the nsd secondary with explicit zones instead of catalog \"\(catalog)\"")
            }
            guard SOASerialQuery.labels(of: catalog) != nil, catalog != ".", !catalog.contains("/") else {
                throw SecondaryServerError("cannot use \"\(catalog)\" as a catalog zone: give a plain absolute name like \"catalog.test.\"")
            }
        } else if zones.isEmpty {
            throw SecondaryServerError("a \(kind.rawValue) secondary needs at least one zone, or a catalog")
        }
        for zone in zones where SOASerialQuery.labels(of: zone) == nil || zone == "." || zone.contains("/") {
            throw SecondaryServerError("cannot configure a secondary for zone \"\(zone)\": give a plain absolute name like \"example.test.\"")
        }
        if let key, !["hmac-sha256", "hmac-sha512"].contains(key.algorithm) {
            throw SecondaryServerError("TSIG algorithm \(key.algorithm) of key \(key.name) is not one of hmac-sha256, hmac-sha512")
        }
        self.catalog = catalog.map(SecondaryConfiguration.absolute)
        self.kind = kind
        self.zones = zones.map(SecondaryConfiguration.absolute)
        port = FreePort.tcpAndUDP()
        // Short and under /tmp: NSD and Knot put sockets and state files there.
        directory = URL(fileURLWithPath: "/tmp/secondary-\(kind.rawValue)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let rendered = SecondaryConfiguration.render(
            kind: kind, zones: self.zones, port: port, primaryPort: primaryPort, key: key, directory: directory.path,
            catalog: self.catalog)
        arguments = rendered.arguments
        let configFile = directory.appendingPathComponent(rendered.fileName).path
        do {
            try rendered.text.write(toFile: configFile, atomically: true, encoding: .utf8)
            let (checker, checkArguments) = SecondaryConfiguration.checker(kind, configFile: configFile)
            let checked = try ChildProcess.run(checker, checkArguments, timeoutSeconds: 30)
            guard checked.status == 0 else {
                throw SecondaryServerError(
                    "\(checker) refused the \(kind.rawValue) configuration \(configFile) (\(checked.status)): "
                        + ChildProcess.tail(checked.error + checked.output))
            }
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        liveSecondaries.withLock { $0.append(SecondaryReference(self)) }
        registerExitCleanupOnce
    }

    deinit {
        stop()
    }

    // MARK: Running

    /// Starts the process and returns once it answers DNS queries on `port` (any rcode counts
    /// as answering), or throws with the tail of its log after 20 s (or when it exits).
    /// Does nothing when it is already running.
    public func start() throws {
        try state.withLock { state in
            if let process = state.process, process.isRunning { return }
            if state.filesRemoved {
                throw SecondaryServerError("the \(kind.rawValue) secondary's files were removed by stop(removingFiles: true); configure a new one")
            }
            if let process = state.process {
                state.earlierOutput += process.standardOutput + process.standardError
                state.process = nil
            }
            for file in SecondaryConfiguration.runStateFiles(kind, directory: directory.path) {
                try? FileManager.default.removeItem(atPath: file)
            }
            state.process = try ChildProcess(SecondaryConfiguration.executable(kind), arguments)
            state.descendants = []
        }
        let deadline = Date().addingTimeInterval(20)
        while true {
            guard let process = state.withLock({ $0.process }), process.isRunning else {
                let log = logText()
                stop()
                throw SecondaryServerError(
                    "\(SecondaryConfiguration.executable(kind)) (\(kind.rawValue) secondary on port \(port)) exited at start: "
                        + ChildProcess.tail(log))
            }
            if SOASerialQuery.answers(zone: zones.first ?? catalog ?? ".", port: port, timeout: 0.2) { break }
            if Date() >= deadline {
                let log = logText()
                stop()
                throw SecondaryServerError(
                    "\(kind.rawValue) secondary on port \(port) did not answer within 20 s: " + ChildProcess.tail(log))
            }
            usleep(20_000)
        }
        if kind == .nsd {
            // NSD forks its xfrd and server processes by the time it answers.
            state.withLock { state in
                if let process = state.process { state.descendants = Self.descendants(of: process.processIdentifier) }
            }
        }
    }

    /// SIGTERM, wait up to 10 s, then SIGKILL. Safe to call twice. `start()` may be called
    /// again afterwards (same port, same files) unless `removingFiles` deleted them.
    public func stop(removingFiles: Bool = false) {
        state.withLock { state in
            if let process = state.process, process.isRunning {
                // Children forked since start (NSD's reload process) are found now too.
                let descendants = Set(state.descendants + Self.descendants(of: process.processIdentifier))
                process.signal(SIGTERM)
                if (try? process.wait(timeoutSeconds: 10)) == nil {
                    process.signal(SIGKILL)
                }
                Self.killLeftovers(descendants)
            }
            state.descendants = []
            if removingFiles && !state.filesRemoved {
                try? FileManager.default.removeItem(at: directory)
                state.filesRemoved = true
            }
        }
    }

    public var isRunning: Bool {
        state.withLock { $0.process?.isRunning ?? false }
    }

    // MARK: Asking

    /// The serial of `zone`'s SOA as this server answers it (UDP query, AA answer with rcode
    /// NOERROR), nil when it does not serve the zone (SERVFAIL/REFUSED/NOTAUTH/no answer
    /// within 1 s).
    public func soaSerial(of zone: String) -> UInt32? {
        if case .serial(let serial) = SOASerialQuery.ask(zone: zone, port: port, timeout: 1) { return serial }
        return nil
    }

    /// Polls `soaSerial` every 10 ms until it is exactly `serial` or `timeout` seconds pass;
    /// returns whether it got there.
    public func waitForSerial(_ serial: UInt32, of zone: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if soaSerial(of: zone) == serial { return true }
            if Date() >= deadline { return false }
            usleep(10_000)
        }
    }

    /// Whether it answers `zone`'s SOA with authority now (`soaSerial` is not nil).
    public func servesZone(_ zone: String) -> Bool {
        soaSerial(of: zone) != nil
    }

    /// Polls every 10 ms until the server no longer serves `zone` (a member dropped from the
    /// catalog: BIND and Knot then answer REFUSED) or `timeout` seconds pass; returns whether
    /// it stopped serving it.
    public func waitUntilGone(_ zone: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if !servesZone(zone) { return true }
            if Date() >= deadline { return false }
            usleep(10_000)
        }
    }

    /// Polls every 10 ms until the server serves `zone` at any serial (a member new in the
    /// catalog) or `timeout` seconds pass; returns the serial it found, nil on timeout.
    public func waitUntilServed(_ zone: String, timeout: Double) -> UInt32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let serial = soaSerial(of: zone) { return serial }
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// The server's log so far, over all its runs (for failure messages).
    public func logText() -> String {
        let (earlier, current) = state.withLock { state in
            (state.earlierOutput, state.process.map { $0.standardOutput + $0.standardError } ?? "")
        }
        var text = earlier + current
        if kind == .nsd, let file = try? String(contentsOfFile: directory.path + "/nsd.log", encoding: .utf8) {
            text += file
        }
        return text
    }


    // MARK: Processes NSD leaves

    /// Processes whose parent is `pid`, and theirs, from /proc.
    static func descendants(of pid: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var parents: [pid_t: pid_t] = [:]
        for entry in entries {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // "pid (comm) state ppid …": comm may hold spaces, so read after its ")".
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[child] = parent }
        }
        var found: [pid_t] = []
        var frontier = [pid]
        while let next = frontier.popLast() {
            for (child, parent) in parents where parent == next {
                found.append(child)
                frontier.append(child)
            }
        }
        return found
    }

    /// SIGKILL to those of `pids` still alive as NSD (a pid reused by another program is left).
    static func killLeftovers(_ pids: Set<pid_t>) {
        for pid in pids {
            guard let name = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
                name.trimmingCharacters(in: .whitespacesAndNewlines) == "nsd"
            else { continue }
            kill(pid, SIGKILL)
        }
    }

    /// At exit, no time to be gentle: SIGKILL what tests left running.
    fileprivate func killAtExit() {
        guard let process = state.withLock({ $0.process }), process.isRunning else { return }
        let descendants = Set(Self.descendants(of: process.processIdentifier))
        kill(process.processIdentifier, SIGKILL)
        Self.killLeftovers(descendants)
    }
}

private final class SecondaryReference: @unchecked Sendable {
    weak var server: SecondaryServer?
    init(_ server: SecondaryServer) { self.server = server }
}

private let liveSecondaries = Mutex<[SecondaryReference]>([])

private let registerExitCleanupOnce: Void = {
    atexit {
        let servers = liveSecondaries.withLock { list in
            let all = list.compactMap(\.server)
            list.removeAll()
            return all
        }
        for server in servers { server.killAtExit() }
    }
}()

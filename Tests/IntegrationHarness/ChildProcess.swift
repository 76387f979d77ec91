import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process a test could not start or that did not finish in time.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A program a test runs (a server, a validator, the zonectl binary), with its standard output
/// and error captured in full. Both pipes are drained by threads of their own from the start, so
/// a chatty child never blocks on a full pipe.
///
/// Started with posix_spawn and reaped by a thread of its own rather than with Foundation's
/// `Process`: that one reaps children from a dispatch queue, and when synchronous tests occupy
/// every worker thread (two on a two-core machine) the child is never reaped and `wait` hangs.
public final class ChildProcess: @unchecked Sendable {
    public let executable: String
    public let arguments: [String]
    public let processIdentifier: pid_t
    private let output = CapturedStream()
    private let errors = CapturedStream()
    private let exit = ExitStatus()

    /// Starts `executable` (a path, or a name looked up in `PATH`). `environment` replaces the
    /// test process's environment when given; standard input is /dev/null. The child starts with
    /// no blocked and no ignored signals, whatever the spawning thread had.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: String? = nil
    ) throws {
        self.executable = executable
        self.arguments = arguments
        guard let path = Self.resolve(executable, environment: environment) else {
            throw ChildProcessError("cannot run \(executable): not found or not executable")
        }
        let (pid, outputFD, errorFD) = try Self.spawn(
            path: path, arguments: [executable] + arguments, environment: environment,
            currentDirectory: currentDirectory)
        processIdentifier = pid
        output.drain(outputFD)
        errors.drain(errorFD)
        let exit = self.exit
        let reaper = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                if errno != EINTR {
                    status = -1
                    break
                }
            }
            exit.record(status)
        }
        reaper.start()
    }

    public var isRunning: Bool { !exit.hasExited }

    /// Everything the child wrote to standard output so far (all of it once `wait` returned).
    public var standardOutput: String { output.text }

    /// Everything the child wrote to standard error so far (all of it once `wait` returned).
    public var standardError: String { errors.text }

    public func signal(_ signal: Int32) {
        guard isRunning else { return }
        kill(processIdentifier, signal)
    }

    /// Waits for the child to exit and returns its exit status (128 + the signal number when a
    /// signal ended it, as shells report it). After `timeoutSeconds` the child is killed with
    /// SIGKILL and this throws, with what the child wrote so far in the message.
    @discardableResult
    public func wait(timeoutSeconds: Double) throws -> Int32 {
        guard let status = exit.wait(seconds: max(0, timeoutSeconds)) else {
            kill(processIdentifier, SIGKILL)
            _ = exit.wait(seconds: 10)
            _ = output.waitForEnd(seconds: 2)
            _ = errors.waitForEnd(seconds: 2)
            throw ChildProcessError(
                "\(commandLine) did not exit within \(timeoutSeconds) s and was killed; "
                    + "stderr so far: \(Self.tail(standardError))")
        }
        // The pipes reach end-of-file once every writer is gone; a daemon the child left behind
        // may hold them open, so do not wait for it forever.
        let deadline = Date().addingTimeInterval(3)
        _ = output.waitForEnd(seconds: deadline.timeIntervalSinceNow)
        _ = errors.waitForEnd(seconds: max(0, deadline.timeIntervalSinceNow))
        return status
    }

    /// Runs a program to completion and returns its status and output.
    public static func run(
        _ executable: String, _ arguments: [String], timeoutSeconds: Double = 60
    ) throws -> (status: Int32, output: String, error: String) {
        let child = try ChildProcess(executable, arguments)
        let status = try child.wait(timeoutSeconds: timeoutSeconds)
        return (status, child.standardOutput, child.standardError)
    }

    var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    static func tail(_ text: String, characters: Int = 2000) -> String {
        text.count <= characters ? text : "…" + String(text.suffix(characters))
    }

    /// A path as is; a bare name looked up in `PATH` (the child's if given, else ours).
    static func resolve(_ executable: String, environment: [String: String]?) -> String? {
        if executable.contains("/") {
            return access(executable, X_OK) == 0 ? executable : nil
        }
        let path =
            environment?["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
            ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(executable)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    // MARK: Spawning

    /// Pipes are made and the child spawned under one lock, so a child started by another test
    /// at the same moment cannot inherit this one's pipe ends and keep them open.
    private static let spawnLock = NSLock()

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// glibc's `_np` file actions (2.29 / 2.34) that Swift's Glibc module does not show.
    private static let addChdir: AddChdir? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
    private static let addCloseFrom: AddCloseFrom? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    private static func spawn(
        path: String, arguments: [String], environment: [String: String]?, currentDirectory: String?
    ) throws -> (pid: pid_t, output: Int32, error: Int32) {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard pipe(&outputPipe) == 0 else { throw ChildProcessError("pipe() failed: \(String(cString: strerror(errno)))") }
        guard pipe(&errorPipe) == 0 else {
            close(outputPipe[0])
            close(outputPipe[1])
            throw ChildProcessError("pipe() failed: \(String(cString: strerror(errno)))")
        }
        for descriptor in outputPipe + errorPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        if let addCloseFrom { _ = addCloseFrom(&actions, 3) }
        if let currentDirectory {
            guard let addChdir else {
                throw ChildProcessError("this C library cannot start a child in another directory (\(currentDirectory))")
            }
            _ = addChdir(&actions, currentDirectory)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let environmentLines =
            environment.map { $0.map { "\($0.key)=\($0.value)" } }
            ?? ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environmentLines.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(outputPipe[1])
        close(errorPipe[1])
        guard result == 0 else {
            close(outputPipe[0])
            close(errorPipe[0])
            throw ChildProcessError("cannot run \(path): \(String(cString: strerror(result)))")
        }
        return (pid, outputPipe[0], errorPipe[0])
    }
}

/// The child's exit status once its reaper thread collected it.
private final class ExitStatus: @unchecked Sendable {
    private let condition = NSCondition()
    private var status: Int32?

    func record(_ raw: Int32) {
        condition.lock()
        // Exited normally: the exit code; killed by a signal: 128 + its number.
        let signal = raw & 0x7f
        status = raw == -1 ? -1 : signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        condition.broadcast()
        condition.unlock()
    }

    var hasExited: Bool {
        condition.lock()
        defer { condition.unlock() }
        return status != nil
    }

    /// The status, or nil if the child still runs after `seconds`.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while status == nil {
            if !condition.wait(until: deadline) { break }
        }
        return status
    }
}

/// The bytes one pipe delivered, read on a thread of its own until end-of-file.
private final class CapturedStream: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = [UInt8]()
    private let finished = DispatchSemaphore(value: 0)

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func drain(_ descriptor: Int32) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                lock.lock()
                bytes.append(contentsOf: buffer[0..<count])
                lock.unlock()
            }
            close(descriptor)
            finished.signal()
        }
        thread.start()
    }

    /// Whether end-of-file came within `seconds`; stays true for later calls.
    func waitForEnd(seconds: Double) -> Bool {
        guard finished.wait(timeout: .now() + seconds) == .success else { return false }
        finished.signal()
        return true
    }
}

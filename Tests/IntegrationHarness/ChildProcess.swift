import Foundation
import Synchronization

/// A program the tests start (zonectl, initdb, named, …) with its output captured in full.
///
/// Built on posix_spawn and waitpid rather than Foundation's `Process`: `Process` learns of the
/// exit through a dispatch queue, and with every test thread blocked waiting on children that
/// queue can starve, leaving exited children unreaped and the tests hung.
public final class ChildProcess: @unchecked Sendable {
    public let executable: String
    public let processIdentifier: pid_t
    private let output = Mutex<(stdout: [UInt8], stderr: [UInt8])>(([], []))
    private let readersDone = DispatchSemaphore(value: 0)
    private let exitStatus = Mutex<Int32?>(nil)

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                currentDirectory: String? = nil) throws {
        self.executable = executable
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [0, 0]
        guard pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else { throw ChildProcessError("pipe failed: errno \(errno)") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        for descriptor in stdoutPipe + stderrPipe { posix_spawn_file_actions_addclose(&actions, descriptor) }

        let environmentList = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        // A working directory is set by a shell in between (posix_spawn has no portable chdir).
        let command = currentDirectory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0, executable] + arguments }
            ?? [executable] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = environmentList.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard result == 0 else {
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        processIdentifier = pid
        drain(stdoutPipe[0], into: \.stdout)
        drain(stderrPipe[0], into: \.stderr)
    }

    /// Each pipe is read on its own thread until EOF, so a chatty child never blocks.
    private func drain(_ descriptor: Int32, into keyPath: WritableKeyPath<(stdout: [UInt8], stderr: [UInt8]), [UInt8]> & Sendable) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = read(descriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                output.withLock { $0[keyPath: keyPath].append(contentsOf: buffer[0..<count]) }
            }
            close(descriptor)
            readersDone.signal()
        }
    }

    /// Reaps the child if it has exited; its exit status (128 + signal when killed).
    private func poll() -> Int32? {
        if let status = exitStatus.withLock({ $0 }) { return status }
        var status: Int32 = 0
        let result = waitpid(processIdentifier, &status, WNOHANG)
        guard result == processIdentifier else { return nil }
        let code: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        exitStatus.withLock { $0 = code }
        return code
    }

    /// Waits for the exit and returns its status; on timeout kills the child and throws.
    /// Output is complete afterwards unless a grandchild still holds the pipes (then waits at most 2 s).
    public func wait(timeoutSeconds: Double) throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            if let status = poll() {
                _ = readersDone.wait(timeout: .now() + 2)
                _ = readersDone.wait(timeout: .now() + 0.1)
                return status
            }
            if Date() > deadline {
                kill(processIdentifier, SIGKILL)
                var status: Int32 = 0
                waitpid(processIdentifier, &status, 0)
                exitStatus.withLock { $0 = 137 }
                throw ChildProcessError("\(executable) did not exit within \(timeoutSeconds) s and was killed. stderr: \(standardError)")
            }
            usleep(5_000)
        }
    }

    public var standardOutput: String { String(decoding: output.withLock { $0.stdout }, as: UTF8.self) }
    public var standardError: String { String(decoding: output.withLock { $0.stderr }, as: UTF8.self) }
    public var isRunning: Bool { poll() == nil }

    public func signal(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    /// Runs a program to its end.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           timeoutSeconds: Double = 120) throws -> (status: Int32, output: String, error: String) {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = try child.wait(timeoutSeconds: timeoutSeconds)
        return (status, child.standardOutput, child.standardError)
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

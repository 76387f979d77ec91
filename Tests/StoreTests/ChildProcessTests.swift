import Foundation
import IntegrationHarness
import Testing

/// The harness's process runner, which every test starting PostgreSQL or a DNS server relies on.
@Suite("ChildProcess")
struct ChildProcessTests {
    @Test("megabytes on both pipes at once are captured whole, without a deadlock")
    func largeOutputOnBothPipes() throws {
        let script = "head -c 3000000 /dev/zero | tr '\\0' a; head -c 2000000 /dev/zero | tr '\\0' b >&2; echo done"
        let child = try ChildProcess("/bin/sh", ["-c", script])
        #expect(try child.wait(timeoutSeconds: 60) == 0)
        #expect(child.standardOutput.utf8.count == 3_000_005)
        #expect(child.standardOutput.hasSuffix("done\n"))
        #expect(child.standardError.utf8.count == 2_000_000)
    }

    @Test("exit status, environment, working directory and PATH lookup")
    func statusEnvironmentDirectory() throws {
        let child = try ChildProcess(
            "sh", ["-c", "echo \"$GREETING\"; pwd; exit 7"], environment: ["GREETING": "hej", "PATH": "/usr/bin:/bin"],
            currentDirectory: "/tmp")
        #expect(try child.wait(timeoutSeconds: 30) == 7)
        #expect(child.standardOutput == "hej\n/tmp\n")
        #expect(!child.isRunning)

        let run = try ChildProcess.run("/bin/sh", ["-c", "echo out; echo err >&2"])
        #expect(run.status == 0)
        #expect(run.output == "out\n")
        #expect(run.error == "err\n")
        #expect(throws: ChildProcessError.self) { try ChildProcess("no-such-program-here", []) }
    }

    @Test("a signal ends the child (even though test threads block signals); a hung child is killed at the timeout")
    func signalsAndTimeout() throws {
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        #expect(sleeper.isRunning)
        sleeper.signal(SIGTERM)
        #expect(try sleeper.wait(timeoutSeconds: 10) == 128 + SIGTERM)

        let hung = try ChildProcess("/bin/sleep", ["30"])
        let started = Date()
        let error = try #require(throws: ChildProcessError.self) { try hung.wait(timeoutSeconds: 0.5) }
        #expect(error.description.contains("did not exit"))
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(!hung.isRunning)
    }

    @Test("a daemon the child leaves behind holding the pipes does not make wait hang")
    func daemonHoldingPipes() throws {
        let child = try ChildProcess("/bin/sh", ["-c", "sleep 5 & echo started"])
        let started = Date()
        #expect(try child.wait(timeoutSeconds: 30) == 0)
        #expect(Date().timeIntervalSince(started) < 15)
        #expect(child.standardOutput == "started\n")
    }
}

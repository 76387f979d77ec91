import Foundation

/// The operator's command run after a zone file is written (`--after-write 'rndc reload %z'`):
/// `%z` becomes the zone's name without the trailing dot, `%f` the file's path, `%%` a percent
/// sign, each quoted for the shell. It runs under `/bin/sh -c` with a time limit; its failure
/// is reported, not retried (the next write runs it again).
struct AfterWriteHook: Sendable {
    let template: String
    let timeoutSeconds: Double

    func command(zone: String, file: String) -> String {
        var result = ""
        var characters = template.makeIterator()
        while let character = characters.next() {
            guard character == "%" else {
                result.append(character)
                continue
            }
            switch characters.next() {
            case "z": result += Self.quoted(zone.hasSuffix(".") && zone != "." ? String(zone.dropLast()) : zone)
            case "f": result += Self.quoted(file)
            case "%": result += "%"
            case let other?: result += "%" + String(other)
            case nil: result += "%"
            }
        }
        return result
    }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Runs the command; nil when it exited 0, else what went wrong with the end of its output.
    func run(zone: String, file: String) -> String? {
        let command = command(zone: zone, file: file)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("zonectl-hook-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardInput = FileHandle.nullDevice
        do {
            let handle = try FileHandle(forWritingTo: output)
            defer { try? handle.close() }
            process.standardOutput = handle
            process.standardError = handle
            let ended = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in ended.signal() }
            try process.run()
            if ended.wait(timeout: .now() + timeoutSeconds) == .timedOut {
                process.terminate()
                if ended.wait(timeout: .now() + 2) == .timedOut {
                    kill(process.processIdentifier, SIGKILL)
                    _ = ended.wait(timeout: .now() + 2)
                }
                return "`\(command)` did not finish within \(Int(timeoutSeconds)) s and was stopped"
            }
        } catch {
            return "`\(command)` could not be started: \(error)"
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            let how = process.terminationReason == .exit ? "exited with status \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
            let tail = text.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500)
            return "`\(command)` \(how)" + (tail.isEmpty ? "" : ": \(tail)")
        }
        return nil
    }
}

import Foundation

/// Runs a validator someone else wrote (named-checkzone, kzonecheck, ldns-read-zone,
/// named-compilezone) and captures what it said.
struct ValidatorRun: CustomStringConvertible {
    let command: [String]
    let status: Int32
    let standardOutput: String
    let standardError: String

    var succeeded: Bool { status == 0 }

    var description: String {
        "\(command.joined(separator: " ")) exited \(status)\nstdout:\n\(standardOutput)\nstderr:\n\(standardError)"
    }

    /// Runs `executable` (looked up on PATH) to completion. Output goes to temporary files, not
    /// pipes, so a validator that writes a lot cannot block on a full pipe.
    static func run(_ executable: String, _ arguments: [String]) throws -> ValidatorRun {
        guard let path = locate(executable) else {
            throw ValidatorMissing(name: executable)
        }
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("zonefile-validator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ValidatorRun(
            command: [executable] + arguments,
            status: process.terminationStatus,
            standardOutput: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    static func locate(_ executable: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/sbin", "/usr/bin"] {
            let candidate = "\(directory)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

struct ValidatorMissing: Error, CustomStringConvertible {
    let name: String
    var description: String {
        "\(name) is not installed: install bind9-utils knot-dnssecutils ldnsutils (see docs/testing)"
    }
}

/// A temporary file holding zone text, removed when the test is done with it.
struct TemporaryZoneFile: ~Copyable {
    let path: String

    init(_ bytes: [UInt8]) throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("zonefile-test-\(UUID().uuidString).zone").path
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw CocoaError(.fileWriteUnknown)
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

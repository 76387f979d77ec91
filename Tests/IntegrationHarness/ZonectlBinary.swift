import Foundation

/// The `zonectl` executable the tests run, as an operator would.
public enum ZonectlBinary {
    /// SwiftPM puts the executable beside the test bundle (or a few directories up).
    public static let path: String = {
        let runner = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: runner).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("zonectl").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("zonectl").path
    }()
}

import Foundation
import Store

/// Where this binary's migrations are. The SQL files ship beside the binary rather than inside it,
/// so operators can read exactly what will run; the lookup order covers an installed binary, the
/// build tree and the container image.
enum MigrationsDirectory {
    static func locate(_ flag: String?) throws -> MigrationSet {
        if let explicit = Settings.string(flag, env: "ZONECTL_MIGRATIONS") {
            return try MigrationSet(directory: explicit)
        }
        let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            executable.appendingPathComponent("../share/zonectl/migrations").standardized.path,
            executable.appendingPathComponent("../../../migrations").standardized.path,  // .build/<triple>/debug/zonectl
            "/usr/share/zonectl/migrations",
            FileManager.default.currentDirectoryPath + "/migrations",
        ]
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate + "/0001_accounts_and_tokens.sql") {
            return try MigrationSet(directory: candidate)
        }
        throw SettingError("cannot find the migrations directory (looked in \(candidates.joined(separator: ", "))); pass --migrations DIR or set ZONECTL_MIGRATIONS")
    }
}

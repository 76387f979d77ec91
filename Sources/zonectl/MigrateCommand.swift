import ArgumentParser
import Store

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database migrations this binary ships, in order (safe to run concurrently and again).")

    @Option(name: .long, help: "PostgreSQL URL or conninfo. Env: DATABASE_URL.")
    var databaseURL: String?

    @Option(name: .long, help: "Directory of NNNN_name.sql files. Env: ZONECTL_MIGRATIONS. Default: the one shipped with the binary.")
    var migrations: String?

    @Flag(name: .long, help: "Only say whether the database is current, behind or ahead (exit 1 unless current).")
    var status = false

    func run() throws {
        let url = try Settings.databaseURL(databaseURL)
        let migrator = Migrator(set: try MigrationsDirectory.locate(migrations))
        if status {
            let state = try migrator.status(conninfo: url)
            print(MigrationReport.describe(state))
            if state != .current { throw ExitCode(1) }
            return
        }
        let applied = try migrator.migrate(conninfo: url) { print($0) }
        print(applied.isEmpty ? "database is up to date" : "applied \(applied.count) migration(s)")
    }
}

enum MigrationReport {
    static func describe(_ status: MigrationStatus) -> String {
        switch status {
        case .current:
            return "database schema is current"
        case .behind(let pending):
            return "database schema is behind this binary: migrations \(pending.map(String.init).joined(separator: ", ")) are not applied; run `zonectl migrate` (or `zonectl serve --migrate`)"
        case .ahead(let unknown):
            return "database schema is ahead of this binary: it has migrations \(unknown.map(String.init).joined(separator: ", ")) this binary does not know; run the newer zonectl that applied them"
        }
    }
}

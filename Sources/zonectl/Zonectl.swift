import ArgumentParser

@main
struct Zonectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zonectl",
        abstract: "A control plane for hosted DNS: REST API, PostgreSQL store, hidden primary for secondaries.",
        subcommands: [Serve.self, Migrate.self, Token.self, ZoneFileGroup.self]
    )
}

import ArgumentParser
import ZoneFile

struct ZoneFileGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zonefile",
        abstract: "Check or reformat RFC 1035 zone files with the same rules the API applies.",
        subcommands: [Check.self, Format.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Exit 0 when FILE is a valid zone; otherwise print every error with its line on stderr and exit 1.")

        @Option(name: .long, help: "The zone's name (its origin), e.g. example.com.")
        var origin: String

        @Argument(help: "The zone file, or - for standard input.")
        var file: String

        func run() throws {
            let code = ZoneFileCommands.check(origin: origin, path: file)
            if code != 0 { throw ExitCode(code) }
        }
    }

    struct Format: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print FILE in canonical form (SOA first, apex NS next, owners in canonical order).")

        @Option(name: .long, help: "The zone's name (its origin), e.g. example.com.")
        var origin: String

        @Argument(help: "The zone file, or - for standard input.")
        var file: String

        func run() throws {
            let code = ZoneFileCommands.format(origin: origin, path: file)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

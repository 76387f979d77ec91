import API
import ArgumentParser
import Store

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or check API tokens from the command line.",
        subcommands: [Create.self, Verify.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it on stdout (it is shown only this once).",
            discussion: "Use --operator to bootstrap the first operator token; later tokens are easier to make with POST /v1/tokens.")

        @Option(name: .long, help: "PostgreSQL URL or conninfo. Env: DATABASE_URL.")
        var databaseURL: String?

        @Flag(name: .long, help: "An operator token (manages accounts, pools, keys; sees everything).")
        var `operator` = false

        @Option(name: .long, help: "The account an account token belongs to.")
        var account: Int64?

        @Flag(name: .long, help: "The token may only read.")
        var readOnly = false

        @Option(name: .long, help: "A note on what the token is for (max 200 characters).")
        var description = ""

        func validate() throws {
            guard `operator` != (account != nil) else {
                throw ValidationError("give exactly one of --operator or --account ID")
            }
            guard description.count <= 200 else { throw ValidationError("--description must be at most 200 characters") }
        }

        func run() throws {
            let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try Settings.databaseURL(databaseURL), size: 1))
            defer { pool.close() }
            do {
                let minted = try TokenMinting.mint(pool: pool, accountID: account, readOnly: readOnly, description: description)
                print(minted.token)
            } catch let error as DatabaseError where error.isForeignKeyViolation {
                throw ValidationError("no account with id \(account ?? 0)")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Exit 0 when TOKEN is accepted by this database, 1 otherwise.")

        @Option(name: .long, help: "PostgreSQL URL or conninfo. Env: DATABASE_URL.")
        var databaseURL: String?

        @Argument(help: "The token, as printed when it was created.")
        var token: String

        func run() throws {
            let pool = ConnectionPool(configuration: PoolConfiguration(conninfo: try Settings.databaseURL(databaseURL), size: 1))
            defer { pool.close() }
            guard try TokenMinting.isValid(pool: pool, presented: token) else {
                print("token not accepted")
                throw ExitCode(1)
            }
            print("token accepted")
        }
    }
}

import Foundation

/// One schema change: the SQL script of a file named `NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// `0002_zones`: how progress lines and errors name it, as its file is named.
    public var label: String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
    }
}

/// A migration set or run that cannot go on, with what to fix.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The migrations a binary knows, in version order.
public struct MigrationSet: Sendable {
    public let migrations: [Migration]

    /// Reads every `*.sql` file in `directory`; each must be named `NNNN_name.sql` (4 to 9
    /// digits, an underscore, then letters, digits, `_` or `-`). Other files are ignored. Refuses
    /// duplicate versions and badly named `.sql` files rather than skip a change silently.
    public init(directory: String) throws {
        let url = URL(fileURLWithPath: directory, isDirectory: true)
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: url.path)
        } catch {
            throw MigrationError("cannot read the migrations directory \(directory): \(error.localizedDescription)")
        }
        var migrations = [Migration]()
        for file in entries.sorted() where file.hasSuffix(".sql") {
            guard let (version, name) = Self.parseFileName(file) else {
                throw MigrationError(
                    "migration file \(file) in \(directory) is not named NNNN_name.sql "
                        + "(a version of 4 to 9 digits, an underscore, then letters, digits, _ or -)")
            }
            let path = url.appendingPathComponent(file).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MigrationError("cannot read migration file \(path)")
            }
            guard let sql = String(data: data, encoding: .utf8) else {
                throw MigrationError("migration file \(path) is not UTF-8 text")
            }
            migrations.append(Migration(version: version, name: name, sql: sql))
        }
        try self.init(migrations: migrations)
    }

    /// Migrations given in code (e.g. compiled into the binary); sorted here, duplicates refused.
    public init(migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw MigrationError(
                "two migrations have version \(next.version): \(previous.label) and \(next.label); "
                    + "give one of them the next free number")
        }
        if let negative = sorted.first(where: { $0.version < 0 }) {
            throw MigrationError("migration \(negative.name) has a negative version \(negative.version)")
        }
        self.migrations = sorted
    }

    public var versions: [Int] { migrations.map(\.version) }

    /// `0002_zones.sql` → (2, "zones").
    static func parseFileName(_ file: String) -> (version: Int, name: String)? {
        guard file.hasSuffix(".sql") else { return nil }
        let stem = file.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        // At least four digits, so the files list in version order and a stray "1_x.sql" stands
        // out; at most nine, so the version fits schema_migrations' integer.
        guard (4...9).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            let version = Int(digits)
        else { return nil }
        guard !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else { return nil }
        return (version, String(name))
    }
}

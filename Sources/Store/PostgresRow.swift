/// Column names of one result, shared by all its rows so a row is just its values.
final class ColumnIndex: Sendable {
    let names: [String]
    private let positions: [String: Int]

    init(names: [String]) {
        self.names = names
        var positions = [String: Int]()
        // With duplicate names (`SELECT a.id, b.id`) the first wins, as in most drivers.
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    func position(of name: String) -> Int? { positions[name] }
}

/// One row of a result, values in PostgreSQL's text format (nil for NULL). The typed accessors
/// throw `RowDecodingError` naming the column when a value is NULL or not of the asked type.
public struct PostgresRow: Sendable {
    let columns: ColumnIndex
    let values: [String?]

    init(columns: ColumnIndex, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    public var columnNames: [String] { columns.names }

    /// The raw text of a column; nil when the value is NULL or there is no such column.
    public subscript(column: String) -> String? {
        guard let index = columns.position(of: column) else { return nil }
        return values[index]
    }

    /// The raw text of the column at `index` (0-based); nil when NULL.
    public subscript(index: Int) -> String? { values[index] }

    public func hasColumn(_ column: String) -> Bool { columns.position(of: column) != nil }

    public func isNull(_ column: String) throws -> Bool { try raw(column) == nil }

    public func string(_ column: String) throws -> String { try required(column) }

    public func optionalString(_ column: String) throws -> String? { try raw(column) }

    public func int(_ column: String) throws -> Int64 {
        let text = try required(column)
        guard let value = Int64(text) else {
            throw RowDecodingError(column: column, reason: "\"\(text)\" is not an integer")
        }
        return value
    }

    public func optionalInt(_ column: String) throws -> Int64? {
        try isNull(column) ? nil : try int(column)
    }

    public func double(_ column: String) throws -> Double {
        let text = try required(column)
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(text) else {
                throw RowDecodingError(column: column, reason: "\"\(text)\" is not a number")
            }
            return value
        }
    }

    public func bool(_ column: String) throws -> Bool {
        switch try required(column) {
        case "t", "true": return true
        case "f", "false": return false
        case let text: throw RowDecodingError(column: column, reason: "\"\(text)\" is not a boolean")
        }
    }

    public func optionalBool(_ column: String) throws -> Bool? {
        try isNull(column) ? nil : try bool(column)
    }

    /// A `bytea` column (text form `\x…`).
    public func bytea(_ column: String) throws -> [UInt8] {
        let text = try required(column)
        guard let bytes = ByteaHex.decode(text) else {
            throw RowDecodingError(column: column, reason: "not bytea in hex form")
        }
        return bytes
    }

    public func optionalBytea(_ column: String) throws -> [UInt8]? {
        try isNull(column) ? nil : try bytea(column)
    }

    private func raw(_ column: String) throws -> String? {
        guard let index = columns.position(of: column) else {
            throw RowDecodingError(
                column: column, reason: "no such column in the result (has: \(columns.names.joined(separator: ", ")))")
        }
        return values[index]
    }

    private func required(_ column: String) throws -> String {
        guard let value = try raw(column) else {
            throw RowDecodingError(column: column, reason: "is NULL")
        }
        return value
    }
}

public struct PostgresResult: Sendable {
    public let rows: [PostgresRow]
    /// Rows inserted, updated, deleted, selected, … as the command tag reports (0 when it has none).
    public let affectedRows: Int
    public let columnNames: [String]

    public init(rows: [PostgresRow], affectedRows: Int, columnNames: [String]) {
        self.rows = rows
        self.affectedRows = affectedRows
        self.columnNames = columnNames
    }

    public var first: PostgresRow? { rows.first }
}

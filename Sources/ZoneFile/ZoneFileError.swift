/// One problem found in a zone file: where it is, which rule it breaks, and what to do about it.
public struct ZoneFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the offending entry (the line where it starts when it spans parentheses).
    public var line: Int
    /// 1-based byte column when the problem is a single token.
    public var column: Int?
    /// A short stable name for the rule ("unterminated-quote", "bad-rdata", "cname-and-other-data", …).
    public var rule: String
    public var message: String

    public init(line: Int, column: Int? = nil, rule: String, message: String) {
        self.line = line
        self.column = column
        self.rule = rule
        self.message = message
    }

    /// "line 12: …", with the column when known and the rule at the end.
    public var description: String {
        if let column {
            return "line \(line), column \(column): \(message) [\(rule)]"
        }
        return "line \(line): \(message) [\(rule)]"
    }
}

/// Every error the parser could find in one pass (it goes on past an error wherever it can).
public struct ZoneFileErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [ZoneFileError]

    public init(_ errors: [ZoneFileError]) {
        self.errors = errors
    }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}

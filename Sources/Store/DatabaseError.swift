/// A failure talking to PostgreSQL, split by what a caller can do about it: `.unavailable` means
/// "try again later" (the API answers 503), `.query` means the server refused this statement.
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Could not connect, the connection was lost mid-query, the server is shutting down, or no
        /// pooled connection became free in time.
        case unavailable
        /// The server refused the statement (constraint, syntax, serialization failure, …).
        case query
    }

    public let kind: Kind
    /// The five-character SQLSTATE the server reported, if any (`23505`, `40001`, …).
    public let sqlState: String?
    public let message: String
    public let detail: String?
    /// The constraint a violation names (for unique / foreign key / check violations).
    public let constraint: String?
    public let hint: String?
    public let table: String?
    public let column: String?

    public init(
        kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil,
        constraint: String? = nil, hint: String? = nil, table: String? = nil, column: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraint = constraint
        self.hint = hint
        self.table = table
        self.column = column
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    public var isCheckViolation: Bool { sqlState == "23514" }
    public var isNotNullViolation: Bool { sqlState == "23502" }
    public var isSerializationFailure: Bool { sqlState == "40001" }
    public var isDeadlock: Bool { sqlState == "40P01" }
    /// A statement cancelled by `statement_timeout` (or an explicit cancel).
    public var isQueryCanceled: Bool { sqlState == "57014" }
    /// A lock not granted within `lock_timeout` (or asked for with NOWAIT).
    public var isLockNotAvailable: Bool { sqlState == "55P03" }
    /// Worth running the whole transaction again: the server says so for these two.
    public var isTransient: Bool { isSerializationFailure || isDeadlock }

    public var description: String {
        var text = kind == .unavailable ? "database unavailable: \(message)" : message
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail, !detail.isEmpty { text += "; \(detail)" }
        if let hint, !hint.isEmpty { text += "; hint: \(hint)" }
        return text
    }

    /// SQLSTATEs that mean the server, not the statement, is the problem: connection exceptions
    /// (class 08), shutdown and start-up (57P01–57P03), and too many connections (53300).
    static func isUnavailableState(_ state: String) -> Bool {
        state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
            || state == "53300"
    }
}

/// A value read from a row could not be turned into the requested Swift type.
public struct RowDecodingError: Error, Sendable, CustomStringConvertible {
    public let column: String
    public let reason: String

    public init(column: String, reason: String) {
        self.column = column
        self.reason = reason
    }

    public var description: String { "column \"\(column)\": \(reason)" }
}

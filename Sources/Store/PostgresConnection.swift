import CPostgres
import Foundation

/// One libpq connection. Not for concurrent use: a connection belongs to one thread at a time
/// (the pool hands it to one request), which is what libpq itself requires.
public final class PostgresConnection: @unchecked Sendable {
    private var connection: OpaquePointer?
    /// Set once a failure shows the connection cannot be trusted; the pool then replaces it.
    public private(set) var isBroken = false
    private var transactionDepth = 0
    /// Statements that succeeded since the pool last handed the connection out: when the first
    /// one fails because the server went away, nothing of the caller's work reached it, so the
    /// pool may safely run the work again on a fresh connection.
    var statementsSucceeded = 0

    /// Connects with a `postgresql://` URL or a `key=value` conninfo string.
    public init(conninfo: String, connectTimeoutSeconds: Int = 5) throws(DatabaseError) {
        let keys = ["dbname", "connect_timeout", "application_name"]
        let values = [conninfo, String(connectTimeoutSeconds), "zonectl"]
        // expand_dbname=1: the dbname value may itself be a URL or conninfo; later keys fill
        // only what it leaves out.
        let pointer = Self.withCStrings(keys) { keyPointers in
            Self.withCStrings(values) { valuePointers in
                PQconnectdbParams(keyPointers, valuePointers, 1)
            }
        }
        guard let pointer else {
            throw DatabaseError(kind: .unavailable, message: "libpq could not allocate a connection")
        }
        guard PQstatus(pointer) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(pointer))
            PQfinish(pointer)
            throw DatabaseError(kind: .unavailable, message: message.isEmpty ? "could not connect" : message)
        }
        zonectl_pq_silence_notices(pointer)
        connection = pointer
    }

    deinit { close() }

    public func close() {
        if let connection { PQfinish(connection) }
        connection = nil
        isBroken = true
    }

    /// Runs one statement with `$n` parameters (PQexecParams: values never enter the SQL text).
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresParameter] = []) throws -> PostgresResult {
        let connection = try liveConnection()
        var texts: [String?] = []
        texts.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            texts.append(try parameter.textValue(position: index + 1))
        }
        let types = parameters.map { $0.typeOID }
        let result = Self.withOptionalCStrings(texts) { values in
            types.withUnsafeBufferPointer { typeBuffer in
                PQexecParams(connection, sql, Int32(parameters.count), typeBuffer.baseAddress, values, nil, nil, 0)
            }
        }
        return try consume(result)
    }

    /// Runs a script of one or more statements without parameters (migrations).
    public func execute(_ sql: String) throws {
        let connection = try liveConnection()
        _ = try consume(PQexec(connection, sql))
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// A serialization failure or deadlock reported by the server runs the whole body again
    /// (up to 5 attempts, with a short random pause): the server asks for exactly that.
    @discardableResult
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        if transactionDepth > 0 { return try body(self) }
        var attempt = 0
        while true {
            attempt += 1
            try execute("BEGIN")
            transactionDepth += 1
            do {
                let value = try body(self)
                transactionDepth -= 1
                try execute("COMMIT")
                return value
            } catch {
                transactionDepth -= 1
                if !isBroken { try? execute("ROLLBACK") }
                if let database = error as? DatabaseError, database.isTransient, attempt < 5 {
                    usleep(UInt32.random(in: 1_000...(10_000 * UInt32(attempt))))
                    continue
                }
                throw error
            }
        }
    }

    /// Subscribes to `pg_notify` messages on a channel.
    public func listen(_ channel: String) throws {
        let connection = try liveConnection()
        guard let escaped = PQescapeIdentifier(connection, channel, channel.utf8.count) else {
            throw DatabaseError(kind: .query, message: "cannot quote channel name \(channel)")
        }
        defer { PQfreemem(escaped) }
        try execute("LISTEN " + String(cString: escaped))
    }

    /// Notifications received, waiting up to `timeoutSeconds` for the first one.
    public func notifications(timeoutSeconds: Double) throws -> [(channel: String, payload: String)] {
        let connection = try liveConnection()
        var received = drainNotifications(connection)
        if !received.isEmpty { return received }
        var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(timeoutSeconds * 1000))
        if ready > 0 {
            guard PQconsumeInput(connection) == 1 else {
                isBroken = true
                throw DatabaseError(kind: .unavailable, message: Self.trimmed(PQerrorMessage(connection)))
            }
            received = drainNotifications(connection)
        }
        return received
    }

    private func drainNotifications(_ connection: OpaquePointer) -> [(channel: String, payload: String)] {
        var received: [(channel: String, payload: String)] = []
        _ = PQconsumeInput(connection)
        while let notification = PQnotifies(connection) {
            received.append((String(cString: notification.pointee.relname), String(cString: notification.pointee.extra)))
            PQfreemem(notification)
        }
        return received
    }

    private func liveConnection() throws(DatabaseError) -> OpaquePointer {
        guard let connection, !isBroken else {
            throw DatabaseError(kind: .unavailable, message: "the connection to the database was lost")
        }
        if PQstatus(connection) != CONNECTION_OK {
            isBroken = true
            throw DatabaseError(kind: .unavailable, message: "the connection to the database was lost")
        }
        return connection
    }

    /// Turns a PGresult into rows or an error, freeing it either way.
    private func consume(_ result: OpaquePointer?) throws -> PostgresResult {
        guard let result else {
            isBroken = true
            throw DatabaseError(kind: .unavailable, message: Self.trimmed(PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            statementsSucceeded += 1
            return Self.rows(result)
        default:
            throw error(from: result)
        }
    }

    private func error(from result: OpaquePointer) -> DatabaseError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let state = field(Int32(ZONECTL_PG_DIAG_SQLSTATE))
        let lost = connection.map { PQstatus($0) != CONNECTION_OK } ?? true
        let unavailable = lost || state.map(DatabaseError.isUnavailableState) ?? true
        if unavailable { isBroken = true }
        var message = field(Int32(ZONECTL_PG_DIAG_MESSAGE_PRIMARY)) ?? Self.trimmed(PQresultErrorMessage(result))
        if message.isEmpty { message = Self.trimmed(PQerrorMessage(connection)) }
        return DatabaseError(
            kind: unavailable ? .unavailable : .query, sqlState: state, message: message,
            detail: field(Int32(ZONECTL_PG_DIAG_MESSAGE_DETAIL)),
            constraint: field(Int32(ZONECTL_PG_DIAG_CONSTRAINT_NAME)),
            hint: field(Int32(ZONECTL_PG_DIAG_MESSAGE_HINT)),
            table: field(Int32(ZONECTL_PG_DIAG_TABLE_NAME)),
            column: field(Int32(ZONECTL_PG_DIAG_COLUMN_NAME)))
    }

    private static func rows(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let names = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let columns = ColumnIndex(names: names)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(rows: rows, affectedRows: affected, columnNames: names)
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func withCStrings<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let duplicates = strings.map { strdup($0) }
        defer { duplicates.forEach { free($0) } }
        return body(duplicates.map { UnsafePointer($0) } + [nil])
    }

    private static func withOptionalCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let duplicates = strings.map { $0.map { strdup($0) } ?? nil }
        defer { duplicates.forEach { free($0) } }
        return body(duplicates.map { UnsafePointer($0) })
    }
}

import CPostgres
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How strictly a transaction is isolated from concurrent ones (PostgreSQL's default is
/// read committed).
public enum TransactionIsolation: Sendable {
    case readCommitted
    case repeatableRead
    case serializable

    var sql: String {
        switch self {
        case .readCommitted: return "BEGIN ISOLATION LEVEL READ COMMITTED"
        case .repeatableRead: return "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .serializable: return "BEGIN ISOLATION LEVEL SERIALIZABLE"
        }
    }
}

/// One libpq connection. It is meant for one thread at a time (the pool hands it out that way);
/// calls are still serialised internally so a mistake cannot corrupt libpq's state.
///
/// Every failure is a `DatabaseError`. A failure of the connection itself (server gone, socket
/// closed, shutdown in progress) is `.unavailable` and leaves the connection broken: the pool
/// then throws it away and opens a new one.
public final class PostgresConnection: @unchecked Sendable {
    /// Guards the libpq handle; nil once closed.
    private let handle: Mutex<OpaquePointer?>
    private let state = Mutex(ConnectionState())

    private struct ConnectionState {
        var broken = false
        var transactionDepth = 0
        var nextSavepoint = 0
        /// Commands that succeeded since the pool last handed the connection out; the pool uses
        /// it to know whether a failed piece of work reached the server at all.
        var succeededCommands = 0
        /// Whether LISTEN was used, so the pool can unsubscribe before reusing the connection.
        var listening = false
        /// The BEGIN of a transaction not yet sent: it goes out with the transaction's first
        /// statement, in the same round trip.
        var pendingBegin: String?
        /// Statements `startCommit` sent whose results `finishCommit` has not read.
        var pendingCommit: Int?
        /// Whether `commit(after:)` already ended the transaction.
        var committed = false
    }

    /// Opens a connection. `conninfo` is either a `postgresql://` URL or `key=value` pairs; its
    /// own settings win over the defaults set here (connect timeout, TCP keepalives, and the
    /// session's `lock_timeout` when `lockTimeoutSeconds` is given).
    public init(conninfo: String, connectTimeoutSeconds: Int = 5, lockTimeoutSeconds: Double? = nil) throws(DatabaseError) {
        // Defaults first, then the caller's conninfo (expanded by libpq because of
        // expand_dbname), so an explicit setting in the conninfo overrides ours.
        var settings: [(String, String)] = lockTimeoutSeconds.map {
            [("options", "-c lock_timeout=\(max(1, Int(($0 * 1000).rounded())))")]
        } ?? []
        settings += [
            ("connect_timeout", String(max(1, connectTimeoutSeconds))),
            ("fallback_application_name", "zonectl"),
            // A server that vanishes without closing the socket is noticed within about a
            // minute instead of the kernel's two hours.
            ("keepalives", "1"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
            ("dbname", conninfo),
            // After the conninfo, so it always holds: Swift strings are UTF-8 both ways, whatever
            // the database's encoding.
            ("client_encoding", "UTF8"),
        ]
        let connection: OpaquePointer? = Self.withCStrings(settings.map(\.0)) { keys in
            Self.withCStrings(settings.map(\.1)) { values in
                PQconnectdbParams(keys, values, 1)
            }
        }
        guard let connection else {
            throw DatabaseError(kind: .unavailable, message: "could not allocate a PostgreSQL connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.errorMessage(connection, fallback: "could not connect to PostgreSQL")
            PQfinish(connection)
            throw DatabaseError(kind: .unavailable, message: message)
        }
        zonectl_pq_silence_notices(connection)
        handle = Mutex(connection)
        // Plans are PostgreSQL's own choice (plan_cache_mode = auto): a prepared statement gets
        // a generic plan once that is no worse than planning each call. The session used to
        // force a plan per call, and that reached further than meant: the foreign-key checks and
        // trigger statements of every change were planned anew too (measured in bench/api, one
        // zone: 0.8 ms per change inside the zone's lock, and the NOTIFY workers' claim at
        // 0.4 ms of planning per change). Statements whose best plan depends on the values pass
        // `planEachCall` to `query` instead.
    }

    deinit {
        handle.withLock { connection in
            if let connection { PQfinish(connection) }
            connection = nil
        }
    }

    /// True once the connection failed or was closed; it cannot be used again.
    public var isBroken: Bool {
        if state.withLock({ $0.broken }) { return true }
        return handle.withLock { connection in
            guard let connection else { return true }
            return PQstatus(connection) != CONNECTION_OK
        }
    }

    public func close() {
        handle.withLock { connection in
            if let connection { PQfinish(connection) }
            connection = nil
        }
        state.withLock { $0.broken = true }
    }

    // MARK: Statements

    /// Runs one statement with `$1…$n` bound to `parameters` (the values never become part of
    /// the SQL text).
    ///
    /// A statement run a second time on this connection is prepared (PQprepare) and from then on
    /// executed by name (PQexecPrepared): PostgreSQL parses and plans it once per connection
    /// instead of on every call. The SQL texts come from the code, so the set stays small; past
    /// `maxPreparedStatements` new texts simply run unprepared.
    ///
    /// `planEachCall` runs the statement unprepared, so it is planned for the values at hand.
    /// It is for optional filters (`$n IS NULL OR …`), which a generic plan cannot drop (with
    /// one, a page deep into a large zone would scan the zone from its start), and for reads
    /// whose best plan depends on the zone's size.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresParameter] = [], planEachCall: Bool = false) throws -> PostgresResult {
        try queries([PostgresStatement(sql, parameters, planEachCall: planEachCall)])[0]
    }

    /// Runs the statements in order, in one round trip (libpq's pipeline mode), each as `query`
    /// would; their results, in order. The first statement that fails throws, and the ones after
    /// it do not run. Outside a transaction they form one implicit transaction (all or nothing).
    /// Each statement still takes its own snapshot at read committed, after the one before it
    /// finished, so a read sent after a locking statement sees what the lock waited for.
    public func queries(_ statements: [PostgresStatement]) throws -> [PostgresResult] {
        try send(statements, commit: false)
    }

    /// Runs the statements as `queries` does and, in the same round trip, the COMMIT of the
    /// transaction `transaction` opened: for a transaction that has nothing left to do after
    /// them. When a statement fails, the COMMIT does not run and the transaction rolls back as
    /// usual. Inside a nested `transaction` (a savepoint) there is nothing to commit yet, so the
    /// statements just run.
    ///
    /// Statements after it in the same transaction are refused: it is over.
    public func commit(after statements: [PostgresStatement]) throws -> [PostgresResult] {
        let ours = state.withLock { $0.transactionDepth == 1 && !$0.committed }
        guard ours else { return try queries(statements) }
        let results = try send(statements, commit: true)
        state.withLock { $0.committed = true }
        return results
    }

    private func send(_ statements: [PostgresStatement], commit: Bool) throws -> [PostgresResult] {
        if state.withLock({ $0.transactionDepth > 0 && $0.committed }) {
            throw DatabaseError(kind: .query, message: "a statement was sent after its transaction's COMMIT")
        }
        let outgoing = try outgoing(statements)
        let begin = takePendingBegin()
        if begin == nil && !commit && outgoing.count == 1 {
            let only = outgoing[0]
            return [try run { connection in only.execute(on: connection) }]
        }
        var commands: [OutgoingStatement] = begin.map { [OutgoingStatement(command: $0)] } ?? []
        commands += outgoing
        if commit { commands.append(OutgoingStatement(command: "COMMIT")) }
        let results = try runPipeline(commands)
        return Array(results[(begin == nil ? 0 : 1)...].prefix(outgoing.count))
    }

    /// The statements ready for libpq, each prepared on its second use.
    private func outgoing(_ statements: [PostgresStatement]) throws -> [OutgoingStatement] {
        try outgoing(statements, prepare: true)!
    }

    /// Without `prepare`, nil when a statement that would be prepared is not yet.
    private func outgoing(_ statements: [PostgresStatement], prepare: Bool) throws -> [OutgoingStatement]? {
        var outgoing: [OutgoingStatement] = []
        outgoing.reserveCapacity(statements.count)
        for statement in statements {
            var texts = [String?]()
            texts.reserveCapacity(statement.parameters.count)
            for (index, parameter) in statement.parameters.enumerated() {
                texts.append(try parameter.textValue(position: index + 1))
            }
            let types = statement.parameters.map(\.typeOID)
            var name: String?
            if !statement.planEachCall {
                name = prepare ? try preparedName(sql: statement.sql, types: types) : preparedName(known: statement.sql, types: types)
                if name == nil && !prepare { return nil }
            }
            outgoing.append(OutgoingStatement(sql: statement.sql, name: name, types: types, texts: texts))
        }
        return outgoing
    }

    /// A statement ready for libpq: prepared (by name) or with its SQL text, and its values.
    private struct OutgoingStatement {
        let sql: String
        let name: String?
        let types: [UInt32]
        let texts: [String?]

        init(sql: String, name: String?, types: [UInt32], texts: [String?]) {
            self.sql = sql
            self.name = name
            self.types = types
            self.texts = texts
        }

        /// A parameterless command (BEGIN, COMMIT).
        init(command: String) {
            self.init(sql: command, name: nil, types: [], texts: [])
        }

        func execute(on connection: OpaquePointer) -> OpaquePointer? {
            PostgresConnection.withOptionalCStrings(texts) { values in
                if let name { return PQexecPrepared(connection, name, Int32(texts.count), values, nil, nil, 0) }
                return PQexecParams(connection, sql, Int32(texts.count), types, values, nil, nil, 0)
            }
        }

        func send(on connection: OpaquePointer) -> Bool {
            PostgresConnection.withOptionalCStrings(texts) { values in
                if let name { return PQsendQueryPrepared(connection, name, Int32(texts.count), values, nil, nil, 0) == 1 }
                return PQsendQueryParams(connection, sql, Int32(texts.count), types, values, nil, nil, 0) == 1
            }
        }
    }

    /// Sends the statements in one pipeline with one sync at the end, and reads one result for
    /// each. After a failure PostgreSQL skips the rest up to the sync; the first failure is thrown.
    private func runPipeline(_ statements: [OutgoingStatement]) throws(DatabaseError) -> [PostgresResult] {
        try startPipeline(statements)
        return try finishPipeline(count: statements.count)
    }

    /// Sends [BEGIN, `statements`, COMMIT] in one pipeline, like `commit(after:)` in a transaction
    /// of its own, and returns without reading the answers: `finishCommit` reads them, perhaps on
    /// another thread (nothing else may use the connection in between). For a batch whose round
    /// trip should overlap the wake-up of whoever waits for it.
    /// The server is asked to send the statements' results before it runs the COMMIT (a
    /// flush request), so that `finishCommit` can hand them over while the COMMIT's WAL flush
    /// runs.
    public func startCommit(_ statements: [PostgresStatement]) throws {
        precondition(state.withLock { $0.transactionDepth == 0 && $0.pendingCommit == nil }, "a commit was started inside a transaction")
        let commands = Self.commitCommands(try outgoing(statements))
        try startPipeline(commands, flushBefore: commands.count - 1)
        state.withLock { $0.pendingCommit = statements.count }
    }

    /// [BEGIN, `statements`, COMMIT].
    private static func commitCommands(_ statements: [OutgoingStatement]) -> [OutgoingStatement] {
        [OutgoingStatement(command: "BEGIN")] + statements + [OutgoingStatement(command: "COMMIT")]
    }

    /// The place right behind a COMMIT that `finishCommit` waits for, on the same connection:
    /// a transaction sent there (`startCommit`) starts on the server the moment that COMMIT is
    /// done, without waiting for this side to read the answer and send (on a busy machine, two
    /// wake-ups: this side's, then the server's). Usable only inside `finishCommit`'s
    /// `meanwhile`, and once; its results are read with `connection.finishCommit`.
    public final class BehindCommit: @unchecked Sendable {
        /// Where a transaction sent here runs and is read.
        public let connection: PostgresConnection
        /// libpq's handle, while `meanwhile` runs (its lock is held meanwhile).
        fileprivate var raw: OpaquePointer?
        /// How many statements were sent here, once they were.
        public fileprivate(set) var sentStatements: Int?
        /// Whether sending began, even if it broke off (the connection is then broken).
        fileprivate var attempted = false

        fileprivate init(_ connection: PostgresConnection) {
            self.connection = connection
        }

        /// Sends [BEGIN, `statements`, COMMIT] as `PostgresConnection.startCommit` does. False,
        /// with nothing sent, when a statement is not prepared on this connection yet (preparing
        /// takes a round trip of its own): then send it the usual way.
        public func startCommit(_ statements: [PostgresStatement]) throws -> Bool {
            guard let raw, !attempted else { preconditionFailure("BehindCommit used outside finishCommit's meanwhile, or twice") }
            guard let outgoing = try connection.outgoing(statements, prepare: false) else { return false }
            let commands = PostgresConnection.commitCommands(outgoing)
            attempted = true
            guard PostgresConnection.send(commands, flushBefore: commands.count - 1, on: raw) else {
                // Whatever reached the server is never read: the connection is given up, and
                // the transaction in front is still read to its end.
                connection.markBroken()
                throw DatabaseError(kind: .unavailable, message: PostgresConnection.errorMessage(raw, fallback: "a pipeline to PostgreSQL broke off"))
            }
            sentStatements = statements.count
            return true
        }
    }

    /// The results of the statements `startCommit` sent, once they committed; throws the first
    /// failure, and then nothing was committed (the pool rolls the transaction back when the
    /// connection comes back). `meanwhile` gets the statements' results as soon as they are
    /// in, while the COMMIT still runs, when they all succeeded: work that only matters if the
    /// commit succeeds, and can be thrown away otherwise. It may send the next transaction
    /// right behind this COMMIT (`BehindCommit`); whether it did, this call returns or throws as
    /// usual, and the connection then waits for a `finishCommit` of that transaction.
    public func finishCommit(meanwhile: ([PostgresResult], BehindCommit) -> Void = { _, _ in }) throws -> [PostgresResult] {
        let count = state.withLock { state -> Int? in
            defer { state.pendingCommit = nil }
            return state.pendingCommit
        }
        guard let count else { preconditionFailure("finishCommit without startCommit") }
        let behind = BehindCommit(self)
        defer {
            if let next = behind.sentStatements { state.withLock { $0.pendingCommit = next } }
        }
        return Array(try finishPipeline(count: count + 2, meanwhileAfter: count + 1, behind: behind) { meanwhile($0, behind) }
            .dropFirst().prefix(count))
    }

    /// With `flushBefore`, a flush request goes before that statement: the server sends what it
    /// has answered so far before it runs it.
    private func startPipeline(_ statements: [OutgoingStatement], flushBefore: Int? = nil) throws(DatabaseError) {
        if state.withLock({ $0.broken }) {
            throw DatabaseError(kind: .unavailable, message: "the PostgreSQL connection was lost earlier and cannot be reused")
        }
        let outcome: Result<Void, DatabaseError> = handle.withLock { connection in
            guard let connection else { return .failure(Self.closedError) }
            guard PQenterPipelineMode(connection) == 1 else {
                return .failure(DatabaseError(kind: .unavailable, message: Self.errorMessage(connection, fallback: "could not start a pipeline")))
            }
            guard Self.send(statements, flushBefore: flushBefore, on: connection) else {
                let error = DatabaseError(kind: .unavailable, message: Self.errorMessage(connection, fallback: "a pipeline to PostgreSQL broke off"))
                _ = PQexitPipelineMode(connection)
                return .failure(error)
            }
            return .success(())
        }
        if case .failure(let error) = outcome {
            markBroken()
            throw error
        }
    }

    /// Queues the statements and a sync on a connection in pipeline mode, and sends them; false
    /// when libpq could not.
    private static func send(_ statements: [OutgoingStatement], flushBefore: Int?, on connection: OpaquePointer) -> Bool {
        var sent = true
        for (index, statement) in statements.enumerated() where sent {
            if index == flushBefore { sent = PQsendFlushRequest(connection) == 1 }
            sent = sent && statement.send(on: connection)
        }
        return sent && PQpipelineSync(connection) == 1
    }

    /// Reads the results of the `count` statements `startPipeline` sent. `meanwhile` gets the
    /// first `meanwhileAfter` results, read, as soon as they are in and if they all succeeded.
    /// `behind`, when given, may be used by `meanwhile`; when it was, the pipeline stays open
    /// for the transaction sent there.
    private func finishPipeline(count: Int, meanwhileAfter: Int? = nil, behind: BehindCommit? = nil,
                                meanwhile: ([PostgresResult]) -> Void = { _ in }) throws(DatabaseError) -> [PostgresResult] {
        let outcome: Result<[PostgresResult], DatabaseError> = handle.withLock { connection in
            guard let connection else { return .failure(Self.closedError) }
            var raw: [OpaquePointer?] = []
            // The results handed to `meanwhile`, read once.
            var early: [PostgresResult] = []
            for index in 0..<count {
                if index == meanwhileAfter, !raw.contains(where: { $0 == nil }) {
                    for case let result? in raw {
                        guard case .success(let read) = Self.interpret(result, connection: connection) else { break }
                        early.append(read)
                    }
                    if early.count == raw.count {
                        behind?.raw = connection
                        meanwhile(early)
                        behind?.raw = nil
                    } else {
                        early = []
                    }
                }
                // A statement's results end with a NULL; it has one, unless the connection failed.
                var last: OpaquePointer?
                while let result = PQgetResult(connection) {
                    if let last { PQclear(last) }
                    last = result
                }
                raw.append(last)
            }
            while let result = PQgetResult(connection) {
                let synced = PQresultStatus(result) == PGRES_PIPELINE_SYNC
                PQclear(result)
                if synced { break }
            }
            defer { raw.forEach { PQclear($0) } }
            // With a transaction sent behind, the pipeline goes on; its reader leaves it.
            let exited = behind?.attempted == true || PQexitPipelineMode(connection) == 1
            guard raw.count == count, !raw.contains(where: { $0 == nil }), exited else {
                return .failure(DatabaseError(kind: .unavailable, message: Self.errorMessage(connection, fallback: "a pipeline to PostgreSQL broke off")))
            }
            var results = early
            for case let result? in raw.dropFirst(early.count) {
                switch Self.interpret(result, connection: connection) {
                case .success(let read): results.append(read)
                case .failure(let error): return .failure(error)
                }
            }
            return .success(results)
        }
        switch outcome {
        case .success(let results):
            state.withLock { $0.succeededCommands += results.count }
            return results
        case .failure(let error):
            if error.kind == .unavailable { markBroken() }
            throw error
        }
    }

    private func takePendingBegin() -> String? {
        state.withLock { state in
            defer { state.pendingBegin = nil }
            return state.pendingBegin
        }
    }

    static let maxPreparedStatements = 256

    /// The prepared statement's name for this text and parameter types, preparing it on its
    /// second use; nil to run it unprepared.
    private func preparedName(sql: String, types: [UInt32]) throws(DatabaseError) -> String? {
        let key = PreparedKey(sql: sql, types: types)
        let known = statements.withLock { statements -> String?? in
            if let name = statements.names[key] { return .some(name) }
            guard statements.names.count < Self.maxPreparedStatements else { return .some(nil) }
            // First sight: remember it, run it unprepared.
            if statements.seen.count >= 4 * Self.maxPreparedStatements { statements.seen.removeAll() }
            if statements.seen.insert(key).inserted { return .some(nil) }
            return .none
        }
        if let known { return known }
        let name = "zonectl_q\(statements.withLock { $0.names.count })"
        do throws(DatabaseError) {
            _ = try run { connection in PQprepare(connection, name, sql, Int32(types.count), types) }
        } catch {
            if error.kind == .unavailable { throw error }
            // E.g. inside a transaction that already failed: the statement itself will say why.
            return nil
        }
        statements.withLock { $0.names[key] = name }
        return name
    }

    /// The prepared statement's name for this text and parameter types, if it is prepared.
    private func preparedName(known sql: String, types: [UInt32]) -> String? {
        statements.withLock { $0.names[PreparedKey(sql: sql, types: types)] }
    }

    private struct PreparedKey: Hashable {
        let sql: String
        let types: [UInt32]
    }

    private struct PreparedStatements {
        var names: [PreparedKey: String] = [:]
        var seen: Set<PreparedKey> = []
    }

    private let statements = Mutex(PreparedStatements())

    /// Runs a script of one or more statements separated by semicolons, with no parameters
    /// (PQexec). Meant for migrations; outside a transaction the script runs as one implicit
    /// transaction.
    public func execute(_ sql: String) throws {
        let script = ([takePendingBegin()].compactMap { $0 } + [sql]).joined(separator: "; ")
        _ = try run { connection in PQexec(connection, script) }
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// When PostgreSQL aborts the transaction because of a serialization failure (40001) or a
    /// deadlock (40P01), the whole body runs again (at most 5 attempts, with a short random
    /// pause), so `body` must not have effects outside the database that cannot be repeated.
    /// Called inside another transaction it uses a savepoint, and leaves retrying to the outer
    /// one.
    @discardableResult
    public func transaction<T>(
        isolation: TransactionIsolation? = nil, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        // Already in a transaction (ours, or a `BEGIN` the caller ran): nest with a savepoint,
        // as a BEGIN here would be ignored and our COMMIT would end the caller's transaction.
        if state.withLock({ $0.transactionDepth > 0 }) || isInTransaction {
            return try savepoint(body)
        }
        let maxAttempts = 5
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try transactionOnce(isolation: isolation, body)
            } catch let error as DatabaseError where error.isTransient && attempt < maxAttempts {
                // Random pause, growing with the attempt, so the transactions that collided
                // do not collide again in lockstep.
                let millis = Int.random(in: 2...10) * attempt
                usleep(UInt32(millis * 1000))
            }
        }
    }

    private func transactionOnce<T>(
        isolation: TransactionIsolation?, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        // Sent with the body's first statement, saving a round trip.
        state.withLock {
            $0.pendingBegin = isolation?.sql ?? "BEGIN"
            $0.transactionDepth = 1
            $0.committed = false
        }
        defer { state.withLock { $0.transactionDepth = 0 } }
        let value: T
        do {
            value = try body(self)
        } catch {
            // Nothing to roll back when nothing was sent, or when `commit(after:)` ended it.
            if takePendingBegin() == nil && !state.withLock({ $0.committed }) { rollBackQuietly("ROLLBACK") }
            throw error
        }
        if takePendingBegin() != nil || state.withLock({ $0.committed }) { return value }
        // A COMMIT that fails (e.g. a serialization failure found at commit) has already ended
        // the transaction on the server; nothing to roll back.
        try execute("COMMIT")
        return value
    }

    private func savepoint<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let name = state.withLock { state -> String in
            state.nextSavepoint += 1
            state.transactionDepth += 1
            return "zonectl_sp\(state.nextSavepoint)"
        }
        defer { state.withLock { $0.transactionDepth -= 1 } }
        try execute("SAVEPOINT \(name)")
        do {
            let value = try body(self)
            try execute("RELEASE SAVEPOINT \(name)")
            return value
        } catch {
            rollBackQuietly("ROLLBACK TO SAVEPOINT \(name)")
            throw error
        }
    }

    /// Rolls back after a failure; the original error is what the caller needs, so a failure
    /// here only marks the connection unusable.
    private func rollBackQuietly(_ sql: String) {
        guard !isBroken else { return }
        do {
            try execute(sql)
        } catch {
            state.withLock { $0.broken = true }
        }
    }

    /// Whether the server considers a transaction open (also one left open by a plain
    /// `BEGIN` statement), so the pool can clean up before reusing the connection.
    var isInTransaction: Bool {
        handle.withLock { connection in
            guard let connection else { return false }
            return PQtransactionStatus(connection) != PQTRANS_IDLE
        }
    }

    // MARK: LISTEN / NOTIFY

    /// Subscribes to a notification channel; notifications are then read with `notifications`.
    public func listen(_ channel: String) throws {
        try execute("LISTEN \(Self.quoteIdentifier(channel))")
        state.withLock { $0.listening = true }
    }

    public func unlisten(_ channel: String) throws {
        try execute("UNLISTEN \(Self.quoteIdentifier(channel))")
    }

    /// Notifications that arrived on the channels this connection listens to, waiting up to
    /// `timeoutSeconds` for the first one; empty when none came in time.
    public func notifications(timeoutSeconds: Double) throws -> [(channel: String, payload: String)] {
        let deadline = Date().addingTimeInterval(max(0, timeoutSeconds))
        while true {
            let (received, socket) = try handle.withLock { connection throws(DatabaseError) in
                guard let connection else { throw Self.closedError }
                guard PQconsumeInput(connection) == 1 else {
                    throw DatabaseError(
                        kind: .unavailable,
                        message: Self.errorMessage(connection, fallback: "lost the connection to PostgreSQL"))
                }
                return (Self.drainNotifications(connection), PQsocket(connection))
            }
            if !received.isEmpty { return received }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return [] }
            guard socket >= 0 else {
                markBroken()
                throw DatabaseError(kind: .unavailable, message: "the PostgreSQL connection has no socket")
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let millis = Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up))
            let ready = poll(&descriptor, 1, millis)
            if ready < 0 && errno != EINTR {
                let reason = String(cString: strerror(errno))
                markBroken()
                throw DatabaseError(kind: .unavailable, message: "waiting for notifications failed: \(reason)")
            }
            // Readable, interrupted or timed out: consume and look again (the loop ends at the
            // deadline).
        }
    }

    private static func drainNotifications(_ connection: OpaquePointer) -> [(channel: String, payload: String)] {
        var received = [(channel: String, payload: String)]()
        while let notice = PQnotifies(connection) {
            received.append((String(cString: notice.pointee.relname), String(cString: notice.pointee.extra)))
            PQfreemem(notice)
        }
        return received
    }

    // MARK: Pool support

    /// Resets the per-checkout counter; see `succeededCommands`.
    func beginCheckout() {
        state.withLock { $0.succeededCommands = 0 }
    }

    var succeededCommandsSinceCheckout: Int { state.withLock { $0.succeededCommands } }

    /// Cheap liveness check for an idle connection: if the server closed the socket (restart,
    /// shutdown, idle timeout), the socket is readable and reading it reveals the loss. No
    /// round trip, so an idle pool costs nothing.
    func looksAlive() -> Bool {
        let alive = handle.withLock { connection -> Bool in
            guard let connection, PQstatus(connection) == CONNECTION_OK else { return false }
            let socket = PQsocket(connection)
            guard socket >= 0 else { return false }
            // Something that arrived while idle is a notification, a parameter change, or the
            // server's goodbye (an error message, then end-of-file). libpq tells which; one read
            // may stop after the message, so look again until nothing is left.
            for _ in 0..<8 {
                var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, 0)
                if ready == 0 { return true }
                if ready < 0 { return errno == EINTR }
                guard PQconsumeInput(connection) == 1, PQstatus(connection) == CONNECTION_OK else { return false }
            }
            // Still readable after eight reads: a flood of notifications, not a closed socket
            // (that fails the read). Let the command decide.
            return true
        }
        if !alive { markBroken() }
        return alive
    }

    /// Unsubscribes from every channel if the user listened, so a pooled connection does not
    /// collect notifications nobody reads.
    func stopListening() throws {
        guard state.withLock({ $0.listening }) else { return }
        try execute("UNLISTEN *")
        handle.withLock { connection in
            if let connection { _ = Self.drainNotifications(connection) }
        }
        state.withLock { $0.listening = false }
    }

    func markBroken() {
        state.withLock { $0.broken = true }
    }

    // MARK: Running commands

    private static let closedError = DatabaseError(kind: .unavailable, message: "the PostgreSQL connection is closed")

    /// Sends a command through `send` and turns its result into a `PostgresResult` or an error.
    private func run(_ send: (OpaquePointer) -> OpaquePointer?) throws(DatabaseError) -> PostgresResult {
        if state.withLock({ $0.broken }) {
            throw DatabaseError(kind: .unavailable, message: "the PostgreSQL connection was lost earlier and cannot be reused")
        }
        let outcome: Result<PostgresResult, DatabaseError> = handle.withLock { connection in
            guard let connection else { return .failure(Self.closedError) }
            guard let result = send(connection) else {
                // libpq refused the command itself (e.g. too many parameters) on a healthy
                // connection, or could not send it (connection gone, out of memory).
                if PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) != PQTRANS_ACTIVE {
                    return .failure(
                        DatabaseError(
                            kind: .query,
                            message: Self.errorMessage(connection, fallback: "libpq refused the command")))
                }
                return .failure(
                    DatabaseError(
                        kind: .unavailable,
                        message: Self.errorMessage(connection, fallback: "could not send the command to PostgreSQL")))
            }
            defer { PQclear(result) }
            return Self.interpret(result, connection: connection)
        }
        switch outcome {
        case .success(let result):
            state.withLock { $0.succeededCommands += 1 }
            return result
        case .failure(let error):
            if error.kind == .unavailable { markBroken() }
            throw error
        }
    }

    /// A result as rows, or as an error; `.unavailable` whenever the connection itself failed,
    /// even if the error looked statement-level (`error(from:connection:)`), as such a connection
    /// is useless.
    private static func interpret(_ result: OpaquePointer, connection: OpaquePointer) -> Result<PostgresResult, DatabaseError> {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return .success(read(result))
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            return .failure(DatabaseError(
                kind: PQstatus(connection) == CONNECTION_OK ? .query : .unavailable,
                message: "COPY is not supported through this connection"))
        default:
            return .failure(error(from: result, connection: connection))
        }
    }

    private static func read(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var names = [String]()
        names.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            names.append(String(cString: PQfname(result, Int32(column))))
        }
        let index = ColumnIndex(names: names)
        var rows = [PostgresRow]()
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values = [String?]()
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PostgresRow(columns: index, values: values))
        }
        // The command tag's count ("UPDATE 3", "SELECT 2"); commands without one report 0.
        let tagged = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(rows: rows, affectedRows: tagged, columnNames: names)
    }

    private static func error(from result: OpaquePointer, connection: OpaquePointer) -> DatabaseError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(Int32(ZONECTL_PG_DIAG_SQLSTATE))
        let primary = field(Int32(ZONECTL_PG_DIAG_MESSAGE_PRIMARY))
        let message =
            primary
            ?? errorText(PQresultErrorMessage(result))
            ?? errorMessage(connection, fallback: "PostgreSQL reported an error without a message")
        // No SQLSTATE means libpq itself failed (socket closed, protocol error): the connection,
        // not the statement, is at fault.
        let unavailable = sqlState.map(DatabaseError.isUnavailableState) ?? true
        return DatabaseError(
            kind: unavailable || PQstatus(connection) != CONNECTION_OK ? .unavailable : .query,
            sqlState: sqlState,
            message: message,
            detail: field(Int32(ZONECTL_PG_DIAG_MESSAGE_DETAIL)),
            constraint: field(Int32(ZONECTL_PG_DIAG_CONSTRAINT_NAME)),
            hint: field(Int32(ZONECTL_PG_DIAG_MESSAGE_HINT)),
            table: field(Int32(ZONECTL_PG_DIAG_TABLE_NAME)),
            column: field(Int32(ZONECTL_PG_DIAG_COLUMN_NAME)))
    }

    private static func errorText(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        let text = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    private static func errorMessage(_ connection: OpaquePointer, fallback: String) -> String {
        errorText(PQerrorMessage(connection)) ?? fallback
    }

    /// `"name"` with inner quotes doubled: channel names cannot be bound as parameters.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: C strings

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        withOptionalCStrings(strings.map { Optional($0) } + [nil], body)
    }

    private static func withOptionalCStrings<R>(
        _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { buffer in
            // An empty buffer has no base address; libpq accepts NULL when there are no values.
            guard let base = buffer.baseAddress else {
                let none: [UnsafePointer<CChar>?] = [nil]
                return none.withUnsafeBufferPointer { body($0.baseAddress!) }
            }
            return body(base)
        }
    }
}

import Foundation
import IntegrationHarness
import Store
import Testing

@Suite("PostgresConnection against a real PostgreSQL")
struct PostgresConnectionTests {
    @Test("every parameter type goes in and comes back unchanged")
    func parameterRoundTrip() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute(
            """
            CREATE TABLE sample (
                id bigint PRIMARY KEY, label text, flag boolean, blob bytea, ratio double precision,
                tags text[], document jsonb
            )
            """)
        let allBytes = (0...255).map(UInt8.init)
        let unicode = "zürich.example ✓ 🚀 日本語 \u{200B} \"quoted\" back\\slash"
        let inserted = try db.query(
            "INSERT INTO sample VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14)",
            [.int(Int64.max), .text(unicode), .bool(true), .bytea(allBytes), .double(-1.5e-300),
             .textArray(["a,b", "{brace}", "NULL", "", nil, "quote\"s", unicode]), .json(#"{"k": [1, "é"]}"#),
             .int(Int64.min), .null, .bool(false), .bytea([]), .double(.infinity), .null, .null])
        #expect(inserted.affectedRows == 2)

        let rows = try db.query(
            "SELECT id, label, flag, blob, ratio, tags[1:6] AS tags, tags[7] AS seventh, document->'k'->>1 AS second FROM sample ORDER BY id DESC"
        ).rows
        try #require(rows.count == 2)
        #expect(try rows[0].int("id") == Int64.max)
        #expect(try rows[0].string("label") == unicode)
        #expect(try rows[0].bool("flag") == true)
        #expect(try rows[0].bytea("blob") == allBytes)
        #expect(try rows[0].double("ratio") == -1.5e-300)
        #expect(rows[0]["tags"] == #"{"a,b","{brace}","NULL","",NULL,"quote\"s"}"#)
        #expect(rows[0]["seventh"] == unicode)
        #expect(rows[0]["second"] == "é")

        #expect(try rows[1].int("id") == Int64.min)
        #expect(try rows[1].optionalString("label") == nil)
        #expect(rows[1]["label"] == nil)
        #expect(try rows[1].optionalBool("flag") == false)
        #expect(try rows[1].bytea("blob") == [])
        #expect(try rows[1].double("ratio") == .infinity)
        #expect(try rows[1].isNull("tags"))

        // NULL array elements and "NULL" the word stay apart.
        let nulls = try db.query("SELECT count(*) AS n FROM sample, unnest(tags) AS tag WHERE tag IS NULL")
        #expect(try nulls.rows[0].int("n") == 1)
        let any = try db.query("SELECT id FROM sample WHERE $1 = ANY(tags)", [.text("NULL")])
        #expect(any.rows.count == 1)
    }

    @Test("untyped parameters take their type from the context; bytea stays bytea even in SELECT $1")
    func parameterTypesInference() throws {
        let db = try freshConnection()
        defer { db.close() }
        let row = try #require(
            try db.query(
                "SELECT $1 AS raw, pg_typeof($1)::text AS raw_type, $2::int + 1 AS next, $3::boolean AS yes",
                [.bytea([0xde, 0xad]), .int(41), .bool(true)]
            ).first)
        #expect(try row.bytea("raw") == [0xde, 0xad])
        #expect(row["raw_type"] == "bytea")
        #expect(try row.int("next") == 42)
        #expect(try row.bool("yes"))
    }

    @Test(
        "SQL-looking input is stored verbatim, never run",
        arguments: [
            "'); DROP TABLE notes; --", "x' OR '1'='1", "$1", "\\x00ff", "E'\\\\'", "\"; SELECT pg_sleep(5); --",
            "Robert'); DELETE FROM notes WHERE ('a'='a",
        ])
    func injectionIsData(_ hostile: String) throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE notes (body text NOT NULL)")
        _ = try db.query("INSERT INTO notes (body) VALUES ($1)", [.text(hostile)])
        let found = try db.query("SELECT body FROM notes WHERE body = $1", [.text(hostile)])
        #expect(found.rows.count == 1)
        #expect(try found.rows[0].string("body") == hostile)
        #expect(try db.query("SELECT count(*) AS n FROM notes").rows[0].int("n") == 1)
    }

    @Test("a NUL character in text is refused before it can be cut short")
    func nulRefused() throws {
        let db = try freshConnection()
        defer { db.close() }
        let error = try #require(throws: DatabaseError.self) {
            try db.query("SELECT $1::text", [.text("before\u{0}after")])
        }
        #expect(error.kind == .query)
        #expect(error.message.contains("$1"))
        #expect(!db.isBroken)
    }

    @Test("constraint violations carry SQLSTATE, constraint and table; the connection stays usable")
    func errorsCarryDiagnostics() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute(
            """
            CREATE TABLE parent (id int PRIMARY KEY, name text UNIQUE);
            CREATE TABLE child (id int PRIMARY KEY, parent_id int CONSTRAINT child_parent_fk REFERENCES parent (id));
            INSERT INTO parent VALUES (1, 'one');
            """)
        let unique = try #require(throws: DatabaseError.self) {
            try db.query("INSERT INTO parent VALUES ($1, $2)", [.int(2), .text("one")])
        }
        #expect(unique.kind == .query)
        #expect(unique.isUniqueViolation)
        #expect(unique.sqlState == "23505")
        #expect(unique.constraint == "parent_name_key")
        #expect(unique.table == "parent")
        #expect(unique.detail?.contains("(name)=(one)") == true)

        let foreign = try #require(throws: DatabaseError.self) {
            try db.query("INSERT INTO child VALUES (1, $1)", [.int(99)])
        }
        #expect(foreign.isForeignKeyViolation)
        #expect(foreign.constraint == "child_parent_fk")
        #expect(!foreign.isUniqueViolation)

        let syntax = try #require(throws: DatabaseError.self) { try db.query("SELEC 1") }
        #expect(syntax.sqlState == "42601")
        #expect(syntax.kind == .query)
        #expect("\(syntax)".contains("syntax error"))

        #expect(!db.isBroken)
        #expect(try db.query("SELECT 1 AS one").rows[0].int("one") == 1)
    }

    @Test("affectedRows counts what the command touched; column names come in order")
    func resultShape() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE n (v int); INSERT INTO n SELECT generate_series(1, 10)")
        #expect(try db.query("UPDATE n SET v = v + 1 WHERE v > $1", [.int(7)]).affectedRows == 3)
        #expect(try db.query("DELETE FROM n WHERE v = $1", [.int(100)]).affectedRows == 0)
        let selected = try db.query("SELECT v AS value, v * 2 AS doubled FROM n ORDER BY v LIMIT 4")
        #expect(selected.affectedRows == 4)
        #expect(selected.columnNames == ["value", "doubled"])
        #expect(selected.rows.count == 4)
    }

    @Test("typed accessors name the column when a value is NULL, missing or of another type")
    func rowDecodingErrors() throws {
        let db = try freshConnection()
        defer { db.close() }
        let row = try #require(try db.query("SELECT NULL::text AS gone, 'abc' AS word").first)
        let null = try #require(throws: RowDecodingError.self) { try row.string("gone") }
        #expect(null.column == "gone")
        let missing = try #require(throws: RowDecodingError.self) { try row.int("nope") }
        #expect(missing.description.contains("nope"))
        #expect(throws: RowDecodingError.self) { try row.int("word") }
        #expect(throws: RowDecodingError.self) { try row.bool("word") }
        #expect(try row.optionalInt("gone") == nil)
    }

    @Test("a transaction commits when the body returns and rolls back when it throws")
    func transactionCommitAndRollback() throws {
        struct Refused: Error {}
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE entries (v int)")

        let returned = try db.transaction { tx in
            _ = try tx.query("INSERT INTO entries VALUES ($1)", [.int(1)])
            return "done"
        }
        #expect(returned == "done")

        #expect(throws: Refused.self) {
            try db.transaction { tx in
                _ = try tx.query("INSERT INTO entries VALUES ($1)", [.int(2)])
                throw Refused()
            }
        }
        // A statement error inside also rolls back what came before it.
        #expect(throws: DatabaseError.self) {
            try db.transaction { tx in
                _ = try tx.query("INSERT INTO entries VALUES ($1)", [.int(3)])
                _ = try tx.query("INSERT INTO entries VALUES ($1)", [.text("not a number")])
            }
        }
        let values = try db.query("SELECT v FROM entries ORDER BY v").rows.map { try $0.int("v") }
        #expect(values == [1])
        #expect(try db.query("SELECT 1 AS ok").rows.count == 1)
    }

    @Test("a nested transaction is a savepoint: its failure undoes only its own work")
    func nestedTransactionIsSavepoint() throws {
        struct Refused: Error {}
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE entries (v int)")
        try db.transaction { tx in
            _ = try tx.query("INSERT INTO entries VALUES (1)")
            do {
                try tx.transaction { inner in
                    _ = try inner.query("INSERT INTO entries VALUES (2)")
                    throw Refused()
                }
            } catch is Refused {}
            try tx.transaction { inner in _ = try inner.query("INSERT INTO entries VALUES (3)") }
        }
        let values = try db.query("SELECT v FROM entries ORDER BY v").rows.map { try $0.int("v") }
        #expect(values == [1, 3])
    }

    @Test("transaction() inside a transaction the caller began with BEGIN does not end it early")
    func transactionInsideRawBegin() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE entries (v int)")
        try db.execute("BEGIN")
        try db.transaction { tx in _ = try tx.query("INSERT INTO entries VALUES (1)") }
        try db.execute("ROLLBACK")
        #expect(try db.query("SELECT count(*) AS n FROM entries").rows[0].int("n") == 0)
    }

    @Test("a command libpq itself refuses is a query error and leaves the connection usable")
    func clientSideRefusal() throws {
        let db = try freshConnection()
        defer { db.close() }
        let tooMany = [PostgresParameter](repeating: .int(1), count: 70_000)
        let error = try #require(throws: DatabaseError.self) { try db.query("SELECT $1", tooMany) }
        #expect(error.kind == .query)
        #expect(!db.isBroken)
        #expect(try db.query("SELECT 2 AS two").rows[0].int("two") == 2)
    }

    @Test("a serialization failure runs the whole transaction again, and both writers succeed")
    func serializationFailureIsRetried() throws {
        let conninfo = try freshDatabase()
        let setup = try PostgresConnection(conninfo: conninfo)
        defer { setup.close() }
        try setup.execute("CREATE TABLE duty (doctor text PRIMARY KEY, on_call boolean NOT NULL)")
        _ = try setup.query("INSERT INTO duty VALUES ('alice', true), ('bob', true)")

        // Write skew: each checks that two doctors are on call, then takes one off. Both read
        // before either writes, so SERIALIZABLE must abort one of them.
        let bothRead = Rendezvous(parties: 2)
        let attempts = Counter()
        let failures = Counter()
        onThreads(2) { index in
            let doctor = index == 0 ? "alice" : "bob"
            var attempt = 0
            do {
                let db = try PostgresConnection(conninfo: conninfo)
                defer { db.close() }
                try db.transaction(isolation: .serializable) { tx in
                    attempt += 1
                    attempts.add()
                    let onCall = try tx.query("SELECT count(*) AS n FROM duty WHERE on_call").rows[0].int("n")
                    if attempt == 1 { bothRead.arriveAndWait() }
                    if onCall >= 2 {
                        _ = try tx.query("UPDATE duty SET on_call = false WHERE doctor = $1", [.text(doctor)])
                    }
                }
            } catch {
                failures.add()
            }
        }
        #expect(failures.current == 0)
        // One ran once, the other was aborted and ran again (seeing one doctor left on call).
        #expect(attempts.current == 3)
        let onCall = try setup.query("SELECT count(*) AS n FROM duty WHERE on_call").rows[0].int("n")
        #expect(onCall == 1)
    }

    @Test("an error that is not a serialization failure is not retried")
    func otherErrorsNotRetried() throws {
        let db = try freshConnection()
        defer { db.close() }
        var attempts = 0
        #expect(throws: DatabaseError.self) {
            try db.transaction { tx in
                attempts += 1
                _ = try tx.query("SELECT 1 / 0")
            }
        }
        #expect(attempts == 1)
    }

    @Test("a transaction that keeps failing to serialize gives up after 5 attempts with the error")
    func retryGivesUp() throws {
        let db = try freshConnection()
        defer { db.close() }
        var attempts = 0
        let error = try #require(throws: DatabaseError.self) {
            try db.transaction { tx in
                attempts += 1
                // Raise the SQLSTATE PostgreSQL uses for serialization failures.
                try tx.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
            }
        }
        #expect(error.isSerializationFailure)
        #expect(attempts == 5)
        #expect(!db.isBroken)
    }

    @Test("LISTEN receives pg_notify from another connection; no notification means an empty list after the wait")
    func listenNotify() throws {
        let conninfo = try freshDatabase()
        let listener = try PostgresConnection(conninfo: conninfo)
        let sender = try PostgresConnection(conninfo: conninfo)
        defer {
            listener.close()
            sender.close()
        }
        try listener.listen("zone_changed")
        try listener.listen("odd \"channel\"")

        let started = Date()
        #expect(try listener.notifications(timeoutSeconds: 0.3).isEmpty)
        #expect(Date().timeIntervalSince(started) >= 0.25)

        _ = try sender.query("SELECT pg_notify($1, $2)", [.text("zone_changed"), .text("example.com.")])
        _ = try sender.query("SELECT pg_notify($1, $2)", [.text("odd \"channel\""), .text("ü")])
        _ = try sender.query("SELECT pg_notify($1, $2)", [.text("not_listened"), .text("x")])

        var received = [(channel: String, payload: String)]()
        let deadline = Date().addingTimeInterval(10)
        while received.count < 2 && Date() < deadline {
            received += try listener.notifications(timeoutSeconds: 5)
        }
        #expect(received.map(\.channel) == ["zone_changed", "odd \"channel\""])
        #expect(received.map(\.payload) == ["example.com.", "ü"])
    }

    @Test("a notification sent while the listener waits wakes it before the timeout")
    func notificationWakesWaiter() throws {
        let conninfo = try freshDatabase()
        let listener = try PostgresConnection(conninfo: conninfo)
        defer { listener.close() }
        try listener.listen("wake")
        let sent = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            if let sender = try? PostgresConnection(conninfo: conninfo) {
                _ = try? sender.query("NOTIFY wake, 'now'")
                sender.close()
            }
        }
        sent.start()
        let started = Date()
        let received = try listener.notifications(timeoutSeconds: 20)
        #expect(received.map(\.payload) == ["now"])
        #expect(Date().timeIntervalSince(started) < 15)
    }

    @Test("a connection whose server session ends is broken and reports .unavailable")
    func terminatedSessionIsUnavailable() throws {
        let conninfo = try freshDatabase()
        let victim = try PostgresConnection(conninfo: conninfo)
        let admin = try PostgresConnection(conninfo: conninfo)
        defer {
            victim.close()
            admin.close()
        }
        let pid = try victim.query("SELECT pg_backend_pid() AS pid").rows[0].int("pid")
        _ = try admin.query("SELECT pg_terminate_backend($1::int)", [.int(pid)])
        let error = try #require(throws: DatabaseError.self) { try victim.query("SELECT 1") }
        #expect(error.kind == .unavailable)
        #expect(victim.isBroken)
        #expect(!admin.isBroken)
    }

    @Test("connecting to nothing fails with .unavailable and libpq's reason; URL conninfo works")
    func connectFailures() throws {
        let port = FreePort.tcp()
        let error = try #require(throws: DatabaseError.self) {
            try PostgresConnection(conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=x", connectTimeoutSeconds: 2)
        }
        #expect(error.kind == .unavailable)
        #expect(error.message.contains("\(port)"))

        let cluster = try PostgresCluster.shared()
        let url = try PostgresConnection(conninfo: "postgresql://postgres@127.0.0.1:\(cluster.port)/postgres")
        defer { url.close() }
        #expect(try url.query("SELECT current_database() AS db").rows[0].string("db") == "postgres")

        let missing = try #require(throws: DatabaseError.self) {
            try PostgresConnection(conninfo: cluster.conninfo(database: "does_not_exist"))
        }
        #expect(missing.message.contains("does_not_exist"))
    }

    @Test("a statement run twice is prepared once and then run by name; a failed transaction still reports its own error")
    func repeatedStatementsArePrepared() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE counted (n bigint, label text)")
        let insert = "INSERT INTO counted VALUES ($1, $2)"
        for n in 1...5 { try db.query(insert, [.int(Int64(n)), .text("row \(n)")]) }
        // NULLs go through the same prepared statement (their type is left to the server too).
        try db.query(insert, [.null, .null])
        try db.query(insert, [.null, .null])
        let rows = try db.query("SELECT count(*) AS n, count(label) AS labelled, sum(n) AS total FROM counted").rows
        #expect(rows[0]["n"] == "7")
        #expect(rows[0]["labelled"] == "5")
        #expect(rows[0]["total"] == "15")
        let prepared = try db.query("SELECT statement FROM pg_prepared_statements WHERE statement = $1", [.text(insert)]).rows
        #expect(prepared.count == 1)

        // Inside a failed transaction a new statement cannot be prepared: the caller still gets
        // PostgreSQL's own refusal, and the connection works after the rollback.
        let fresh = "SELECT n FROM counted WHERE n = $1"
        try db.query(fresh, [.int(1)])
        try db.execute("BEGIN")
        #expect(throws: DatabaseError.self) { try db.query("SELECT 1 / 0") }
        let refused = #expect(throws: DatabaseError.self) { try db.query(fresh, [.int(2)]) }
        #expect(refused?.sqlState == "25P02")
        try db.execute("ROLLBACK")
        #expect(try db.query(fresh, [.int(2)]).rows.first?["n"] == "2")
        #expect(try db.query(fresh, [.int(3)]).rows.first?["n"] == "3")
    }

    @Test("a statement planned per call is never prepared, and other plans are PostgreSQL's choice")
    func plannedPerCallStatementsStayUnprepared() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE paged (n bigint PRIMARY KEY)")
        try db.execute("INSERT INTO paged SELECT generate_series(1, 10)")
        let page = "SELECT n FROM paged WHERE ($1::bigint IS NULL OR n > $1) ORDER BY n LIMIT 3"
        for after in [nil, 3, 6] as [Int64?] {
            let rows = try db.query(page, [after.map(PostgresParameter.int) ?? .null], planEachCall: true).rows
            #expect(rows.map { $0["n"] } == (1...3).map { String((after ?? 0) + $0) })
        }
        let prepared = try db.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [.text(page)]).rows
        #expect(prepared.first?["n"] == "0")
        // Forcing a plan per call on the session would re-plan every foreign-key check and
        // trigger statement too (Store's PostgresConnection says why that was dropped).
        #expect(try db.query("SELECT current_setting('plan_cache_mode') AS mode").rows.first?["mode"] == "auto")
    }

    @Test("BEGIN travels with a transaction's first statement: isolation, rollback on failure and empty bodies still behave")
    func beginSentWithFirstStatement() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE kept (n bigint PRIMARY KEY)")
        // The isolation level asked for is the one the first statement runs under.
        let level = try db.transaction(isolation: .repeatableRead) { db in
            try db.query("SELECT current_setting('transaction_isolation') AS level", []).rows.first?["level"]
        }
        #expect(level == "repeatable read")
        // A first statement that fails inside the transaction: nothing stays, the connection works.
        #expect(throws: DatabaseError.self) {
            try db.transaction { db in
                try db.query("INSERT INTO kept VALUES ($1), ($1)", [.int(1)])
            }
        }
        // A failure after some work rolls that work back.
        #expect(throws: DatabaseError.self) {
            try db.transaction { db in
                try db.query("INSERT INTO kept VALUES ($1)", [.int(2)])
                try db.query("INSERT INTO kept VALUES ($1)", [.int(2)])
            }
        }
        // A body that sends nothing commits nothing and leaves no transaction open.
        try db.transaction { _ in }
        #expect(throws: DatabaseError.self) { try db.execute("SAVEPOINT probe") }  // only inside a transaction
        try db.transaction { db in try db.query("INSERT INTO kept VALUES ($1)", [.int(3)]) }
        // A savepoint as the first command nests inside the pending BEGIN.
        try db.transaction { db in
            try db.transaction { db in try db.query("INSERT INTO kept VALUES ($1)", [.int(4)]) }
        }
        #expect(try db.query("SELECT string_agg(n::text, ',' ORDER BY n) AS ns FROM kept", []).rows.first?["ns"] == "3,4")
    }

    @Test("queries() runs statements in order in one round trip; the first failure throws and stops the rest")
    func pipelinedStatements() throws {
        let db = try freshConnection()
        defer { db.close() }
        try db.execute("CREATE TABLE piped (n bigint PRIMARY KEY)")
        let results = try db.queries([
            PostgresStatement("INSERT INTO piped VALUES ($1), ($2)", [.int(1), .int(2)]),
            PostgresStatement("SELECT count(*) AS n FROM piped"),
            PostgresStatement("SELECT $1::text AS echoed", [.text("three")], planEachCall: true),
        ])
        #expect(results.count == 3)
        #expect(results[0].affectedRows == 2)
        // Each statement sees what the ones before it did.
        #expect(try results[1].rows[0].int("n") == 2)
        #expect(results[2].rows.first?["echoed"] == "three")

        // Outside a transaction the statements form one implicit transaction: the one before
        // the failure is undone too, the one after it never runs.
        let failure = #expect(throws: DatabaseError.self) {
            try db.queries([
                PostgresStatement("INSERT INTO piped VALUES ($1)", [.int(10)]),
                PostgresStatement("INSERT INTO piped VALUES ($1)", [.int(1)]),
                PostgresStatement("INSERT INTO piped VALUES ($1)", [.int(11)]),
            ])
        }
        #expect(failure?.sqlState == "23505")
        #expect(try db.query("SELECT string_agg(n::text, ',' ORDER BY n) AS ns FROM piped").rows.first?["ns"] == "1,2")

        // Inside a transaction, a failure rolls back everything, and the connection stays usable.
        #expect(throws: DatabaseError.self) {
            try db.transaction { db in
                try db.queries([
                    PostgresStatement("INSERT INTO piped VALUES ($1)", [.int(20)]),
                    PostgresStatement("INSERT INTO piped VALUES ($1)", [.int(20)]),
                ])
            }
        }
        #expect(try db.query("SELECT count(*) AS n FROM piped").rows[0].int("n") == 2)
    }

    @Test("commit(after:) ends the transaction in the same round trip; a failing statement commits nothing")
    func commitAfterStatements() throws {
        let conninfo = try freshDatabase()
        let db = try PostgresConnection(conninfo: conninfo)
        let other = try PostgresConnection(conninfo: conninfo)
        defer {
            db.close()
            other.close()
        }
        try db.execute("CREATE TABLE ended (n bigint PRIMARY KEY)")
        let seen = try db.transaction { db -> Int64 in
            try db.query("INSERT INTO ended VALUES ($1)", [.int(1)])
            let results = try db.commit(after: [
                PostgresStatement("INSERT INTO ended VALUES ($1)", [.int(2)]),
                PostgresStatement("SELECT count(*) AS n FROM ended"),
            ])
            // Committed already: another session sees both rows before the body returns.
            #expect(try other.query("SELECT count(*) AS n FROM ended").rows[0].int("n") == 2)
            // The transaction is over; a statement after it would run outside it.
            #expect(throws: DatabaseError.self) { try db.query("INSERT INTO ended VALUES ($1)", [.int(3)]) }
            return try results[1].rows[0].int("n")
        }
        #expect(seen == 2)
        #expect(!db.isBroken)

        // A failing statement: the COMMIT does not run, the work before it is rolled back.
        #expect(throws: DatabaseError.self) {
            try db.transaction { db in
                try db.query("INSERT INTO ended VALUES ($1)", [.int(5)])
                try db.commit(after: [PostgresStatement("INSERT INTO ended VALUES ($1)", [.int(1)])])
            }
        }
        #expect(try db.query("SELECT string_agg(n::text, ',' ORDER BY n) AS ns FROM ended").rows.first?["ns"] == "1,2")

        // Inside a nested transaction there is nothing to commit yet: the outer one decides.
        #expect(throws: DatabaseError.self) {
            try db.transaction { db in
                try db.transaction { db in
                    try db.commit(after: [PostgresStatement("INSERT INTO ended VALUES ($1)", [.int(6)])])
                }
                #expect(try other.query("SELECT count(*) AS n FROM ended WHERE n = 6").rows[0].int("n") == 0)
                try db.query("SELECT 1/0")
            }
        }
        #expect(try db.query("SELECT count(*) AS n FROM ended WHERE n = 6").rows[0].int("n") == 0)
    }

    @Test("a transaction sent behind a COMMIT runs after it on the same connection, also when that COMMIT fails; unprepared statements are not sent there")
    func transactionBehindCommit() throws {
        let db = try freshConnection()
        defer { db.close() }
        // Deferred: a duplicate fails the COMMIT, not the INSERT, so the first transaction's
        // results come in (and `meanwhile` runs) before its COMMIT fails.
        try db.execute("CREATE TABLE queued (n bigint, CONSTRAINT queued_once UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)")
        let insert = { (n: Int64) in PostgresStatement("INSERT INTO queued VALUES ($1) RETURNING n, txid_current() AS tx", [.int(n)]) }
        // Seen twice, so prepared: only prepared statements may go behind a COMMIT.
        try db.transaction { db in
            try db.query(insert(1).sql, insert(1).parameters)
            try db.query(insert(2).sql, insert(2).parameters)
        }

        // Unprepared: refused, and nothing was sent.
        try db.startCommit([insert(3)])
        var refused: Bool?
        _ = try db.finishCommit { _, behind in
            refused = try? behind.startCommit([PostgresStatement("INSERT INTO queued VALUES ($1 + 100)", [.int(4)])])
        }
        #expect(refused == false)
        #expect(try db.query("SELECT string_agg(n::text, ',' ORDER BY n) AS ns FROM queued").rows.first?["ns"] == "1,2,3")

        // Sent behind: its answers are read with a second finishCommit, and it committed in a
        // transaction of its own after the first.
        try db.startCommit([insert(5)])
        var accepted: Bool?
        let first = try db.finishCommit { _, behind in
            accepted = try? behind.startCommit([insert(6)])
            #expect(behind.connection === db)
        }
        #expect(accepted == true)
        let second = try db.finishCommit()
        #expect(try first[0].rows[0].int("n") == 5)
        #expect(try second[0].rows[0].int("n") == 6)
        #expect(try second[0].rows[0].int("tx") > first[0].rows[0].int("tx"))

        // The COMMIT in front fails (a duplicate 1): the one behind it still runs and commits.
        try db.startCommit([insert(1)])
        let failed = #expect(throws: DatabaseError.self) {
            _ = try db.finishCommit { _, behind in _ = try? behind.startCommit([insert(7)]) }
        }
        #expect(failed?.sqlState == "23505")
        #expect(try db.finishCommit()[0].rows[0].int("n") == 7)
        // The connection is out of the pipeline and usable as ever.
        #expect(!db.isBroken)
        #expect(try db.query("SELECT string_agg(n::text, ',' ORDER BY n) AS ns FROM queued").rows.first?["ns"] == "1,2,3,5,6,7")
    }
}

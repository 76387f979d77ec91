import Foundation
import HTTPServer
import IntegrationHarness
import Synchronization
import Testing

@Suite("Service: health, readiness, routing, load and database outages")
struct ServiceTests {
    @Test("health answers without a token; readiness reflects the database")
    func healthAndReadiness() throws {
        let api = try APIFixture()
        let health = try api.client.send("GET", "/v1/health")
        #expect(health.status == 200)
        #expect(try health.json()["status"] == .string("ok"))
        #expect(try api.client.send("GET", "/v1/ready").status == 200)
    }

    @Test("unknown paths are 404 and wrong methods 405 with Allow, as problem+json")
    func routingErrors() throws {
        let api = try APIFixture()
        let missing = try api.client.send("GET", "/v1/nothing-here", token: api.operatorToken)
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/problem+json")
        let wrongMethod = try api.client.send("PUT", "/v1/accounts", token: api.operatorToken, json: "{}")
        #expect(wrongMethod.status == 405)
        let allow = Set((wrongMethod.header("Allow") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        #expect(allow.isSuperset(of: ["GET", "POST"]))
    }

    @Test("64 concurrent clients on a pool of 4 connections are all answered")
    func concurrentRequests() throws {
        let api = try APIFixture(threads: 4)
        _ = try api.createAccount("acme")
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 64) { index in
            let status: Int
            do {
                let response = index.isMultiple(of: 2)
                    ? try api.client.send("GET", "/v1/accounts", token: api.operatorToken)
                    : try api.client.send("POST", "/v1/accounts", token: api.operatorToken, json: #"{"name": "c\#(index)"}"#)
                status = response.status
            } catch {
                status = -1
            }
            statuses.withLock { $0.append(status) }
        }
        let all = statuses.withLock { $0 }
        #expect(all.count == 64)
        #expect(all.filter { $0 == 200 }.count == 32)
        #expect(all.filter { $0 == 201 }.count == 32)
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM accounts") == "33")
    }

    @Test("PostgreSQL stopped under the server: 503 problem, then 200 again without a restart")
    func databaseOutage() throws {
        let cluster = try PostgresCluster.start()
        defer { try? cluster.stop() }
        let api = try APIFixture(cluster: cluster, threads: 2, connectTimeoutSeconds: 2)
        #expect(try api.client.send("GET", "/v1/accounts", token: api.operatorToken).status == 200)

        try cluster.stop()
        let ready = try api.client.send("GET", "/v1/ready")
        #expect(ready.status == 503)
        #expect(ready.header("Content-Type") == "application/problem+json")
        for _ in 0..<3 {
            let during = try api.client.send("GET", "/v1/accounts", token: api.operatorToken)
            #expect(during.status == 503)
            #expect(during.header("Retry-After") != nil)
            #expect(try during.problemDetail().contains("database"))
        }
        #expect(try api.client.send("GET", "/v1/health").status == 200)

        try cluster.restart()
        // A pooled connection may learn of the restart on its first use; after that, all is well.
        var recovered = false
        for _ in 0..<20 where !recovered {
            recovered = try api.client.send("GET", "/v1/accounts", token: api.operatorToken).status == 200
            if !recovered { Thread.sleep(forTimeInterval: 0.25) }
        }
        #expect(recovered)
        #expect(try api.client.send("GET", "/v1/ready").status == 200)
        #expect(try api.client.send("POST", "/v1/accounts", token: api.operatorToken, json: #"{"name": "after"}"#).status == 201)
    }
}

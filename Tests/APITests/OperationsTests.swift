import Foundation
import HTTPServer
import Testing

/// What an operator runs the service with: metrics, and limits on runaway clients.
@Suite("Metrics and rate limits")
struct OperationsTests {
    static func value(_ text: String, _ series: String) -> Int64? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Int64(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("/metrics is Prometheus text with the service's gauges and this process's request counts")
    func metrics() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("metrics")
        try api.createZone("metrics.example", token: acme.token)
        _ = try api.client.send("GET", "/v1/zones/nowhere.example", token: acme.token)
        let response = try api.client.send("GET", "/metrics")
        #expect(response.status == 200)
        #expect(response.raw.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = response.raw.text
        #expect(Self.value(text, #"zonectl_zones{kind="primary"}"#) == 1)
        #expect(Self.value(text, "zonectl_accounts") == 1)
        #expect(text.contains("# TYPE zonectl_http_requests_total counter"))
        #expect((Self.value(text, #"zonectl_http_requests_total{method="GET",status="404"}"#) ?? 0) >= 1)
        #expect((Self.value(text, #"zonectl_http_requests_total{method="POST",status="201"}"#) ?? 0) >= 2)
        #expect(Self.value(text, "zonectl_propagation_behind") == 0)
    }

    @Test("private metrics need an operator token")
    func privateMetrics() throws {
        let api = try APIFixture(publicMetrics: false)
        #expect(try api.client.send("GET", "/metrics").status == 401)
        let acme = try api.createCustomer("private")
        #expect(try api.client.send("GET", "/metrics", token: acme.token).status == 403)
        #expect(try api.client.send("GET", "/metrics", token: api.operatorToken).status == 200)
    }

    @Test("a token over its rate gets 429 with Retry-After and a problem naming the limit; other tokens are unaffected")
    func rateLimit() throws {
        let api = try APIFixture(rateLimit: (perSecond: 2, burst: 4))
        let other = try api.createToken(accountID: nil)
        Thread.sleep(forTimeInterval: 1)
        var statuses: [Int] = []
        var limited: APIClient.Response?
        for _ in 0..<8 {
            let response = try api.client.send("GET", "/v1/accounts", token: api.operatorToken)
            statuses.append(response.status)
            if response.status == 429 { limited = response }
        }
        #expect(statuses.prefix(4).allSatisfy { $0 == 200 }, "\(statuses)")
        #expect(statuses.contains(429), "\(statuses)")
        let problem = try #require(limited)
        #expect(Int(problem.raw.header("Retry-After") ?? "") ?? 0 >= 1)
        #expect(try problem.json()["type"]?.stringValue == "urn:zonectl:problem:rate-limited")
        #expect(try problem.problemDetail().contains("2 requests a second"))

        #expect(try api.client.send("GET", "/v1/accounts", token: other).status == 200)
        // The bucket refills.
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try api.client.send("GET", "/v1/accounts", token: api.operatorToken).status == 200)
    }
}

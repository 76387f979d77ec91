import Foundation
import HTTPServer
import IntegrationHarness
import Synchronization
import Testing

/// Collects values from handler and client threads.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}

/// A real server on a kernel-chosen loopback port, stopped when the test ends.
func withServer(
    configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
    _ body: (HTTPTestClient, HTTPServer) throws -> Void
) throws {
    var configuration = HTTPServerConfiguration()
    configuration.port = 0
    configuration.threads = 2
    configuration.accessLog = nil
    configure(&configuration)
    let server = HTTPServer(configuration: configuration, handler: handler)
    try server.start()
    defer { server.shutdown(graceSeconds: 1) }
    #expect(server.boundPort != 0)
    try body(HTTPTestClient(host: configuration.host, port: Int(server.boundPort)), server)
}

/// Serialized: several tests measure timing (timeouts, shutdown grace) on a 2-core machine.
@Suite(.serialized) struct HTTPServerTests {
    private static func echoRouter() -> Router {
        let router = Router()
        router.add("GET", "/v1/zones/{zone}/rrsets/{name}/{type}") { request in
            var members: [(String, JSONValue)] = [
                ("path", .string(request.path)),
                ("zone", .string(request.pathParameters["zone"] ?? "")),
                ("name", .string(request.pathParameters["name"] ?? "")),
                ("type", .string(request.pathParameters["type"] ?? "")),
            ]
            members.append(("query", .array(request.queryItems.map { .array([.string($0.name), .string($0.value)]) })))
            members.append(("remote", .string(request.remoteAddress)))
            members.append(("agent", request.headers["user-agent"].map(JSONValue.string) ?? .null))
            return .json(200, .object(members))
        }
        router.add("GET", "/v1/zones/{zone}") { request in .json(200, ["zone": .string(request.pathParameters["zone"]!)]) }
        router.add("DELETE", "/v1/zones/{zone}") { _ in .noContent() }
        router.add("POST", "/v1/zones") { request in
            do throws(HTTPProblem) {
                let body = try request.jsonBody()
                return .json(201, ["received": body])
            } catch {
                return error.response
            }
        }
        router.add("POST", "/echo") { request in
            HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream"], body: request.body)
        }
        return router
    }

    @Test func routesWithDecodedParametersAndQuery() throws {
        let router = Self.echoRouter()
        try withServer(handler: router.handle) { client, _ in
            let response = try client.send(
                "GET", "/v1/zones/example.com./rrsets/a%2Fb.example.com./TXT?b=2&a=x+y&a=%2B%26%C3%A9&flag",
                headers: [("User-Agent", "zonectl-tests")])
            #expect(response.status == 200)
            #expect(response.header("content-type") == "application/json")
            #expect(response.header("Cache-Control") == "no-store")
            let json = try JSONValue.parse(response.body)
            #expect(json["zone"] == "example.com.")
            // "%2F" stays inside its segment.
            #expect(json["name"] == "a/b.example.com.")
            #expect(json["type"] == "TXT")
            #expect(json["path"] == "/v1/zones/example.com./rrsets/a/b.example.com./TXT")
            #expect(json["query"] == [["b", "2"], ["a", "x y"], ["a", "+&é"], ["flag", ""]])
            #expect(json["remote"] == "127.0.0.1")
            #expect(json["agent"] == "zonectl-tests")

            let deleted = try client.send("DELETE", "/v1/zones/example.com.")
            #expect(deleted.status == 204)
            #expect(deleted.body.isEmpty)
        }
    }

    @Test func notFoundAndMethodNotAllowedAreProblems() throws {
        try withServer(handler: Self.echoRouter().handle) { client, _ in
            let missing = try client.send("GET", "/v2/nothing")
            #expect(missing.status == 404)
            #expect(missing.header("Content-Type") == "application/problem+json")
            #expect(try JSONValue.parse(missing.body)["type"] == "urn:zonectl:problem:not-found")

            let wrong = try client.send("PUT", "/v1/zones/example.com.")
            #expect(wrong.status == 405)
            #expect(wrong.header("Allow") == "DELETE, GET, HEAD")
            let problem = try JSONValue.parse(wrong.body)
            #expect(problem["type"] == "urn:zonectl:problem:method-not-allowed")
            #expect(problem["status"] == 405)
        }
    }

    @Test func headAnnouncesTheGetLengthWithoutABody() throws {
        try withServer(handler: Self.echoRouter().handle) { client, _ in
            let get = try client.send("GET", "/v1/zones/example.com.")
            let head = try client.send("HEAD", "/v1/zones/example.com.")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.header("Content-Length") == String(get.body.count))
            #expect(head.header("Content-Type") == "application/json")
        }
    }

    @Test func headOfAStreamedGetDoesNotRunTheProducer() throws {
        let runs = Recorder<Int>()
        let router = Router()
        router.add("GET", "/export") { _ in
            HTTPResponse(status: 200, headers: ["Content-Type": "text/dns"]) { writer in
                runs.append(1)
                try writer.write("example.com. 3600 IN SOA a b 1 2 3 4 5\n")
            }
        }
        try withServer(handler: router.handle) { client, _ in
            let head = try client.send("HEAD", "/export")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.header("Content-Type") == "text/dns")
            #expect(head.header("Content-Length") != "0")
            #expect(runs.all.isEmpty)
            let get = try client.send("GET", "/export")
            #expect(get.text.hasPrefix("example.com."))
            #expect(runs.all.count == 1)
        }
    }

    @Test func misbehavingHandlerAnswersCannotBreakTheProtocol() throws {
        try withServer(handler: { request in
            switch request.path {
            case "/status":
                return HTTPResponse(status: 42)
            default:
                var headers = HTTPHeaders()
                headers.set("X-Injected", "a\r\nSet-Cookie: evil=1")
                headers.set("Content-Length", "999")
                headers.set("Cache-Control", "max-age=60")
                return HTTPResponse(status: 200, headers: headers, body: Array("ok".utf8))
            }
        }) { client, _ in
            let badStatus = try client.send("GET", "/status")
            #expect(badStatus.status == 500)
            #expect(try JSONValue.parse(badStatus.body)["type"] == "urn:zonectl:problem:internal-error")

            let injected = try client.send("GET", "/headers")
            #expect(injected.status == 200)
            #expect(injected.text == "ok")
            #expect(injected.header("Set-Cookie") == nil)
            #expect(injected.header("X-Injected") == nil)
            #expect(injected.header("Content-Length") == "2")
            #expect(injected.header("Cache-Control") == "max-age=60")
        }
    }

    @Test func tooLargeByContentLengthIsRefusedBeforeTheHandler() throws {
        let calls = Recorder<String>()
        try withServer(configure: {
            $0.maxBodyBytes = 1024
            $0.bodyLimit = { method, path in path == "/import" ? 64 * 1024 : nil }
        }, handler: { request in
            calls.append(request.path)
            return HTTPResponse(status: 200, body: Array("\(request.body.count)".utf8))
        }) { client, _ in
            let refused = try client.send("POST", "/echo", headers: [("Content-Type", "application/octet-stream")],
                                          body: [UInt8](repeating: 0x61, count: 200_000))
            #expect(refused.status == 413)
            let problem = try JSONValue.parse(refused.body)
            #expect(problem["type"] == "urn:zonectl:problem:payload-too-large")
            #expect(problem["detail"]?.stringValue?.contains("1024") == true)

            // Exactly at the limit is fine; the per-route override allows more on /import.
            let atLimit = try client.send("POST", "/echo", body: [UInt8](repeating: 0x61, count: 1024))
            #expect(atLimit.status == 200 && atLimit.text == "1024")
            let imported = try client.send("POST", "/import", body: [UInt8](repeating: 0x61, count: 50_000))
            #expect(imported.status == 200 && imported.text == "50000")
            #expect(calls.all == ["/echo", "/import"])
        }
    }

    @Test func tooLargeChunkedUploadIsRefused() throws {
        let calls = Recorder<Int>()
        try withServer(configure: { $0.maxBodyBytes = 1000 }, handler: { request in
            calls.append(request.body.count)
            return HTTPResponse(status: 200, body: Array("\(request.body.count)".utf8))
        }) { client, _ in
            func chunkedRequest(chunks: Int, size: Int) -> [UInt8] {
                var bytes = Array("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8)
                for _ in 0..<chunks {
                    bytes += Array("\(String(size, radix: 16))\r\n".utf8) + [UInt8](repeating: 0x62, count: size) + [13, 10]
                }
                return bytes + Array("0\r\n\r\n".utf8)
            }
            let small = try HTTPTestClient.parse(client.sendRaw(chunkedRequest(chunks: 4, size: 250), timeoutSeconds: 10))
            #expect(small.status == 200 && small.text == "1000")

            let large = try HTTPTestClient.parse(client.sendRaw(chunkedRequest(chunks: 20, size: 300), timeoutSeconds: 10))
            #expect(large.status == 413)
            #expect(try JSONValue.parse(large.body)["type"] == "urn:zonectl:problem:payload-too-large")
            #expect(calls.all == [1000])
        }
    }

    @Test func nonJSONContentTypeIsUnsupportedMediaType() throws {
        try withServer(handler: Self.echoRouter().handle) { client, _ in
            let response = try client.send("POST", "/v1/zones", headers: [("Content-Type", "text/plain")],
                                           body: Array(#"{"name":"example.com."}"#.utf8))
            #expect(response.status == 415)
            #expect(try JSONValue.parse(response.body)["type"] == "urn:zonectl:problem:unsupported-media-type")

            let accepted = try client.send("POST", "/v1/zones", headers: [("Content-Type", "application/json; charset=utf-8")],
                                           body: Array(#"{"name":"example.com."}"#.utf8))
            #expect(accepted.status == 201)
            #expect(try JSONValue.parse(accepted.body) == ["received": ["name": "example.com."]])
        }
    }

    @Test func invalidJSONNamesLineAndColumn() throws {
        try withServer(handler: Self.echoRouter().handle) { client, _ in
            let response = try client.send("POST", "/v1/zones", headers: [("Content-Type", "application/json")],
                                           body: Array("{\n  \"name\": \"example.com.\"\n  \"kind\": \"primary\"\n}".utf8))
            #expect(response.status == 400)
            let problem = try JSONValue.parse(response.body)
            #expect(problem["type"] == "urn:zonectl:problem:invalid-json")
            let detail = try #require(problem["detail"]?.stringValue)
            #expect(detail.contains("line 3, column 3"), "\(detail)")
            #expect(detail.contains("byte offset 29"), "\(detail)")

            let empty = try client.send("POST", "/v1/zones", headers: [("Content-Type", "application/json")])
            #expect(empty.status == 400)
            #expect(try JSONValue.parse(empty.body)["detail"] == "the request body is empty; send a JSON object")
        }
    }

    @Test func bodyTricklingInSmallPiecesArrivesWhole() throws {
        let body = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try withServer(handler: Self.echoRouter().handle) { client, _ in
            var pieces = [Array("POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n".utf8)]
            var offset = 0
            while offset < body.count {
                let size = min(body.count - offset, 100 + offset % 77)
                pieces.append(Array(body[offset..<offset + size]))
                offset += size
            }
            let started = Date()
            let raw = try client.sendPieces(pieces, pauseSeconds: 0.02, timeoutSeconds: 20)
            let response = try HTTPTestClient.parse(raw)
            #expect(response.status == 200)
            #expect(response.body == body)
            #expect(Date().timeIntervalSince(started) > 0.02 * Double(pieces.count - 2))
        }
    }

    /// Both threading models: a fixed pool of 2, and one thread per connection (nil).
    static let threadings: [Int?] = [2, nil]

    @Test(arguments: threadings) func slowClientIsCutOffByTheConnectionTimeout(threads: Int?) throws {
        try withServer(configure: { $0.connectionTimeoutSeconds = 1; $0.threads = threads }, handler: Self.echoRouter().handle) { client, _ in
            let started = Date()
            // Half a request header, then silence: the server must hang up, not wait forever.
            let received = try client.sendRaw(Array("GET /v1/zones/a HTTP/1.1\r\nHost: exa".utf8), timeoutSeconds: 10)
            let elapsed = Date().timeIntervalSince(started)
            #expect(received.isEmpty)
            #expect(elapsed >= 0.9 && elapsed < 5, "closed after \(elapsed) s")

            // The server is still fine for well-behaved clients.
            #expect(try client.send("GET", "/v1/zones/a").status == 200)
        }
    }

    @Test(arguments: threadings) func gracefulShutdownFinishesInFlightRequestsAndRefusesNewOnes(threads: Int?) throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.threads = threads
        configuration.accessLog = nil
        let entered = DispatchSemaphore(value: 0)
        let server = HTTPServer(configuration: configuration) { request in
            entered.signal()
            Thread.sleep(forTimeInterval: 1)
            return .text(200, "slept", contentType: "text/plain")
        }
        try server.start()
        let client = HTTPTestClient(port: Int(server.boundPort))

        let slow = BackgroundCall { try client.send("GET", "/slow", timeoutSeconds: 20) }
        #expect(entered.wait(timeout: .now() + 10) == .success)
        let shutdownStarted = Date()
        let stopping = BackgroundCall { server.shutdown(graceSeconds: 10) }

        Thread.sleep(forTimeInterval: 0.2)
        // Refused by the kernel at connect, not accepted and left hanging.
        #expect {
            try client.send("GET", "/new", timeoutSeconds: 5)
        } throws: { error in
            String(describing: error).contains("Connection refused")
        }

        let response = try slow.wait()
        #expect(response.status == 200)
        #expect(response.text == "slept")
        try stopping.wait()
        let took = Date().timeIntervalSince(shutdownStarted)
        #expect(took > 0.5 && took < 5, "shutdown took \(took) s")

        server.shutdown(graceSeconds: 1)  // idempotent
        #expect(throws: HTTPTestClientError.self) { try client.send("GET", "/after", timeoutSeconds: 5) }
    }

    @Test(arguments: threadings) func graceExpiresForHandlersThatTakeTooLong(threads: Int?) throws {
        var configuration = HTTPServerConfiguration()
        configuration.port = 0
        configuration.threads = threads
        configuration.accessLog = nil
        let entered = DispatchSemaphore(value: 0)
        let server = HTTPServer(configuration: configuration) { _ in
            entered.signal()
            Thread.sleep(forTimeInterval: 3)
            return .noContent()
        }
        try server.start()
        let client = HTTPTestClient(port: Int(server.boundPort))
        let slow = BackgroundCall { try? client.send("GET", "/slow", timeoutSeconds: 20) }
        #expect(entered.wait(timeout: .now() + 10) == .success)
        let started = Date()
        server.shutdown(graceSeconds: 0.3)
        // MHD_stop_daemon still joins the worker, which finishes its handler first.
        let took = Date().timeIntervalSince(started)
        #expect(took < 6, "shutdown took \(took) s")
        _ = try slow.wait()
    }

    @Test func largeStreamingResponseArrivesIntact() throws {
        let total = 6 * 1024 * 1024 + 123
        @Sendable func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: (index &* 2_654_435_761) >> 13) }
        let log = Recorder<String>()
        try withServer(configure: { $0.accessLog = { log.append($0) } }, handler: { _ in
            HTTPResponse(status: 200, headers: ["Content-Type": "text/dns"]) { writer in
                var written = 0
                while written < total {
                    let size = min(total - written, 1000 + written % 5000)  // uneven writes
                    try writer.write((written..<written + size).map(byte))
                    written += size
                }
            }
        }) { client, _ in
            let response = try client.send("GET", "/v1/zones/example.com./export", timeoutSeconds: 60)
            #expect(response.status == 200)
            #expect(response.header("Transfer-Encoding")?.lowercased() == "chunked")
            #expect(response.header("Content-Type") == "text/dns")
            #expect(response.body.count == total)
            #expect(response.body == (0..<total).map(byte))

            let head = try client.send("HEAD", "/v1/zones/example.com./export")
            #expect(head.status == 200 && head.body.isEmpty)
        }
        #expect(log.all.contains { $0.hasPrefix("GET /v1/zones/example.com./export 200 ") })
    }

    @Test func clientGoingAwayStopsTheStreamProducer() throws {
        let outcomes = Recorder<String>()
        try withServer(handler: { _ in
            HTTPResponse(status: 200) { writer in
                do {
                    while true { try writer.write([UInt8](repeating: 0x7A, count: 16 * 1024)) }
                } catch is HTTPBodyWriter.Cancelled {
                    outcomes.append("cancelled")
                    throw HTTPBodyWriter.Cancelled()
                }
            }
        }) { client, _ in
            // An endless body: the client gives up after half a second and closes its socket.
            #expect(throws: HTTPTestClientError.self) {
                try client.sendRaw(Array("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n".utf8), timeoutSeconds: 0.5)
            }
            let deadline = Date(timeIntervalSinceNow: 10)
            while outcomes.all.isEmpty && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            #expect(outcomes.all == ["cancelled"])
        }
    }

    @Test func failingStreamIsCutShortNotCompleted() throws {
        struct ExportFailed: Error {}
        try withServer(handler: { request in
            guard request.path == "/export" else { return .text(200, "fine", contentType: "text/plain") }
            return HTTPResponse(status: 200) { writer in
                try writer.write([UInt8](repeating: 0x41, count: 200_000))
                throw ExportFailed()
            }
        }) { client, _ in
            // The body never gets its last chunk, so the client must not see a clean response.
            #expect(throws: HTTPTestClientError.self) { try client.send("GET", "/export", timeoutSeconds: 10) }
            let again = try client.send("GET", "/again", timeoutSeconds: 10)
            #expect(again.text == "fine")
        }
    }

    @Test func sixtyFourConcurrentRequestsAreAllAnswered() throws {
        try withServer(configure: { $0.threads = 4 }, handler: { request in
            Thread.sleep(forTimeInterval: 0.05)
            return .json(200, ["n": .string(request.query("n") ?? "")])
        }) { client, _ in
            let calls = (0..<64).map { index in
                BackgroundCall { try client.send("GET", "/work?n=\(index)", timeoutSeconds: 30) }
            }
            let responses = try calls.map { try $0.wait() }
            #expect(responses.allSatisfy { $0.status == 200 })
            #expect(Set(responses.compactMap { try? JSONValue.parse($0.body)["n"]?.stringValue }) == Set((0..<64).map(String.init)))
        }
    }

    /// Handlers that block (on a database, say) must not queue behind each other: with a thread
    /// per connection, 16 keep-alive clients all have a handler running at the same moment,
    /// which a pool of 2 threads cannot do.
    @Test func threadPerConnectionRunsEveryConnectionsHandlerAtOnce() throws {
        let arrived = Mutex(0)
        let allIn = DispatchSemaphore(value: 0)
        try withServer(configure: { $0.threads = nil }, handler: { _ in
            let count = arrived.withLock { value -> Int in
                value += 1
                return value
            }
            if count == 16 { for _ in 0..<16 { allIn.signal() } }
            let together = allIn.wait(timeout: .now() + 10) == .success
            return .json(200, ["together": .bool(together)])
        }) { client, _ in
            let calls = (0..<16).map { _ in BackgroundCall { try client.send("GET", "/block", timeoutSeconds: 30) } }
            let responses = try calls.map { try $0.wait() }
            #expect(responses.allSatisfy { $0.status == 200 })
            #expect(responses.allSatisfy { (try? JSONValue.parse($0.body)["together"]) == .bool(true) })
        }
    }

    @Test func portInUseIsAClearError() throws {
        try withServer(handler: Self.echoRouter().handle) { _, running in
            var configuration = HTTPServerConfiguration()
            configuration.port = running.boundPort
            configuration.accessLog = nil
            let second = HTTPServer(configuration: configuration) { _ in .noContent() }
            #expect {
                try second.start()
            } throws: { error in
                String(describing: error).contains("in use")
            }
        }
    }

    @Test func listensOnIPv6Loopback() throws {
        try withServer(configure: { $0.host = "::1" }, handler: Self.echoRouter().handle) { client, _ in
            let response = try client.send("GET", "/v1/zones/a/rrsets/b/A")
            #expect(response.status == 200)
            #expect(try JSONValue.parse(response.body)["remote"] == "::1")
        }
    }

    @Test func badPercentEncodingIsBadRequest() throws {
        try withServer(handler: Self.echoRouter().handle) { client, _ in
            for path in ["/v1/zones/%ZZ", "/v1/zones/%C3", "/v1/zones/a/rrsets/b/A?x=%FF"] {
                let response = try client.send("GET", path)
                #expect(response.status == 400, "\(path)")
            }
        }
    }

    @Test func accessLogHasOneLinePerRequest() throws {
        let log = Recorder<String>()
        try withServer(configure: { $0.accessLog = { log.append($0) } }, handler: Self.echoRouter().handle) { client, _ in
            _ = try client.send("GET", "/v1/zones/a%20b")
            _ = try client.send("PATCH", "/v1/zones/a")
            Thread.sleep(forTimeInterval: 0.2)  // the completion callback runs after the last byte is sent
        }
        let lines = log.all
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("GET /v1/zones/a%20b 200 ") == true)
        #expect(lines.last?.hasPrefix("PATCH /v1/zones/a 405 ") == true)
        #expect(lines.allSatisfy { $0.contains("ms") })
    }
}

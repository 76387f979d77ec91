import HTTPServer
import Testing

@Suite struct RouterTests {
    private func echoRouter() -> Router {
        let router = Router()
        let echo: @Sendable (String) -> @Sendable (HTTPRequest) -> HTTPResponse = { label in
            { request in
                var members: [(String, JSONValue)] = [("route", .string(label))]
                for (name, value) in request.pathParameters.sorted(by: { $0.key < $1.key }) {
                    members.append((name, .string(value)))
                }
                return .json(200, .object(members))
            }
        }
        router.add("GET", "/v1/zones", echo("list"))
        router.add("POST", "/v1/zones", echo("create"))
        router.add("GET", "/v1/zones/{zone}", echo("zone"))
        router.add("DELETE", "/v1/zones/{zone}", echo("delete"))
        router.add("GET", "/v1/zones/export", echo("export-literal"))
        router.add("PUT", "/v1/zones/{zone}/rrsets/{name}/{type}", echo("rrset"))
        return router
    }

    private func body(_ response: HTTPResponse) throws -> JSONValue {
        guard case .bytes(let bytes) = response.body else { throw HTTPProblem(status: 0, title: "", detail: "streamed") }
        return try JSONValue.parse(bytes)
    }

    @Test func fillsParametersFromSegments() throws {
        let response = echoRouter().handle(HTTPRequest(method: "PUT", path: "/v1/zones/example.com./rrsets/www.example.com./AAAA"))
        #expect(response.status == 200)
        #expect(try body(response) == [
            "route": "rrset", "name": "www.example.com.", "type": "AAAA", "zone": "example.com.",
        ])
    }

    @Test func literalSegmentBeatsParameter() throws {
        let router = echoRouter()
        #expect(try body(router.handle(HTTPRequest(method: "GET", path: "/v1/zones/export")))["route"] == "export-literal")
        #expect(try body(router.handle(HTTPRequest(method: "GET", path: "/v1/zones/exports")))["route"] == "zone")
        // The literal route has no DELETE, so DELETE falls to the parameter route.
        #expect(try body(router.handle(HTTPRequest(method: "DELETE", path: "/v1/zones/export")))["route"] == "delete")
    }

    @Test func unknownPathIsNotFoundProblem() throws {
        let router = echoRouter()
        for path in ["/", "/v1", "/v1/zones/", "/v1/zones/a/b", "/v1/zones//rrsets/x/A"] {
            let response = router.handle(HTTPRequest(method: "GET", path: path))
            #expect(response.status == 404, "\(path)")
            #expect(response.headers["content-type"] == "application/problem+json")
            #expect(try body(response)["type"] == "urn:zonectl:problem:not-found")
        }
    }

    @Test func wrongMethodIsMethodNotAllowedWithSortedAllow() throws {
        let router = echoRouter()
        let response = router.handle(HTTPRequest(method: "PATCH", path: "/v1/zones"))
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET, HEAD, POST")
        let problem = try body(response)
        #expect(problem["type"] == "urn:zonectl:problem:method-not-allowed")
        #expect(problem["status"] == 405)

        let onRRset = router.handle(HTTPRequest(method: "GET", path: "/v1/zones/z/rrsets/n/A"))
        #expect(onRRset.status == 405)
        #expect(onRRset.headers["Allow"] == "PUT")
    }

    @Test func headUsesGetHandlerWithoutBody() throws {
        let response = echoRouter().handle(HTTPRequest(method: "HEAD", path: "/v1/zones/example.com."))
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "application/json")
        guard case .bytes(let bytes) = response.body else {
            Issue.record("HEAD answered with a stream")
            return
        }
        #expect(bytes.isEmpty)
    }
}

@Suite struct RequestAndResponseTests {
    private func request(contentType: String?, body: String) -> HTTPRequest {
        var headers = HTTPHeaders()
        if let contentType { headers.set("Content-Type", contentType) }
        return HTTPRequest(method: "POST", path: "/", headers: headers, body: Array(body.utf8))
    }

    @Test func jsonBodyAcceptsJSONMediaTypes() throws {
        for type in ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json", "application/json ;charset=UTF-8"] {
            #expect(try request(contentType: type, body: #"{"a":1}"#).jsonBody()["a"] == 1, "\(type)")
        }
    }

    @Test func jsonBodyRefusesOtherMediaTypes() {
        for type in [nil, "text/plain", "application/jsonx", "text/json", "application/x-www-form-urlencoded"] {
            #expect {
                try request(contentType: type, body: "{}").jsonBody()
            } throws: { error in
                let problem = error as? HTTPProblem
                return problem?.status == 415 && problem?.type == "urn:zonectl:problem:unsupported-media-type"
            }
        }
    }

    @Test func jsonBodyExplainsEmptyAndInvalidBodies() throws {
        do throws(HTTPProblem) {
            _ = try request(contentType: "application/json", body: " \n").jsonBody()
            Issue.record("empty body accepted")
        } catch {
            #expect(error.status == 400)
            #expect(error.detail == "the request body is empty; send a JSON object")
        }
        do throws(HTTPProblem) {
            _ = try request(contentType: "application/json", body: "{\n\"a\": [1,\n2,,]}").jsonBody()
            Issue.record("invalid body accepted")
        } catch {
            #expect(error.status == 400)
            #expect(error.type == "urn:zonectl:problem:invalid-json")
            #expect(error.detail.contains("line 3, column 3 (byte offset 13)"), "\(error.detail)")
        }
    }

    @Test func headersAreOrderedAndCaseInsensitive() {
        var headers = HTTPHeaders()
        headers.add("Link", "<a>; rel=next")
        headers.add("link", "<b>; rel=prev")
        headers.set("Content-Type", "text/plain")
        headers.set("content-type", "application/json")
        #expect(headers["LINK"] == "<a>; rel=next")
        #expect(headers.values("Link") == ["<a>; rel=next", "<b>; rel=prev"])
        #expect(headers.values("Content-Type") == ["application/json"])
        #expect(headers.map(\.name) == ["Link", "link", "content-type"])
        #expect(headers["Missing"] == nil)
    }

    @Test func problemResponseShape() throws {
        var problem = HTTPProblem(status: 422, title: "Invalid record", detail: "ttl is negative",
                                  errors: [.init(pointer: "/records/0/ttl", message: "must be >= 0")],
                                  type: "urn:zonectl:problem:validation")
        problem.headers.set("Retry-After", "5")
        let response = problem.response
        #expect(response.status == 422)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(response.headers["Retry-After"] == "5")
        guard case .bytes(let bytes) = response.body else { return }
        #expect(String(decoding: bytes, as: UTF8.self) ==
            #"{"type":"urn:zonectl:problem:validation","title":"Invalid record","status":422,"detail":"ttl is negative","errors":[{"pointer":"/records/0/ttl","message":"must be >= 0"}]}"# + "\n")

        let plain = HTTPProblem(status: 404, title: "Not Found", detail: "x").response
        guard case .bytes(let plainBytes) = plain.body else { return }
        let json = try JSONValue.parse(plainBytes)
        #expect(json["errors"] == nil)
        #expect(json["type"] == "about:blank")
    }

    @Test func streamBodiesCanBeCollected() throws {
        let response = HTTPResponse(status: 200) { writer in
            for index in 0..<1000 { try writer.write("line \(index)\n") }
        }
        let bytes = try response.body.collect()
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("line 999\n"))
        #expect(bytes.count == (0..<1000).map { "line \($0)\n".utf8.count }.reduce(0, +))
    }
}

/// An error answer in the RFC 9457 "problem details" shape (`application/problem+json`).
public struct HTTPProblem: Error, Sendable, CustomStringConvertible {
    /// One invalid part of a request body, located by a JSON Pointer (RFC 6901), e.g. "/records/0/ttl".
    public struct FieldError: Sendable, Equatable {
        public var pointer: String
        public var message: String

        public init(pointer: String, message: String) {
            self.pointer = pointer
            self.message = message
        }
    }

    public var status: Int
    public var title: String
    public var detail: String
    public var type: String
    public var errors: [FieldError]
    /// Extra response headers, e.g. `Retry-After` or `Allow`.
    public var headers: HTTPHeaders = .init()

    public init(status: Int, title: String, detail: String, errors: [FieldError] = [], type: String = "about:blank") {
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.type = type
    }

    public var description: String { "\(status) \(title): \(detail)" }

    public var response: HTTPResponse {
        var members: [(String, JSONValue)] = [
            ("type", .string(type)),
            ("title", .string(title)),
            ("status", .int(Int64(status))),
            ("detail", .string(detail)),
        ]
        if !errors.isEmpty {
            members.append(("errors", .array(errors.map {
                .object([("pointer", .string($0.pointer)), ("message", .string($0.message))])
            })))
        }
        var response = HTTPResponse.json(status, .object(members))
        response.headers.set("Content-Type", "application/problem+json")
        for field in headers { response.headers.add(field.name, field.value) }
        return response
    }
}

extension HTTPProblem {
    // Problems the HTTP layer itself produces; their `type` URIs are part of the API contract.

    static func notFound(path: String) -> HTTPProblem {
        HTTPProblem(status: 404, title: "Not Found", detail: "no resource at \(path)",
                    type: "urn:zonectl:problem:not-found")
    }

    static func methodNotAllowed(method: String, path: String, allowed: [String]) -> HTTPProblem {
        var problem = HTTPProblem(
            status: 405, title: "Method Not Allowed",
            detail: "\(method) is not supported on \(path); use one of: \(allowed.joined(separator: ", "))",
            type: "urn:zonectl:problem:method-not-allowed")
        problem.headers.set("Allow", allowed.joined(separator: ", "))
        return problem
    }

    static func payloadTooLarge(limit: Int) -> HTTPProblem {
        HTTPProblem(status: 413, title: "Content Too Large",
                    detail: "the request body is larger than the limit of \(limit) bytes for this endpoint",
                    type: "urn:zonectl:problem:payload-too-large")
    }

    static func unsupportedMediaType(got: String?) -> HTTPProblem {
        let given = got.map { "'\($0)'" } ?? "no Content-Type header"
        return HTTPProblem(status: 415, title: "Unsupported Media Type",
                           detail: "the request body must be sent as Content-Type: application/json (got \(given))",
                           type: "urn:zonectl:problem:unsupported-media-type")
    }

    static func invalidJSON(_ error: JSONSyntaxError) -> HTTPProblem {
        HTTPProblem(status: 400, title: "Invalid JSON",
                    detail: "the request body is not valid JSON: line \(error.line), column \(error.column) (byte offset \(error.offset)): \(error.reason)",
                    type: "urn:zonectl:problem:invalid-json")
    }

    static func emptyBody() -> HTTPProblem {
        HTTPProblem(status: 400, title: "Invalid JSON", detail: "the request body is empty; send a JSON object",
                    type: "urn:zonectl:problem:invalid-json")
    }

    static func badRequest(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 400, title: "Bad Request", detail: detail, type: "urn:zonectl:problem:bad-request")
    }

    static func internalError(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 500, title: "Internal Server Error", detail: detail,
                    type: "urn:zonectl:problem:internal-error")
    }
}

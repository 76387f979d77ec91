import HTTPServer

/// The problem+json answers of the API (RFC 9457). Each `type` is a stable URN clients may switch
/// on; `detail` is a sentence a person can act on; `errors` point into the request body.
enum Problems {
    static let typePrefix = "urn:zonectl:problem:"

    static func unauthorized(_ detail: String) -> HTTPProblem {
        var problem = HTTPProblem(status: 401, title: "Unauthorized", detail: detail, type: typePrefix + "unauthorized")
        problem.headers.set("WWW-Authenticate", "Bearer realm=\"zonectl\"")
        return problem
    }

    static func forbidden(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 403, title: "Forbidden", detail: detail, type: typePrefix + "forbidden")
    }

    static func notFound(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 404, title: "Not Found", detail: detail, type: typePrefix + "not-found")
    }

    static func conflict(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 409, title: "Conflict", detail: detail, type: typePrefix + "conflict")
    }

    /// An account limit (zones per account, records per zone) would be exceeded.
    static func quotaExceeded(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 403, title: "Forbidden", detail: detail, type: typePrefix + "quota-exceeded")
    }

    static func preconditionFailed(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 412, title: "Precondition Failed", detail: detail, type: typePrefix + "precondition-failed")
    }

    static func badRequest(_ detail: String) -> HTTPProblem {
        HTTPProblem(status: 400, title: "Bad Request", detail: detail, type: typePrefix + "bad-request")
    }

    static func invalidQuery(_ name: String, _ rule: String) -> HTTPProblem {
        HTTPProblem(status: 400, title: "Bad Request", detail: "query parameter \(name): \(rule)",
                    type: typePrefix + "invalid-query-parameter")
    }

    static func validation(_ errors: [HTTPProblem.FieldError]) -> HTTPProblem {
        let first = errors.first.map { "\($0.pointer.isEmpty ? "body" : $0.pointer): \($0.message)" } ?? "invalid request"
        let more = errors.count > 1 ? " (and \(errors.count - 1) more)" : ""
        return HTTPProblem(status: 422, title: "Unprocessable Content", detail: first + more, errors: errors,
                           type: typePrefix + "validation-failed")
    }

    static func unavailable(_ detail: String) -> HTTPProblem {
        var problem = HTTPProblem(status: 503, title: "Service Unavailable", detail: detail, type: typePrefix + "unavailable")
        problem.headers.set("Retry-After", "2")
        return problem
    }

    static func tooManyRequests(retryAfter seconds: Double, limit: RateLimiter) -> HTTPProblem {
        let wait = max(1, Int(seconds.rounded(.up)))
        var problem = HTTPProblem(
            status: 429, title: "Too Many Requests",
            detail: "this token may make \(Int(limit.perSecond)) requests a second (bursts of \(Int(limit.burst))); retry in \(wait) s",
            type: typePrefix + "rate-limited")
        problem.headers.set("Retry-After", String(wait))
        return problem
    }

    static func internalError() -> HTTPProblem {
        HTTPProblem(status: 500, title: "Internal Server Error",
                    detail: "the server failed to handle this request; it has been logged", type: typePrefix + "internal")
    }
}

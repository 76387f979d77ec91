/// One HTTP request, complete with its body, as handed to a handler.
public struct HTTPRequest: Sendable {
    public let method: String
    /// Percent-decoded path without the query, e.g. "/v1/zones/example.com.".
    public let path: String
    /// Decoded query parameters in the order sent ('+' means space).
    public let queryItems: [(name: String, value: String)]
    public let headers: HTTPHeaders
    public let body: [UInt8]
    /// Values of the "{name}" segments of the matched route, percent-decoded; set by `Router`.
    public var pathParameters: [String: String] = [:]
    /// The peer's IP address ("127.0.0.1", "::1").
    public let remoteAddress: String

    /// The path as the client sent it (still percent-encoded), when it came off the wire. The
    /// router splits this one into segments so that "%2F" inside a segment is not a separator.
    let rawPath: String?

    public init(method: String, path: String, queryItems: [(name: String, value: String)] = [],
                headers: HTTPHeaders = .init(), body: [UInt8] = [], remoteAddress: String = "127.0.0.1") {
        self.init(method: method, path: path, rawPath: nil, queryItems: queryItems, headers: headers,
                  body: body, remoteAddress: remoteAddress)
    }

    init(method: String, path: String, rawPath: String?, queryItems: [(name: String, value: String)],
         headers: HTTPHeaders, body: [UInt8], remoteAddress: String) {
        self.method = method
        self.path = path
        self.rawPath = rawPath
        self.queryItems = queryItems
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The first value of query parameter `name`.
    public func query(_ name: String) -> String? {
        queryItems.first(where: { $0.name == name })?.value
    }

    /// The body as JSON. Requires `Content-Type: application/json` (parameters such as charset
    /// are fine, and so is any `application/…+json` type): 415 otherwise; 400 for an empty body
    /// or invalid JSON, naming line, column and byte offset of the first error.
    public func jsonBody() throws(HTTPProblem) -> JSONValue {
        let contentType = headers["Content-Type"]
        guard let contentType, Self.isJSONMediaType(contentType) else {
            throw .unsupportedMediaType(got: contentType)
        }
        guard body.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else {
            throw .emptyBody()
        }
        do {
            return try JSONValue.parse(body)
        } catch {
            throw .invalidJSON(error)
        }
    }

    static func isJSONMediaType(_ value: String) -> Bool {
        let essence = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            .trimmingHTTPWhitespace().lowercased()
        guard essence.hasPrefix("application/") else { return false }
        return essence == "application/json" || essence.hasSuffix("+json")
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingHTTPWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

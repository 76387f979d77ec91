import HTTPServer
import IntegrationHarness

/// A client for the zonectl API over a real socket: JSON in, status, headers and JSON out.
struct APIClient: Sendable {
    let http: HTTPTestClient

    init(port: Int) {
        http = HTTPTestClient(port: port)
    }

    init(port: UInt16) {
        self.init(port: Int(port))
    }

    struct Response: Sendable {
        let status: Int
        let raw: HTTPTestResponse

        func header(_ name: String) -> String? { raw.header(name) }
        var text: String { raw.text }

        func json() throws -> JSONValue { try JSONValue.parse(raw.body) }

        /// The problem's `detail`, or "" when the body is not a problem.
        func problemDetail() throws -> String { try json()["detail"]?.stringValue ?? "" }

        /// Every `errors[].pointer` of a problem.
        func problemPointers() throws -> [String] {
            (try json()["errors"]?.arrayValue ?? []).compactMap { $0["pointer"]?.stringValue }
        }
    }

    /// `timeoutSeconds` only guards against a hang: the whole test suite runs at once on two
    /// cores, so a large import may wait its turn for a while.
    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = [],
              timeoutSeconds: Double = 30) throws -> Response {
        let raw = try http.send(method, path, headers: headers.map { ($0.key, $0.value) }, body: body, timeoutSeconds: timeoutSeconds)
        return Response(status: raw.status, raw: raw)
    }

    /// An authenticated request; `json` (when given) is sent as `application/json`.
    func send(_ method: String, _ path: String, token: String, json: String? = nil,
              headers extra: [String: String] = [:]) throws -> Response {
        var headers = extra
        headers["Authorization"] = "Bearer " + token
        if json != nil { headers["Content-Type"] = "application/json" }
        return try send(method, path, headers: headers, body: json.map { Array($0.utf8) } ?? [])
    }

    /// An authenticated request with a zone file (`text/dns`) body.
    func sendZoneFile(_ method: String, _ path: String, token: String, zone: String, timeoutSeconds: Double = 30) throws -> Response {
        try send(method, path, headers: ["Authorization": "Bearer " + token, "Content-Type": "text/dns"], body: Array(zone.utf8),
                 timeoutSeconds: timeoutSeconds)
    }
}

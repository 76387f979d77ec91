import Foundation
import HTTPServer

/// `?limit=` and `?cursor=` of a list request. The cursor is opaque to clients: base64url of the
/// last sort key returned, so the next page starts strictly after it even while rows are added.
struct PageRequest {
    static let defaultLimit = 100
    static let maxLimit = 1000

    let limit: Int
    /// The sort key to continue after, nil for the first page.
    let after: String?

    init(_ request: HTTPRequest) throws(HTTPProblem) {
        if let text = request.query("limit") {
            guard let value = Int(text), (1...Self.maxLimit).contains(value) else {
                throw Problems.invalidQuery("limit", "must be a whole number from 1 to \(Self.maxLimit), not '\(text)'")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
        if let cursor = request.query("cursor"), !cursor.isEmpty {
            guard let key = Self.decode(cursor) else {
                throw Problems.invalidQuery("cursor", "is not a cursor this server issued; use next_cursor from a previous page")
            }
            after = key
        } else {
            after = nil
        }
    }

    static func encode(_ key: String) -> String {
        Data(("c1:" + key).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ cursor: String) -> String? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
              text.hasPrefix("c1:") else { return nil }
        return String(text.dropFirst(3))
    }

    /// A page response: `{"items": [...], "next_cursor": ...}` and a `Link: rel="next"` header.
    /// `rows` may hold one more than `limit`: that extra row only says another page exists.
    func response<Row>(_ request: HTTPRequest, rows: [Row], key: (Row) -> String, render: (Row) -> JSONValue) -> HTTPResponse {
        let page = Array(rows.prefix(limit))
        let next = rows.count > limit ? page.last.map { Self.encode(key($0)) } : nil
        var response = HTTPResponse.json(200, .object([
            ("items", .array(page.map(render))),
            ("next_cursor", next.map(JSONValue.string) ?? .null),
        ]))
        if let next {
            var items = request.queryItems.filter { $0.name != "cursor" && $0.name != "limit" }
            items.append((name: "limit", value: String(limit)))
            items.append((name: "cursor", value: next))
            let query = items.map { "\(Self.percentEncode($0.name))=\(Self.percentEncode($0.value))" }.joined(separator: "&")
            response.headers.add("Link", "<\(request.path)?\(query)>; rel=\"next\"")
        }
        return response
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func percentEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

import Foundation
import HTTPServer
import Testing

/// Shortcuts the zone tests share: an account with its token and a zone, and batch changes.
extension APIFixture {
    struct Customer {
        let accountID: Int64
        let token: String
    }

    func createCustomer(_ name: String, quotas: String = "") throws -> Customer {
        let body = quotas.isEmpty ? #"{"name": "\#(name)"}"# : #"{"name": "\#(name)", \#(quotas)}"#
        let response = try client.send("POST", "/v1/accounts", token: operatorToken, json: body)
        guard response.status == 201, let id = try response.json()["id"]?.intValue else {
            throw FixtureError("creating account \(name) answered \(response.status): \(response.text)")
        }
        return Customer(accountID: id, token: try createToken(accountID: id))
    }

    /// Creates a zone with the customer's token; returns its JSON.
    @discardableResult
    func createZone(_ name: String, token: String, extra: String = "") throws -> JSONValue {
        let body = extra.isEmpty ? #"{"name": "\#(name)"}"# : #"{"name": "\#(name)", \#(extra)}"#
        let response = try client.send("POST", "/v1/zones", token: token, json: body)
        guard response.status == 201 else {
            throw FixtureError("creating zone \(name) answered \(response.status): \(response.text)")
        }
        return try response.json()
    }

    /// `PATCH /v1/zones/{zone}/rrsets` with the given changes (a JSON array text).
    func patch(_ zone: String, token: String, _ changes: String, headers: [String: String] = [:]) throws -> APIClient.Response {
        try client.send("PATCH", "/v1/zones/\(zone)/rrsets", token: token, json: #"{"changes": \#(changes)}"#, headers: headers)
    }

    func serial(_ zone: String, token: String) throws -> Int64 {
        let response = try client.send("GET", "/v1/zones/\(zone)", token: token)
        guard response.status == 200, let serial = try response.json()["serial"]?.intValue else {
            throw FixtureError("reading zone \(zone) answered \(response.status): \(response.text)")
        }
        return serial
    }

    /// Every RRset of the zone as "name type ttl record" lines, sorted, following every page.
    func rrsetLines(_ zone: String, token: String) throws -> [String] {
        var lines: [String] = []
        var path = "/v1/zones/\(zone)/rrsets?limit=1000"
        while true {
            let response = try client.send("GET", path, token: token)
            guard response.status == 200 else { throw FixtureError("listing rrsets answered \(response.status): \(response.text)") }
            let body = try response.json()
            for rrset in body["items"]?.arrayValue ?? [] {
                let head = "\(rrset["name"]?.stringValue ?? "") \(rrset["type"]?.stringValue ?? "") \(rrset["ttl"]?.intValue ?? -1)"
                for record in rrset["records"]?.arrayValue ?? [] {
                    lines.append(head + " " + (record.stringValue ?? ""))
                }
            }
            guard let cursor = body["next_cursor"]?.stringValue else { break }
            path = "/v1/zones/\(zone)/rrsets?limit=1000&cursor=\(cursor)"
        }
        return lines.sorted()
    }
}

import Foundation
import HTTPServer
import Testing

@testable import API

@Suite("RRset pages from the response cache")
struct ResponseCacheTests {
    @Test("least recently used entries go first once the bytes run out; oversize and streamed answers are not kept")
    func evictsLeastRecentlyUsed() {
        let cache = ResponseCache(capacityBytes: 3_000)
        let page = { (byte: UInt8) in HTTPResponse(status: 200, body: [UInt8](repeating: byte, count: 900)) }
        cache.store(page(1), for: "a")
        cache.store(page(2), for: "b")
        cache.store(page(3), for: "c")
        #expect(cache.response(for: "a") != nil)  // now the most recently used
        cache.store(page(4), for: "d")  // needs room: "b" is the oldest
        #expect(cache.response(for: "b") == nil)
        #expect(cache.response(for: "a").map(\.bodyBytes) == [UInt8](repeating: 1, count: 900))
        #expect(cache.response(for: "c") != nil)
        #expect(cache.response(for: "d") != nil)
        #expect(cache.bytesHeld <= 3_000)

        cache.store(HTTPResponse(status: 200, body: [UInt8](repeating: 9, count: 5_000)), for: "huge")
        #expect(cache.response(for: "huge") == nil)
        cache.store(HTTPResponse(status: 200, stream: { _ in }), for: "stream")
        #expect(cache.response(for: "stream") == nil)

        let off = ResponseCache(capacityBytes: 0)
        off.store(page(1), for: "a")
        #expect(off.response(for: "a") == nil)
    }

    @Test("a change is visible at once, with the new ETag; each query has its own page")
    func pagesFollowChanges() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        try api.createZone("cached.example", token: acme.token)
        for index in 0..<3 {
            #expect(try api.patch("cached.example", token: acme.token,
                                  #"[{"action": "add", "name": "n\#(index).cached.example.", "type": "A", "records": ["192.0.2.\#(index)"]}]"#).status == 200)
        }
        let path = "/v1/zones/cached.example/rrsets"
        let first = try api.client.send("GET", path, token: acme.token)
        let again = try api.client.send("GET", path, token: acme.token)
        #expect(first.status == 200)
        #expect(first.raw.body == again.raw.body)
        let serial = try api.serial("cached.example", token: acme.token)
        #expect(first.header("ETag") == "\"\(serial)\"")
        #expect(again.header("ETag") == "\"\(serial)\"")

        // Another query is another page, with its own Link header.
        let paged = try api.client.send("GET", path + "?limit=1", token: acme.token)
        #expect(try paged.json()["items"]?.arrayValue?.count == 1)
        #expect(paged.header("Link")?.contains("cursor=") == true)
        #expect(try api.client.send("GET", path + "?limit=1", token: acme.token).raw.body == paged.raw.body)

        #expect(try api.patch("cached.example", token: acme.token,
                              #"[{"action": "delete", "name": "n1.cached.example.", "type": "A"}]"#).status == 200)
        let after = try api.client.send("GET", path, token: acme.token)
        let names = (try after.json()["items"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names == ["n0.cached.example.", "n2.cached.example."])
        #expect(after.header("ETag") == "\"\(serial + 1)\"")

        // Another token of another account still cannot see the zone, cached or not.
        let other = try api.createCustomer("other")
        #expect(try api.client.send("GET", path, token: other.token).status == 404)
    }
}

extension HTTPResponse {
    var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }
}

import DNSModel
import DNSWire
import Foundation
import HTTPServer
import IntegrationHarness
import Testing

/// Each pool's RFC 9432 catalog zone, asked from zonectl's transfer server directly.
@Suite("Catalog zones (RFC 9432)", .serialized)
struct CatalogZoneTests {
    static func records(_ client: DNSTestClient, _ query: DNSMessage) throws -> [String] {
        try client.transfer(query).map(TransferServerTests.text)
    }

    @Test("a pool's catalog lists its zones as PTRs under zones., version 2; members come and go under new serials, with IXFR; it is no customer zone")
    func catalog() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        let account = try TransferServerTests.setUp(server, zone: "first.test.")
        let pool = try server.must(200, "GET", "/v1/pools/p")
        let catalogName = try #require(pool["catalog_zone"]?.stringValue)
        #expect(catalogName == "pool-\(pool["id"]?.intValue ?? 0).catalog.zonectl.invalid.")
        let catalog = try DomainName(presentation: catalogName, origin: .root)
        let client = DNSTestClient(port: server.dnsPort)
        let firstID = try server.must(200, "GET", "/v1/zones/first.test")["id"]?.intValue ?? 0

        // Created with the pool (serial 1), then one member: serial 2.
        #expect(pool["catalog_serial"]?.intValue == 2)
        let soa = try client.udp(.query(id: 1, name: catalog, type: .soa))
        #expect(soa.answerSOA(for: catalog)?.serial.rawValue == 2)
        let axfr = try Self.records(client, .query(id: 2, name: catalog, type: .axfr))
        #expect(axfr.contains("version.\(catalogName) 0 TXT \"2\""))
        #expect(axfr.contains("\(catalogName) 0 NS invalid."))
        #expect(axfr.filter { $0.contains(" PTR ") } == ["z\(firstID).zones.\(catalogName) 0 PTR first.test."])

        // A second zone: serial 3, and IXFR from 2 is exactly that PTR.
        try server.must(201, "POST", "/v1/zones", #"{"name": "second.test.", "account_id": \#(account), "pool": "p"}"#)
        let secondID = try server.must(200, "GET", "/v1/zones/second.test")["id"]?.intValue ?? 0
        let ixfr = try Self.records(client, .incrementalTransferQuery(id: 3, zone: catalog, currentSOA: TransferServerTests.soa(2, zone: catalog)))
        #expect(ixfr.count == 5)
        #expect(ixfr[3] == "z\(secondID).zones.\(catalogName) 0 PTR second.test.")

        // Deleted and created again: the old member goes, a new member id comes.
        try server.must(204, "DELETE", "/v1/zones/first.test")
        try server.must(201, "POST", "/v1/zones", #"{"name": "first.test.", "account_id": \#(account), "pool": "p"}"#)
        let newID = try server.must(200, "GET", "/v1/zones/first.test")["id"]?.intValue ?? 0
        #expect(newID != firstID)
        let after = try Self.records(client, .query(id: 4, name: catalog, type: .axfr))
        #expect(after.filter { $0.contains(" PTR ") }.sorted() == [
            "z\(newID).zones.\(catalogName) 0 PTR first.test.", "z\(secondID).zones.\(catalogName) 0 PTR second.test.",
        ].sorted())
        #expect(try server.must(200, "GET", "/v1/pools/p")["catalog_serial"]?.intValue == 5)
        let changes = try Self.records(client, .incrementalTransferQuery(id: 5, zone: catalog, currentSOA: TransferServerTests.soa(3, zone: catalog)))
        #expect(changes.contains("z\(firstID).zones.\(catalogName) 0 PTR first.test."))
        #expect(changes.contains("z\(newID).zones.\(catalogName) 0 PTR first.test."))

        // BIND loads it as a catalog would be loaded: a valid zone.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString).zone")
        try after.dropLast().joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try ChildProcess.run("named-checkzone", [catalogName, file.path])
        #expect(check.status == 0, "\(check.output)")

        // Not a zone any API route shows or changes.
        #expect(try server.api("GET", "/v1/zones/\(catalogName)").status == 404)
        #expect(try server.api("GET", "/v1/zones/\(catalogName)/rrsets").status == 404)
        let listed = try server.must(200, "GET", "/v1/zones")["items"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(listed.sorted() == ["first.test.", "second.test."])
        #expect(try server.api("POST", "/v1/zones", #"{"name": "\#(catalogName)", "account_id": \#(account)}"#).status == 409)

        // Strangers are refused the catalog too.
        let stranger = DNSTestClient(port: server.dnsPort, source: "127.0.0.2")
        #expect(try stranger.tcp(.query(id: 6, name: catalog, type: .axfr)).first?.rcode == .refused)
    }

    @Test("a catalog can be named, renamed and switched off; servers that do not read catalogs are not owed its NOTIFYs")
    func namedCatalog() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        let created = try server.must(201, "POST", "/v1/pools", #"{"name": "named", "nameservers": ["ns1.n.test."], "soa_mname": "ns1.n.test.", "soa_rname": "h.n.test.", "catalog_zone": "catalog.n.test"}"#)
        #expect(created["catalog_zone"]?.stringValue == "catalog.n.test.")
        let reader = try server.must(201, "POST", "/v1/pools/named/servers", #"{"address": "127.0.0.1", "port": 9}"#)
        #expect(reader["catalog"]?.boolValue == true)
        let lister = try server.must(201, "POST", "/v1/pools/named/servers", #"{"address": "127.0.0.1", "port": 10, "catalog": false}"#)
        #expect(lister["catalog"]?.boolValue == false)
        let owed = try server.databaseText(
            "SELECT string_agg(s.port::text, ',' ORDER BY s.port) FROM propagation_state p JOIN pool_servers s ON s.id = p.server_id JOIN zones z ON z.id = p.zone_id WHERE z.kind = 'catalog'")
        #expect(owed == "9")

        let client = DNSTestClient(port: server.dnsPort)
        let renamed = try server.must(200, "PATCH", "/v1/pools/named", #"{"catalog_zone": "cat2.n.test."}"#)
        #expect(renamed["catalog_zone"]?.stringValue == "cat2.n.test.")
        #expect(renamed["catalog_serial"]?.intValue == 2)
        #expect(try client.udp(.query(id: 1, name: DomainName(presentation: "cat2.n.test.", origin: .root), type: .soa)).rcode == .noError)
        #expect(try client.udp(.query(id: 2, name: DomainName(presentation: "catalog.n.test.", origin: .root), type: .soa)).rcode == .refused)

        let off = try server.must(200, "PATCH", "/v1/pools/named", #"{"catalog_zone": null}"#)
        #expect(off["catalog_zone"] == .null && off["catalog_serial"] == .null)
        #expect(try client.udp(.query(id: 3, name: DomainName(presentation: "cat2.n.test.", origin: .root), type: .soa)).rcode == .refused)

        // A pool without zones can be deleted, catalog and all; a taken name is a conflict.
        try server.must(201, "POST", "/v1/pools", #"{"name": "other", "nameservers": ["ns1.o.test."], "soa_mname": "ns1.o.test.", "soa_rname": "h.o.test.", "catalog_zone": "cat.o.test."}"#)
        #expect(try server.api("POST", "/v1/pools", #"{"name": "third", "nameservers": ["ns1.o.test."], "soa_mname": "ns1.o.test.", "soa_rname": "h.o.test.", "catalog_zone": "cat.o.test."}"#).status == 409)
        try server.must(204, "DELETE", "/v1/pools/other")
        #expect(try server.databaseText("SELECT count(*)::text FROM zones WHERE kind = 'catalog'") == "0")
    }
}

import DNSModel
import Foundation
import HTTPServer
import IntegrationHarness
import Testing

/// Secondaries that provision themselves: BIND and Knot configured only with the pool's catalog
/// zone, NSD with its zones listed, all of zonectl.
@Suite("Catalog zones with real BIND and Knot secondaries", .serialized)
struct CatalogPropagationTests {
    @Test("creating a zone through the API makes BIND and Knot serve it via the catalog; deleting it makes both drop it; NSD keeps serving its listed zone")
    func catalogProvisioning() throws {
        let server = try ZonectlServer()
        defer { server.stop() }
        let catalog = "catalog.e2e-dns.test."
        try server.must(201, "POST", "/v1/pools", #"{"name": "cat", "nameservers": ["ns1.e2e-dns.test."], "soa_mname": "ns1.e2e-dns.test.", "soa_rname": "hostmaster.e2e-dns.test.", "catalog_zone": "\#(catalog)"}"#)
        let bind = try SecondaryServer(kind: .bind, zones: [], primaryPort: server.dnsPort, catalog: catalog)
        let knot = try SecondaryServer(kind: .knot, zones: [], primaryPort: server.dnsPort, catalog: catalog)
        let nsd = try SecondaryServer(kind: .nsd, zones: ["listed.test."], primaryPort: server.dnsPort)
        let all = [bind, knot, nsd]
        defer { for secondary in all { secondary.stop(removingFiles: true) } }
        for secondary in all {
            let reads = secondary.kind == .nsd ? "false" : "true"
            try server.must(201, "POST", "/v1/pools/cat/servers",
                            #"{"address": "127.0.0.1", "port": \#(secondary.port), "catalog": \#(reads), "description": "\#(secondary.kind)"}"#)
        }
        let account = try server.must(201, "POST", "/v1/accounts", #"{"name": "cat"}"#)["id"]?.intValue ?? 0
        try server.must(201, "POST", "/v1/zones", #"{"name": "listed.test.", "account_id": \#(account), "pool": "cat"}"#)
        for secondary in all { try secondary.start() }
        #expect(nsd.waitUntilServed("listed.test.", timeout: 30) != nil, "\(nsd.logText().suffix(2000))")
        // The catalog lists listed.test. too, so BIND and Knot serve it without being told.
        for secondary in [bind, knot] {
            #expect(secondary.waitUntilServed("listed.test.", timeout: 30) != nil, "\(secondary.kind): \(secondary.logText().suffix(3000))")
        }

        let created = try server.must(201, "POST", "/v1/zones", #"{"name": "fresh.test.", "account_id": \#(account), "pool": "cat"}"#)
        let serial = UInt32(created["serial"]?.intValue ?? 0)
        for secondary in [bind, knot] {
            #expect(secondary.waitForSerial(serial, of: "fresh.test.", timeout: 20),
                    "\(secondary.kind) does not serve fresh.test.: \(secondary.logText().suffix(3000))")
        }
        #expect(!nsd.servesZone("fresh.test."))

        // A change to the new zone reaches them like any other.
        let changed = try server.must(200, "PATCH", "/v1/zones/fresh.test/rrsets", #"{"changes": [{"action": "replace", "name": "www.fresh.test.", "type": "A", "records": ["192.0.2.5"]}]}"#)
        for secondary in [bind, knot] {
            #expect(secondary.waitForSerial(UInt32(changed["serial"]?.intValue ?? 0), of: "fresh.test.", timeout: 10), "\(secondary.kind)")
        }

        try server.must(204, "DELETE", "/v1/zones/fresh.test")
        for secondary in [bind, knot] {
            #expect(secondary.waitUntilGone("fresh.test.", timeout: 20), "\(secondary.kind) still serves fresh.test.")
        }
        #expect(nsd.servesZone("listed.test.") && bind.servesZone("listed.test.") && knot.servesZone("listed.test."))

        // The deleted zone is no longer transferred by zonectl to anyone.
        let zone = try DomainName(presentation: "fresh.test.", origin: .root)
        #expect(try DNSTestClient(port: server.dnsPort).tcp(.query(id: 1, name: zone, type: .axfr)).first?.rcode == .refused)
        // And the catalog is in sync on the servers that read it.
        let pool = try server.must(200, "GET", "/v1/pools/cat")
        #expect(pool["catalog_serial"]?.intValue ?? 0 >= 4)
    }
}

import Foundation
import HTTPServer
import IntegrationHarness
import Testing

/// Zone files in and out, checked by the validators the secondaries themselves use.
@Suite("Zone file import and export")
struct ImportExportTests {
    static let fixtures = APIFixture.repositoryRoot.appendingPathComponent("Tests/Fixtures/zones")

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    static func validZoneFiles() throws -> [(origin: String, file: String)] {
        try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".zone") }.sorted().map { file in
            (String(file.dropLast(".zone".count)) + ".", file)
        }
    }

    static func invalidZoneFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("invalid").path)
            .filter { $0.hasSuffix(".zone") }.sorted()
    }

    /// The records of a zone file as BIND reads them: one canonical line each, SOA and apex NS
    /// left out (the service replaces them), TTL left out for the owners named in `looseTTL`.
    static func bindRecords(origin: String, text: String, looseTTL: Set<String> = []) throws -> [String] {
        let path = NSTemporaryDirectory() + "zonectl-\(UUID().uuidString).zone"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let compiled = try ChildProcess.run("/usr/bin/named-compilezone", ["-i", "none", "-k", "ignore", "-n", "ignore", "-s", "full", "-o", "-", origin, path])
        #expect(compiled.status == 0, "named-compilezone \(origin): \(compiled.output) \(compiled.error)")
        return compiled.output.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 5, fields[2] == "IN" else { return nil }
            let owner = fields[0].lowercased()
            if fields[3] == "SOA" || (fields[3] == "NS" && owner == origin.lowercased()) { return nil }
            let ttl = looseTTL.contains(owner) ? "*" : fields[1]
            return ([owner, ttl, fields[3]] + fields[4...]).joined(separator: " ")
        }.sorted()
    }

    static func validate(origin: String, text: String) throws {
        let path = NSTemporaryDirectory() + "zonectl-\(UUID().uuidString).zone"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bind = try ChildProcess.run("/usr/bin/named-checkzone", ["-i", "local", origin, path])
        #expect(bind.status == 0, "named-checkzone \(origin): \(bind.output) \(bind.error)")
        let knot = try ChildProcess.run("/usr/bin/kzonecheck", ["-o", origin, path])
        #expect(knot.status == 0, "kzonecheck \(origin): \(knot.output) \(knot.error)")
    }

    @Test("every valid test zone imports; its export passes named-checkzone and kzonecheck and holds the same records")
    func roundTrip() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        let files = try Self.validZoneFiles()
        #expect(!files.isEmpty)
        for (origin, file) in files {
            let original = try Self.fixture(file)
            let created = try api.client.sendZoneFile("POST", "/v1/zones?name=\(origin)", token: acme.token, zone: original)
            #expect(created.status == 201, "\(file): \(created.text)")
            let notes = try created.json()["notes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(notes.contains { $0.contains("SOA skipped") })
            let looseTTL = Set(notes.filter { $0.contains("rrset-ttl-mismatch") }.compactMap { note in
                note.split(separator: " ").first { $0.hasSuffix(".") && $0.contains(origin.dropLast()) }.map { $0.lowercased() }
            })

            let export = try api.client.send("GET", "/v1/zones/\(origin)/export", token: acme.token)
            #expect(export.status == 200)
            #expect(export.header("Content-Type") == "text/dns")
            try Self.validate(origin: origin, text: export.text)
            #expect(try Self.bindRecords(origin: origin, text: export.text, looseTTL: looseTTL)
                    == Self.bindRecords(origin: origin, text: original, looseTTL: looseTTL), "\(file)")
        }
    }

    @Test("every invalid test zone is refused with its line number, and nothing is created")
    func invalidFiles() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        for file in try Self.invalidZoneFiles() {
            let text = try Self.fixture("invalid/" + file)
            let origin = text.split(separator: "\n").first { $0.hasPrefix("$ORIGIN") }.map { String($0.split(separator: " ")[1]) } ?? "invalid.example."
            let response = try api.client.sendZoneFile("POST", "/v1/zones?name=\(origin)", token: acme.token, zone: text)
            #expect(response.status == 422, "\(file): \(response.text)")
            let messages = try response.json()["errors"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
            #expect(messages.contains { $0.hasPrefix("line 5") || $0.hasPrefix("line 6") }, "\(file): \(messages)")
        }
        #expect(try api.databaseText("SELECT count(*)::text AS all FROM zones") == "0")
    }

    @Test("import merge keeps other RRsets, replace drops them, each under one new serial")
    func importModes() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("acme")
        try api.createZone("example.com", token: acme.token, extra: #""serial_policy": "increment""#)
        #expect(try api.patch("example.com", token: acme.token, #"[{"action": "add", "name": "keep.example.com", "type": "A", "records": ["192.0.2.1"]}]"#).status == 200)
        let before = try api.serial("example.com", token: acme.token)
        let file = "$ORIGIN example.com.\n$TTL 300\nwww IN A 192.0.2.80\nwww IN A 192.0.2.81\n"
        let merged = try api.client.sendZoneFile("POST", "/v1/zones/example.com/import?mode=merge", token: acme.token, zone: file)
        #expect(merged.status == 200, "\(merged.text)")
        #expect(try merged.json()["serial"]?.intValue == before + 1)
        #expect(try api.rrsetLines("example.com", token: acme.token).count == 3)
        let replaced = try api.client.sendZoneFile("POST", "/v1/zones/example.com/import?mode=replace", token: acme.token, zone: file)
        #expect(replaced.status == 200)
        #expect(try replaced.json()["serial"]?.intValue == before + 2)
        #expect(try api.rrsetLines("example.com", token: acme.token) == ["www.example.com. A 300 192.0.2.80", "www.example.com. A 300 192.0.2.81"])
        let missingMode = try api.client.sendZoneFile("POST", "/v1/zones/example.com/import", token: acme.token, zone: file)
        #expect(missingMode.status == 400)
        let wrongType = try api.client.send("POST", "/v1/zones/example.com/import?mode=merge", token: acme.token, json: "{}")
        #expect(wrongType.status == 415)
    }

    @Test("a 100,000-record zone imports in one change and exports again")
    func largeImport() throws {
        let api = try APIFixture()
        let acme = try api.createCustomer("big", quotas: #""max_records_per_zone": 200000"#)
        var text = "$ORIGIN big.example.\n$TTL 3600\n"
        for index in 0..<100_000 {
            text += "h\(index) IN A 10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)\n"
        }
        let created = try api.client.sendZoneFile("POST", "/v1/zones?name=big.example", token: acme.token, zone: text, timeoutSeconds: 300)
        #expect(created.status == 201, "\(created.text.prefix(500))")
        #expect(try created.json()["records_added"] == .int(100_000))
        let export = try api.client.send("GET", "/v1/zones/big.example/export", headers: ["Authorization": "Bearer " + acme.token], timeoutSeconds: 300)
        #expect(export.status == 200)
        #expect(export.text.split(separator: "\n").count >= 100_000)
        try Self.validate(origin: "big.example.", text: export.text)
    }
}

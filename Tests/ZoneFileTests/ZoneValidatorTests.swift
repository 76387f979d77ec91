import DNSModel
import Foundation
import Testing
@testable import ZoneFile

/// Rendered zones checked by validators nobody on this project wrote: BIND's named-checkzone,
/// Knot's kzonecheck and ldns-read-zone; record contents compared with named-compilezone's.
@Suite struct ZoneValidatorTests {
    /// A canonical record: owner, TTL, type and RDATA wire, so text differences do not count.
    struct CanonicalRecord: Hashable, CustomStringConvertible {
        let owner: DomainName
        let ttl: UInt32
        let rdata: RData
        var description: String { "\(owner) \(ttl) \(rdata.type) \(rdata.presentation())" }
    }

    func canonical(_ zone: ParsedZone) -> Set<CanonicalRecord> {
        Set(zone.rrsets.flatMap { set in set.rdatas.map { CanonicalRecord(owner: set.owner, ttl: set.ttl, rdata: $0) } })
    }

    func parse(_ bytes: [UInt8], origin: DomainName) throws -> ParsedZone {
        switch ZoneFileParser.parse(bytes, origin: origin) {
        case .success(let zone): return zone
        case .failure(let errors): throw errors
        }
    }

    func render(_ zone: ParsedZone) -> [UInt8] {
        ZoneFileRenderer(origin: zone.origin, defaultTTL: ZoneFileCommands.mostCommonTTL(zone.rrsets)).render(zone: zone.rrsets)
    }

    /// named-checkzone -i local, kzonecheck and ldns-read-zone all accept the file.
    func expectValidatorsAccept(_ bytes: [UInt8], origin: DomainName) throws {
        let file = try TemporaryZoneFile(bytes)
        let zone = origin.description
        for run in [
            try ValidatorRun.run("named-checkzone", ["-i", "local", zone, file.path]),
            try ValidatorRun.run("kzonecheck", ["-o", zone, file.path]),
            try ValidatorRun.run("ldns-read-zone", [file.path]),
        ] {
            #expect(run.succeeded, "\(run)\nzone:\n\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    /// What BIND reads from a file, through named-compilezone, as canonical records.
    func recordsAccordingToBIND(path: String, origin: DomainName) throws -> Set<CanonicalRecord> {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("compiled-\(UUID().uuidString).zone").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try ValidatorRun.run("named-compilezone", ["-i", "none", "-s", "full", "-o", output, origin.description, path])
        try #require(run.succeeded, "\(run)")
        let compiled = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        return canonical(try parse(compiled, origin: origin))
    }

    @Test func everyTypeRendersToAZoneTheValidatorsAccept() throws {
        let origin = ZoneFixtures.everyTypeOrigin
        let parsed = try parse(Array(ZoneFixtures.everyType.utf8), origin: origin)
        #expect(Set(parsed.rrsets.map(\.type)).isSuperset(of: [
            .a, .aaaa, .cname, .mx, .txt, .ns, .srv, .caa, .ptr, .soa, .ds, .tlsa, .sshfp, .naptr,
            .svcb, .https, .dname, .loc, .uri, RRType(rawValue: 65280),
        ]))
        let rendered = render(parsed)
        try expectValidatorsAccept(rendered, origin: origin)
        // Rendered and parsed again: the same records.
        #expect(canonical(try parse(rendered, origin: origin)) == canonical(parsed))
        // BIND reads the same records from our rendering as from the original text.
        let original = try TemporaryZoneFile(Array(ZoneFixtures.everyType.utf8))
        let ours = try TemporaryZoneFile(rendered)
        let fromOriginal = try recordsAccordingToBIND(path: original.path, origin: origin)
        #expect(fromOriginal == canonical(parsed))
        #expect(try recordsAccordingToBIND(path: ours.path, origin: origin) == fromOriginal)
    }

    @Test(arguments: ZoneFixtures.validZones)
    func sharedValidZonesParseRenderAndValidate(name: String) throws {
        let origin = try ZoneFixtures.origin(of: name)
        let parsed = try parse(try ZoneFixtures.bytes(name), origin: origin)
        let rendered = render(parsed)
        try expectValidatorsAccept(rendered, origin: origin)
        let bind = try recordsAccordingToBIND(path: ZoneFixtures.path(name), origin: origin)
        let mine = canonical(parsed)
        #expect(mine == bind, "only ours: \(mine.subtracting(bind))\nonly BIND's: \(bind.subtracting(mine))")
        #expect(canonical(try parse(rendered, origin: origin)) == mine)
    }

    /// Each invalid fixture, the line and the rule it must be refused with.
    static let expectedRefusals: [String: (line: Int, rule: String)] = [
        "invalid/bad-ipv4.zone": (5, "bad-rdata"),
        "invalid/cname-and-other-data.zone": (6, "cname-and-other-data"),
        "invalid/cname-at-apex.zone": (5, "cname-at-apex"),
        "invalid/label-too-long.zone": (5, "bad-name"),
        "invalid/out-of-zone.zone": (5, "out-of-zone"),
        "invalid/unterminated-quote.zone": (5, "unterminated-quote"),
    ]

    @Test(arguments: ZoneFixtures.invalidZones)
    func sharedInvalidZonesAreRefusedWithLineAndRule(name: String) throws {
        let expected = try #require(Self.expectedRefusals[name], "no expectation written for \(name)")
        let origin = try ZoneFixtures.origin(of: name)
        let result = ZoneFileParser.parse(try ZoneFixtures.bytes(name), origin: origin)
        guard case .failure(let failure) = result else {
            Issue.record("\(name) was accepted")
            return
        }
        #expect(failure.errors.map(\.line) == [expected.line], "\(failure)")
        #expect(failure.errors.map(\.rule) == [expected.rule], "\(failure)")
        #expect(failure.errors.allSatisfy { !$0.message.isEmpty })
        // BIND refuses them too, except out-of-zone data, which it drops with a warning
        // (zonectl refuses it: an import that silently loses records is worse).
        let run = try ValidatorRun.run("named-checkzone", ["-i", "local", origin.description, ZoneFixtures.path(name)])
        if name == "invalid/out-of-zone.zone" {
            #expect(run.standardOutput.contains("out-of-zone"), "\(run)")
        } else {
            #expect(!run.succeeded, "\(run)")
        }
    }

    @Test func commandsExitCodes() throws {
        let good = ZoneFixtures.path("example.com.zone")
        #expect(ZoneFileCommands.check(origin: "example.com", path: good) == 0)
        #expect(ZoneFileCommands.check(origin: "bad1.example.", path: ZoneFixtures.path("invalid/cname-and-other-data.zone")) == 1)
        #expect(ZoneFileCommands.check(origin: "example.com", path: "/nonexistent/zone") == 2)
        #expect(ZoneFileCommands.check(origin: "a..b", path: good) == 2)
    }
}

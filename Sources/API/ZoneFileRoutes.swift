import DNSModel
import HTTPServer
import Store
import ZoneData
import ZoneFile

/// Zone files over HTTP: export, import into a zone, and creating a zone from a file.
///
/// Imports go through the same parsed types and the same `ZoneEditor` as JSON changes, so what
/// a file can bring in is exactly what the API accepts. The SOA and apex NS of a file are not
/// imported: the service owns them, and the response says they were skipped.
extension APIService {
    static let zoneFileType = "text/dns"

    func registerZoneFileRoutes() {
        route("GET", "/v1/zones/{zone}/export") { [pool] call in
            // Access is decided now; the file is written by the stream producer, page by page,
            // so a zone of any size costs a few chunks of memory.
            let zone = try pool.withConnection { try Self.visibleZone(call, on: $0) }
            var headers = HTTPHeaders()
            headers.set("Content-Type", Self.zoneFileType)
            headers.set("Content-Disposition", "attachment; filename=\"\(zone.row.name)zone\"")
            return HTTPResponse(status: 200, headers: headers, stream: { writer in
                try pool.withConnection { db in
                    // One snapshot for all pages, so the file is one consistent version of the
                    // zone (its SOA serial says which; it may be newer than at the access check).
                    try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    defer { try? db.execute("COMMIT") }
                    guard let row = try ZoneRepository.find(id: zone.id, on: db) else { return }
                    try HostedZone(row).renderZoneFile(on: db) { try writer.write($0) }
                }
            })
        }

        route("POST", "/v1/zones/{zone}/import") { [self] call in
            let mode = try Self.importMode(call.http)
            try Self.requireZoneFile(call.http)
            var skipped: [String] = []
            return try commitChange(call, kind: "import", replaceAll: mode == "replace") { zone in
                let (operations, notes) = try Self.importOperations(call.http.body, zone: zone.name, defaultTTL: UInt32(zone.row.defaultTTL))
                skipped = notes
                return operations
            } respond: { outcome in
                Self.importResponse(200, outcome: outcome, skipped: skipped)
            }
        }
    }

    /// The larger body limit zone files get (`POST /v1/zones` and imports); nil keeps the JSON limit.
    public static func bodyLimit(importBytes: Int) -> @Sendable (String, String) -> Int? {
        { method, path in
            method == "POST" && (path == "/v1/zones" || (path.hasPrefix("/v1/zones/") && path.hasSuffix("/import"))) ? importBytes : nil
        }
    }

    static func isZoneFile(_ request: HTTPRequest) -> Bool {
        (request.headers["Content-Type"] ?? "").lowercased().hasPrefix(zoneFileType)
    }

    static func requireZoneFile(_ request: HTTPRequest) throws(HTTPProblem) {
        guard isZoneFile(request) else {
            throw HTTPProblem(status: 415, title: "Unsupported Media Type",
                              detail: "send the zone file with 'Content-Type: \(zoneFileType)'",
                              type: Problems.typePrefix + "unsupported-media-type")
        }
    }

    static func importMode(_ request: HTTPRequest) throws(HTTPProblem) -> String {
        guard let mode = request.query("mode") else {
            throw Problems.invalidQuery("mode", "is required: replace (the zone becomes the file) or merge (the file's RRsets replace those with the same name and type, others stay)")
        }
        guard mode == "replace" || mode == "merge" else {
            throw Problems.invalidQuery("mode", "must be replace or merge, not '\(mode)'")
        }
        return mode
    }

    /// The file's RRsets as replace operations, and a note for each RRset skipped.
    static func importOperations(_ body: [UInt8], zone: DomainName, defaultTTL: UInt32) throws -> ([RRsetOperation], [String]) {
        guard !body.isEmpty else { throw Problems.badRequest("the request body is empty; send an RFC 1035 zone file") }
        let parsed: ParsedZone
        // The service owns SOA and apex NS, so a file need not carry them.
        switch ZoneFileParser.parse(body, origin: zone, requireApexRecords: false, defaultTTL: defaultTTL) {
        case .success(let zoneFile): parsed = zoneFile
        case .failure(let failure):
            let errors = failure.errors.map { HTTPProblem.FieldError(pointer: "", message: $0.description) }
            throw HTTPProblem(
                status: 422, title: "Unprocessable Content",
                detail: "the zone file has \(errors.count) error\(errors.count == 1 ? "" : "s"); the first: \(failure.errors[0].description)",
                errors: errors, type: Problems.typePrefix + "invalid-zone-file")
        }
        var notes = parsed.warnings.map(\.description)
        var operations: [RRsetOperation] = []
        operations.reserveCapacity(parsed.rrsets.count)
        for rrset in parsed.rrsets {
            if rrset.type == .soa || (rrset.type == .ns && rrset.owner == zone) {
                notes.append("\(rrset.owner) \(rrset.type) skipped: the service manages the SOA and the apex NS records")
                continue
            }
            operations.append(RRsetOperation(
                action: .replace, owner: rrset.owner, type: rrset.type, ttl: rrset.ttl, rdatas: rrset.rdatas,
                pointer: ""))
        }
        return (operations, notes)
    }

    static func importResponse(_ status: Int, outcome: ZoneEditor.Outcome, skipped: [String]) -> HTTPResponse {
        guard case .object(var members) = changeSummary(outcome) else { return .json(status, changeSummary(outcome)) }
        members.append(("notes", .array(skipped.map(JSONValue.string))))
        return .json(status, .object(members))
    }

    /// `POST /v1/zones` with a zone file body: `?name=` (and `?account_id=` for operators,
    /// `?serial_policy=`, `?pool=`, as the JSON form's members).
    func createZoneFromFile(_ call: Call) throws -> HTTPResponse {
        var errors: [HTTPProblem.FieldError] = []
        var name: DomainName?
        if let text = call.http.query("name") {
            do throws(RuleMessage) { name = try Self.zoneName(text) } catch { throw Problems.invalidQuery("name", error.message) }
        } else {
            throw Problems.invalidQuery("name", "is required with a zone file body: the zone's name")
        }
        var given: Int64?
        if let text = call.http.query("account_id") {
            guard let id = Int64(text), id > 0 else { throw Problems.invalidQuery("account_id", "must be an account id, not '\(text)'") }
            given = id
        }
        let accountID = Self.owningAccount(given, call: call) { errors.append(.init(pointer: "", message: "query parameter account_id \($0)")) }
        guard errors.isEmpty, let name, let accountID else { throw Problems.badRequest(errors.map(\.message).joined(separator: "; ")) }
        var settings = ZoneSettings()
        if let text = call.http.query("serial_policy") {
            guard let policy = SerialPolicy(rawValue: text) else {
                throw Problems.invalidQuery("serial_policy", "must be one of date, epoch, increment, not '\(text)'")
            }
            settings.serialPolicy = policy
        }
        let (operations, notes) = try Self.importOperations(call.http.body, zone: name, defaultTTL: zoneDefaults.defaultTTL)
        return try pool.transaction { db in
            let creation = ZoneCreation(name: name, accountID: accountID, settings: settings, pool: call.http.query("pool"))
            let created = try createZone(creation, call: call, on: db)
            guard let account = try AccountRepository.find(id: accountID, on: db) else {
                throw StoredData.Corrupt("account \(accountID) vanished inside its own transaction")
            }
            var editor = try ZoneEditor(db: db, zone: created, account: account)
            let outcome = try editor.apply(operations, replaceAll: true, kind: "import", tokenID: call.principal.tokenID)
            if outcome.changed { _ = try editor.write() }
            var response = Self.importResponse(201, outcome: outcome, skipped: notes)
            response.headers.set("Location", "/v1/zones/\(outcome.zone.row.name)")
            response.headers.set("ETag", outcome.zone.etag)
            return response
        }
    }
}

import DNSModel
import HTTPServer

/// Reading RRsets out of JSON requests into parsed DNS types, with a pointer for every problem.
enum RRsetRequest {
    static let maxRecordsPerRRset = 1000
    static let maxChangesPerBatch = 10_000

    /// A record name in the zone: absolute, trailing dot optional, IDN converted.
    static func owner(_ text: String, in zone: DomainName) throws(RuleMessage) -> DomainName {
        let name: DomainName
        do {
            name = try DomainName(userInput: text)
        } catch {
            throw RuleMessage("'\(text)' is not a domain name: \(error)")
        }
        guard name.isAtOrBelow(zone) else {
            throw RuleMessage("\(name) is not in the zone \(zone): use the apex or a name below it")
        }
        return name
    }

    static func type(_ text: String) throws(RuleMessage) -> RRType {
        guard let type = RRType(mnemonic: text) else {
            throw RuleMessage("'\(text)' is not a record type (A, AAAA, CNAME, MX, TXT, … or TYPEnnn)")
        }
        return type
    }

    /// The `records` array: each a presentation-format string, all different.
    static func rdatas(_ fields: inout JSONFields, key: String = "records", type: RRType?, required: Bool) -> [RData]? {
        let pointer = fields.pointer(key)
        switch fields.value(key) {
        case nil:
            if required { fields.fail(key, "is required: an array of records in presentation form, e.g. [\"192.0.2.1\"]") }
            return nil
        case .array(let items)?:
            guard items.count <= maxRecordsPerRRset else {
                fields.fail(key, "has \(items.count) records; an RRset may have at most \(maxRecordsPerRRset)")
                return nil
            }
            var rdatas: [RData] = []
            var seen: [RData: Int] = [:]
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    fields.errors.append(.init(pointer: "\(pointer)/\(index)", message: "must be a string in presentation form, not \(JSONFields.kind(of: item))"))
                    continue
                }
                guard let type else { continue }
                do {
                    let rdata = try RData.parse(type: type, text: text, origin: .root, mode: .api)
                    if let first = seen[rdata] {
                        fields.errors.append(.init(pointer: "\(pointer)/\(index)", message: "is the same record as \(pointer)/\(first) [duplicate-record]"))
                        continue
                    }
                    seen[rdata] = index
                    rdatas.append(rdata)
                } catch {
                    fields.errors.append(.init(pointer: "\(pointer)/\(index)", message: "not a valid \(type) record: \(error.message)"))
                }
            }
            return rdatas
        case let other?:
            fields.fail(key, "must be an array of strings, not \(JSONFields.kind(of: other))")
            return nil
        }
    }

    static func ttl(_ fields: inout JSONFields) -> UInt32? {
        fields.int("ttl", in: 0...2_147_483_647).map { UInt32($0) }
    }

    /// One element of `changes` in `PATCH …/rrsets`.
    static func operation(_ value: JSONValue, pointer: String, zone: DomainName, errors: inout [HTTPProblem.FieldError]) -> RRsetOperation? {
        var fields = JSONFields(value, pointer: pointer)
        let actionText = fields.string("action", required: true, maxLength: 20)
        let action = actionText.flatMap(RRsetOperation.Action.init(rawValue:))
        if let actionText, action == nil {
            fields.fail("action", "must be one of replace, delete, add, remove, not '\(actionText)'")
        }
        let owner = fields.string("name", required: true, maxLength: 1100).flatMap { text -> DomainName? in
            do throws(RuleMessage) { return try Self.owner(text, in: zone) } catch { fields.fail("name", error.message); return nil }
        }
        let type = fields.string("type", required: true, maxLength: 20).flatMap { text -> RRType? in
            do throws(RuleMessage) { return try Self.type(text) } catch { fields.fail("type", error.message); return nil }
        }
        let ttl = ttl(&fields)
        let needsRecords = action == .add || action == .remove || action == .replace
        var rdatas: [RData] = []
        if action == .delete {
            if fields.value("records") != nil { fields.fail("records", "must not be given with action delete (it removes the whole RRset)") }
        } else {
            rdatas = Self.rdatas(&fields, type: type, required: needsRecords) ?? []
        }
        do { try fields.finish() } catch { errors += fields.errors; return nil }
        guard let action, let owner, let type else { return nil }
        return RRsetOperation(action: action, owner: owner, type: type, ttl: ttl, rdatas: rdatas, pointer: pointer)
    }

    /// An RRset as the API shows it: canonical presentation of each record.
    static func json(_ rrset: RRset) -> JSONValue {
        .object([
            ("name", .string(rrset.owner.description)),
            ("type", .string(rrset.type.description)),
            ("ttl", .int(Int64(rrset.ttl))),
            ("records", .array(rrset.rdatas.map { .string($0.presentation()) })),
        ])
    }
}

/// A rule a value broke, as a sentence for a field error.
struct RuleMessage: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

import DNSModel

/// A zone file that parsed and passed the zone rules.
public struct ParsedZone: Sendable, Equatable {
    /// The zone apex the file was parsed for.
    public var origin: DomainName
    /// Every record in file order, duplicates dropped, each with the TTL its RRset ended up with.
    public var records: [ResourceRecord]
    /// The records grouped by owner and type, in zone order (SOA, apex NS, then canonical order).
    public var rrsets: [RRset]
    /// Things the file does that are accepted but worth telling the operator (an RRset whose
    /// records had different TTLs, a duplicate record). Same shape as errors.
    public var warnings: [ZoneFileError]
}

/// Parses RFC 1035 zone files for import.
///
/// Default TTL, as BIND's loader does it: `$TTL` when given; without it the SOA's MINIMUM field
/// becomes the default from the SOA record on (RFC 2308 made `$TTL` the way, RFC 1035 servers
/// used the SOA minimum); a record with no TTL before either is an error.
///
/// An RRset whose records carry different TTLs takes the TTL of its last record (what Knot does,
/// and BIND when the records are not adjacent) and gets a warning, since RFC 2181 §5.2 requires
/// one TTL per RRset.
public enum ZoneFileParser {
    /// With `requireApexRecords` false the file may be a fragment to merge into a zone that
    /// exists (its SOA and apex NS come from elsewhere), so a missing SOA or apex NS is no error;
    /// `defaultTTL` then stands in for `$TTL` when the file sets none.
    public static func parse(_ bytes: [UInt8], origin: DomainName, requireApexRecords: Bool = true,
                             defaultTTL: UInt32? = nil) -> Result<ParsedZone, ZoneFileErrors> {
        var state = ParserState(apex: origin)
        state.requireApexRecords = requireApexRecords
        state.fallbackTTL = defaultTTL
        ZoneFileLexer.forEachEntry(
            in: bytes,
            entry: { state.handle($0) },
            error: { state.errors.append($0) })
        return state.finish()
    }
}

private struct RRsetKey: Hashable {
    var owner: DomainName
    var type: RRType
}

/// An RRset while it is being collected, with where its records came from.
private struct RRsetBuilder {
    var owner: DomainName
    var type: RRType
    var ttl: UInt32
    var rdatas: [RData]
    /// Only for large RRsets: most have one or two records, where a set costs more than a scan.
    var members: Set<RData>?
    var firstLine: Int
    var lastLine: Int

    func contains(_ rdata: RData) -> Bool {
        members?.contains(rdata) ?? rdatas.contains(rdata)
    }

    mutating func append(_ rdata: RData) {
        rdatas.append(rdata)
        if members != nil {
            members!.insert(rdata)
        } else if rdatas.count > 16 {
            members = Set(rdatas)
        }
    }
}

private struct ParserState {
    let apex: DomainName
    var requireApexRecords = true
    var fallbackTTL: UInt32?
    var origin: DomainName
    var dollarTTL: UInt32?
    var soaMinimum: UInt32?
    var previousOwner: DomainName?
    var errors: [ZoneFileError] = []
    var warnings: [ZoneFileError] = []
    /// Records in file order, with the index of their RRset.
    var records: [(owner: DomainName, rdata: RData, rrset: Int)] = []
    var builders: [RRsetBuilder] = []
    var index: [RRsetKey: Int] = [:]

    init(apex: DomainName) {
        self.apex = apex
        self.origin = apex
    }

    mutating func fail(_ token: PresentationToken?, line: Int, _ rule: String, _ message: String) {
        errors.append(ZoneFileError(line: token?.line ?? line, column: token?.column, rule: rule, message: message))
    }

    mutating func handle(_ entry: ZoneFileEntry) {
        let tokens = entry.tokens
        var position = 0
        let owner: DomainName
        if entry.ownerIsBlank {
            guard let previous = previousOwner else {
                fail(tokens.first, line: entry.line, "missing-owner",
                     "the line starts with white space, meaning 'same owner as the previous record', but there is no previous record")
                return
            }
            owner = previous
        } else {
            let first = tokens[0]
            if !first.isQuoted && first.text.utf8.first == UInt8(ascii: "$") {
                handleDirective(entry)
                return
            }
            position = 1
            guard let name = parseName(first, what: "owner name") else {
                // Later blank-owner lines belong to this broken owner; do not pin them on an older one.
                previousOwner = nil
                return
            }
            owner = name
        }
        previousOwner = owner

        // Up to two fields before the type: TTL and class, in either order (RFC 1035 §5.1).
        var ttl: UInt32?
        var sawClass = false
        while position < tokens.count && position < (entry.ownerIsBlank ? 2 : 3) {
            let token = tokens[position]
            let text = token.text
            if !sawClass && !token.isQuoted && isClassIN(text) {
                sawClass = true
                position += 1
                continue
            }
            if !token.isQuoted && isOtherClass(text) {
                fail(token, line: entry.line, "class-not-in",
                     "class \(text) is not supported: zonectl hosts class IN zones only")
                return
            }
            if ttl == nil, let firstByte = text.utf8.first, firstByte >= UInt8(ascii: "0"), firstByte <= UInt8(ascii: "9") {
                guard let value = parseTTL(text) else {
                    fail(token, line: entry.line, "bad-ttl",
                         "'\(text)' is not a TTL: use seconds 0…2147483647 or units like 1h, 2d, 1w30m")
                    return
                }
                ttl = value
                position += 1
                continue
            }
            break
        }

        guard position < tokens.count else {
            fail(tokens.last, line: entry.line, "missing-type", "the record has no type (A, MX, TXT, …)")
            return
        }
        let typeToken = tokens[position]
        guard !typeToken.isQuoted, let type = RRType(mnemonic: typeToken.text) else {
            fail(typeToken, line: entry.line, "unknown-type",
                 "'\(typeToken.text)' is not a record type mnemonic (A, AAAA, MX, …) or TYPEnnn")
            return
        }
        let rdataTokens = Array(tokens[(position + 1)...])
        if rdataTokens.isEmpty {
            fail(typeToken, line: entry.line, "bad-rdata", "\(type) record has no data after the type")
            return
        }

        let rdata: RData
        do {
            rdata = try RData.parse(type: type, tokens: rdataTokens, origin: origin, mode: .zoneFile)
        } catch {
            let token = error.tokenIndex.flatMap { $0 < rdataTokens.count ? rdataTokens[$0] : nil } ?? rdataTokens[0]
            fail(token, line: entry.line, "bad-rdata", "\(type): \(error.message)")
            return
        }

        if type == .soa, dollarTTL == nil, soaMinimum == nil {
            soaMinimum = soaMinimumField(rdata)
        }
        guard let recordTTL = ttl ?? dollarTTL ?? soaMinimum ?? fallbackTTL else {
            fail(typeToken, line: entry.line, "missing-ttl",
                 "the record has no TTL and none is in force: add $TTL at the top or a TTL on the record")
            return
        }
        if recordTTL > maximumTTL {
            fail(tokens.first, line: entry.line, "bad-ttl", "TTL \(recordTTL) is above 2147483647 (RFC 2181 §8)")
            return
        }
        add(owner: owner, type: type, ttl: recordTTL, rdata: rdata, line: entry.line)
    }

    mutating func add(owner: DomainName, type: RRType, ttl: UInt32, rdata: RData, line: Int) {
        let key = RRsetKey(owner: owner, type: type)
        if let slot = index[key] {
            if builders[slot].contains(rdata) {
                warnings.append(ZoneFileError(
                    line: line, rule: "duplicate-record",
                    message: "the same \(type) record for \(owner) is already on line \(builders[slot].firstLine); ignored"))
                return
            }
            if builders[slot].ttl != ttl {
                warnings.append(ZoneFileError(
                    line: line, rule: "rrset-ttl-mismatch",
                    message: "TTL \(ttl) differs from the TTL \(builders[slot].ttl) of the other \(type) records for \(owner); the RRset takes \(ttl), the last one given"))
                builders[slot].ttl = ttl
            }
            builders[slot].append(rdata)
            builders[slot].lastLine = line
            records.append((owner, rdata, slot))
        } else {
            let slot = builders.count
            builders.append(RRsetBuilder(
                owner: owner, type: type, ttl: ttl, rdatas: [rdata], members: nil,
                firstLine: line, lastLine: line))
            index[key] = slot
            records.append((owner, rdata, slot))
        }
    }

    mutating func handleDirective(_ entry: ZoneFileEntry) {
        let tokens = entry.tokens
        let directive = tokens[0]
        switch directive.text.uppercased() {
        case "$ORIGIN":
            guard tokens.count == 2 else {
                fail(directive, line: entry.line, "bad-directive", "$ORIGIN takes exactly one domain name")
                return
            }
            if let name = parseName(tokens[1], what: "$ORIGIN name") {
                origin = name
            }
        case "$TTL":
            guard tokens.count == 2 else {
                fail(directive, line: entry.line, "bad-directive", "$TTL takes exactly one TTL")
                return
            }
            guard let value = parseTTL(tokens[1].text), value <= maximumTTL else {
                fail(tokens[1], line: entry.line, "bad-ttl",
                     "'\(tokens[1].text)' is not a TTL: use seconds 0…2147483647 or units like 1h, 2d, 1w30m")
                return
            }
            dollarTTL = value
        case "$INCLUDE":
            fail(directive, line: entry.line, "directive-not-supported",
                 "$INCLUDE is not supported: an imported zone must be one self-contained file; paste the included file's records in its place")
        case "$GENERATE":
            fail(directive, line: entry.line, "directive-not-supported",
                 "$GENERATE is not supported: expand the generated records (named-compilezone -s full does it) and import the result")
        default:
            fail(directive, line: entry.line, "unknown-directive",
                 "unknown directive \(directive.text): only $ORIGIN and $TTL are understood")
        }
    }

    mutating func parseName(_ token: PresentationToken, what: String) -> DomainName? {
        if token.isQuoted {
            fail(token, line: token.line, "bad-name", "\(what) must not be quoted")
            return nil
        }
        if token.text == "@" { return origin }
        do {
            return try DomainName(presentation: token.text, origin: origin)
        } catch {
            fail(token, line: token.line, "bad-name", "\(what) '\(token.text)': \(error)")
            return nil
        }
    }

    mutating func finish() -> Result<ParsedZone, ZoneFileErrors> {
        let rrsets = builders.map { RRset(owner: $0.owner, type: $0.type, ttl: $0.ttl, rdatas: $0.rdatas) }

        // Rules on the zone as a whole, pinned to the line of the record that breaks them.
        let soaSets = builders.filter { $0.type == .soa }
        if soaSets.isEmpty && requireApexRecords {
            errors.append(ZoneFileError(line: 1, rule: "missing-soa", message: "the zone has no SOA record at its apex \(apex)"))
        }
        for set in soaSets where set.owner != apex {
            errors.append(ZoneFileError(
                line: set.firstLine, rule: "soa-not-at-apex",
                message: "SOA record for \(set.owner), but the zone is \(apex): a zone's only SOA is at its apex"))
        }
        if let apexSOA = index[RRsetKey(owner: apex, type: .soa)], builders[apexSOA].rdatas.count > 1 {
            errors.append(ZoneFileError(
                line: builders[apexSOA].lastLine, rule: "multiple-soa",
                message: "a zone has exactly one SOA record; another one is on line \(builders[apexSOA].firstLine)"))
        }
        if requireApexRecords && !soaSets.isEmpty && index[RRsetKey(owner: apex, type: .ns)] == nil {
            errors.append(ZoneFileError(
                line: builders[index[RRsetKey(owner: apex, type: .soa)] ?? 0].firstLine, rule: "missing-ns",
                message: "the zone has no NS records at its apex \(apex): secondaries and resolvers need at least one"))
        }
        for builder in builders where !builder.owner.isAtOrBelow(apex) {
            errors.append(ZoneFileError(
                line: builder.firstLine, rule: "out-of-zone",
                message: "\(builder.owner) is not in the zone \(apex): owners must be at or below the apex"))
        }
        let inZone = rrsets.filter { $0.owner.isAtOrBelow(apex) }
        for violation in ZoneRules.check(apex: apex, rrsets: inZone) {
            // Reported above with better line numbers.
            if violation.rule == "out-of-zone" || violation.rule == "soa-not-at-apex" || violation.rule == "multiple-soa" {
                continue
            }
            errors.append(ZoneFileError(
                line: line(of: violation), rule: violation.rule, message: violation.message))
        }

        if !errors.isEmpty {
            // Sorted by position so an operator can go through the file top to bottom.
            let sorted = errors.enumerated().sorted {
                ($0.element.line, $0.element.column ?? 0, $0.offset) < ($1.element.line, $1.element.column ?? 0, $1.offset)
            }.map(\.element)
            return .failure(ZoneFileErrors(sorted))
        }

        var parsedRecords: [ResourceRecord] = []
        parsedRecords.reserveCapacity(records.count)
        for record in records {
            let builder = builders[record.rrset]
            parsedRecords.append(ResourceRecord(owner: record.owner, type: builder.type, ttl: builder.ttl, rdata: record.rdata))
        }
        return .success(ParsedZone(
            origin: apex,
            records: parsedRecords,
            rrsets: ZoneOrder.sorted(rrsets, apex: apex),
            warnings: warnings))
    }

    /// The line to blame for a zone rule: the RRset it names; with two RRsets at one name in
    /// conflict (CNAME and other data), the one that came later, since that is the one added
    /// to a name that already had the other.
    func line(of violation: ZoneRuleViolation) -> Int {
        if let type = violation.type, let slot = index[RRsetKey(owner: violation.owner, type: type)] {
            let atOwner = builders.filter { $0.owner == violation.owner }
            if atOwner.count > 1, violation.rule.lowercased().contains("cname") || violation.rule.lowercased().contains("dname") {
                return atOwner.map(\.firstLine).max() ?? builders[slot].firstLine
            }
            return builders[slot].firstLine
        }
        let atOwner = builders.filter { $0.owner == violation.owner }
        return atOwner.map(\.firstLine).min() ?? 1
    }
}

private let maximumTTL: UInt32 = 2_147_483_647

private func isClassIN(_ text: String) -> Bool {
    let upper = text.uppercased()
    return upper == "IN" || upper == "CLASS1"
}

private func isOtherClass(_ text: String) -> Bool {
    switch text.uppercased() {
    case "CH", "CHAOS", "HS", "HESIOD", "CS", "NONE", "ANY":
        return true
    default:
        let upper = text.uppercased()
        return upper.hasPrefix("CLASS") && upper.count > 5 && upper.dropFirst(5).allSatisfy(\.isNumber)
    }
}

/// SOA MINIMUM is the last 32 bits of the SOA RDATA's wire form.
private func soaMinimumField(_ rdata: RData) -> UInt32? {
    let wire = rdata.wire
    guard wire.count >= 20 else { return nil }
    return wire[(wire.count - 4)...].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
}

/// TTL fields and `$TTL`: seconds or units (1h, 2w, 1h30m).
private func parseTTL(_ text: String) -> UInt32? {
    TimeToLive.parse(text)
}

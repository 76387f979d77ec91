/// A zone rule an rrset breaks: which name (and type), which rule, and what to do about it.
public struct ZoneRuleViolation: Sendable, Equatable, CustomStringConvertible {
    public let owner: DomainName
    public let type: RRType?
    /// Stable slug: "cname-and-other-data", "cname-at-apex", "cname-and-dname",
    /// "multiple-cname", "multiple-dname", "occluded-by-delegation", "occluded-by-dname",
    /// "ds-without-delegation", "out-of-zone", "duplicate-record", "ttl-out-of-range",
    /// "target-not-hostname", "owner-not-hostname", "soa-not-at-apex", "multiple-soa".
    public let rule: String
    public let message: String

    public init(owner: DomainName, type: RRType?, rule: String, message: String) {
        self.owner = owner
        self.type = type
        self.rule = rule
        self.message = message
    }

    public var description: String {
        "\(owner)\(type.map { " \($0)" } ?? ""): \(message) [\(rule)]"
    }
}

/// The rules a zone's content must follow (RFC 1034, 2181, 4592, 6672 and what BIND, Knot and
/// NSD refuse to load). Each rule is its own function over a set of rrsets.
///
/// `check` works on any subset of a zone's rrsets, so the API can check only the names around a
/// change; rules that look at several rrsets at one name (CNAME and other data, delegations)
/// need every rrset at each owner they are given, and the NS rrsets of delegations above them.
public enum ZoneRules {
    public static func check(apex: DomainName, rrsets: [RRset]) -> [ZoneRuleViolation] {
        var violations: [ZoneRuleViolation] = []
        violations += outOfZone(apex: apex, rrsets: rrsets)
        violations += ttlRange(rrsets)
        violations += duplicateRecords(rrsets)
        violations += soaPlacement(apex: apex, rrsets: rrsets)
        violations += singletonTypes(rrsets)
        violations += cnameAtApex(apex: apex, rrsets: rrsets)
        // At the apex, cname-at-apex already says it all.
        violations += cnameAndOtherData(rrsets).filter { $0.owner != apex }
        violations += cnameAndDNAME(rrsets)
        violations += occludedByDelegation(apex: apex, rrsets: rrsets)
        violations += occludedByDNAME(rrsets)
        violations += dsWithoutDelegation(apex: apex, rrsets: rrsets)
        violations += targetsAreHostNames(rrsets)
        violations += ownersAreHostNames(rrsets)
        return violations
    }

    /// Every owner is at or below the apex.
    public static func outOfZone(apex: DomainName, rrsets: [RRset]) -> [ZoneRuleViolation] {
        rrsets.filter { !$0.owner.isAtOrBelow(apex) }.map {
            ZoneRuleViolation(owner: $0.owner, type: $0.type, rule: "out-of-zone",
                              message: "\($0.owner) is not in the zone \(apex): owners must be at or below the apex")
        }
    }

    /// TTLs are 0…2147483647 (RFC 2181 §8).
    public static func ttlRange(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        rrsets.filter { $0.ttl > TimeToLive.maximum }.map {
            ZoneRuleViolation(owner: $0.owner, type: $0.type, rule: "ttl-out-of-range",
                              message: "TTL \($0.ttl) of \($0.owner) \($0.type) is above 2147483647 (RFC 2181 §8)")
        }
    }

    /// No record appears twice in one rrset (an rrset is a set, RFC 2181 §5).
    public static func duplicateRecords(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        var violations: [ZoneRuleViolation] = []
        for rrset in rrsets where rrset.rdatas.count > 1 {
            var seen = Set<RData>()
            for rdata in rrset.rdatas where !seen.insert(rdata).inserted {
                violations.append(ZoneRuleViolation(
                    owner: rrset.owner, type: rrset.type, rule: "duplicate-record",
                    message: "\(rrset.owner) \(rrset.type) \(rdata.presentation()) is in the rrset twice"))
            }
        }
        return violations
    }

    /// The only SOA is at the apex, and there is one.
    public static func soaPlacement(apex: DomainName, rrsets: [RRset]) -> [ZoneRuleViolation] {
        var violations: [ZoneRuleViolation] = []
        for rrset in rrsets where rrset.type == .soa {
            if rrset.owner != apex {
                violations.append(ZoneRuleViolation(
                    owner: rrset.owner, type: .soa, rule: "soa-not-at-apex",
                    message: "SOA record at \(rrset.owner), but the zone is \(apex): a zone's only SOA is at its apex"))
            } else if rrset.rdatas.count > 1 {
                violations.append(ZoneRuleViolation(
                    owner: rrset.owner, type: .soa, rule: "multiple-soa",
                    message: "the zone has \(rrset.rdatas.count) SOA records; it has exactly one"))
            }
        }
        return violations
    }

    /// A name has at most one CNAME and at most one DNAME (RFC 1034 §3.6.2, RFC 6672 §2.4).
    public static func singletonTypes(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        rrsets.filter { ($0.type == .cname || $0.type == .dname) && $0.rdatas.count > 1 }.map {
            ZoneRuleViolation(owner: $0.owner, type: $0.type, rule: $0.type == .cname ? "multiple-cname" : "multiple-dname",
                              message: "\($0.owner) has \($0.rdatas.count) \($0.type) records; a name has at most one")
        }
    }

    /// The apex has SOA and NS, so it can never be an alias.
    public static func cnameAtApex(apex: DomainName, rrsets: [RRset]) -> [ZoneRuleViolation] {
        rrsets.filter { $0.type == .cname && $0.owner == apex }.map {
            ZoneRuleViolation(owner: $0.owner, type: .cname, rule: "cname-at-apex",
                              message: "CNAME at the zone apex \(apex) is not allowed (the apex has SOA and NS records); use A/AAAA records, or an HTTPS/SVCB alias")
        }
    }

    /// A CNAME is alone at its name, apart from DNSSEC records (RFC 1034 §3.6.2, RFC 2181 §10.1).
    public static func cnameAndOtherData(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        var violations: [ZoneRuleViolation] = []
        for (owner, types) in typesByOwner(rrsets, havingAny: .cname) {
            let others = types.filter { $0 != .cname && $0 != .rrsig && $0 != .nsec && $0 != .dname }.sorted()
            guard !others.isEmpty else { continue }
            violations.append(ZoneRuleViolation(
                owner: owner, type: .cname, rule: "cname-and-other-data",
                message: "\(owner) has a CNAME and also \(others.map(\.description).joined(separator: ", ")) records; a CNAME must be the only record at its name"))
        }
        return violations.sorted { $0.owner < $1.owner }
    }

    /// CNAME and DNAME never share a name (RFC 6672 §5.2).
    public static func cnameAndDNAME(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        typesByOwner(rrsets, havingAny: .dname).filter { $0.value.contains(.cname) }.map {
            ZoneRuleViolation(owner: $0.key, type: .dname, rule: "cname-and-dname",
                              message: "\($0.key) has both a CNAME and a DNAME; remove one")
        }.sorted { $0.owner < $1.owner }
    }

    /// NS below the apex is a delegation: at it only NS, DS and glue addresses; below it only
    /// glue addresses (A, AAAA). Anything else would never be answered (occluded).
    public static func occludedByDelegation(apex: DomainName, rrsets: [RRset]) -> [ZoneRuleViolation] {
        let cuts = Set(rrsets.filter { $0.type == .ns && $0.owner != apex && $0.owner.isAtOrBelow(apex) }.map(\.owner))
        guard !cuts.isEmpty else { return [] }
        var violations: [ZoneRuleViolation] = []
        for rrset in rrsets where rrset.owner != apex {
            // The closest delegation above the owner (or at it), walking up to the apex.
            var name: DomainName? = rrset.owner
            var cutAtOwner = false
            var cutAbove: DomainName?
            while let current = name, current != apex, current.labelCount > apex.labelCount {
                if cuts.contains(current) {
                    if current == rrset.owner {
                        cutAtOwner = true
                    } else {
                        cutAbove = current
                        break
                    }
                }
                name = current.parent
            }
            let glue: Set<RRType> = [.a, .aaaa]
            if let cut = cutAbove {
                if !glue.contains(rrset.type) {
                    violations.append(ZoneRuleViolation(
                        owner: rrset.owner, type: rrset.type, rule: "occluded-by-delegation",
                        message: "\(rrset.owner) \(rrset.type) is below the delegation \(cut) (NS records there), so it would never be answered; only glue A/AAAA records may be there"))
                }
            } else if cutAtOwner {
                let allowed: Set<RRType> = [.ns, .ds, .a, .aaaa, .rrsig, .nsec]
                if !allowed.contains(rrset.type) {
                    violations.append(ZoneRuleViolation(
                        owner: rrset.owner, type: rrset.type, rule: "occluded-by-delegation",
                        message: "\(rrset.owner) is a delegation (it has NS records), so its \(rrset.type) records would never be answered; only NS, DS and glue A/AAAA may be there"))
                }
            }
        }
        return violations
    }

    /// Nothing exists below a DNAME's owner (RFC 6672 §2.3).
    public static func occludedByDNAME(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        let dnames = Set(rrsets.filter { $0.type == .dname }.map(\.owner))
        guard !dnames.isEmpty else { return [] }
        var violations: [ZoneRuleViolation] = []
        for rrset in rrsets {
            var name = rrset.owner.parent
            while let current = name {
                if dnames.contains(current) {
                    violations.append(ZoneRuleViolation(
                        owner: rrset.owner, type: rrset.type, rule: "occluded-by-dname",
                        message: "\(rrset.owner) is below the DNAME at \(current), which redirects everything under it; no records may exist there"))
                    break
                }
                name = current.parent
            }
        }
        return violations
    }

    /// DS belongs to a delegation (RFC 4035 §2.4): not at the apex (it goes in the parent zone),
    /// not at a name without NS.
    public static func dsWithoutDelegation(apex: DomainName, rrsets: [RRset]) -> [ZoneRuleViolation] {
        let owners = typesByOwner(rrsets, havingAny: .ds)
        return rrsets.filter { $0.type == .ds }.compactMap { rrset in
            if rrset.owner == apex {
                return ZoneRuleViolation(owner: rrset.owner, type: .ds, rule: "ds-without-delegation",
                                         message: "DS at the apex \(apex) belongs in the parent zone, not in this one")
            }
            if owners[rrset.owner]?.contains(.ns) != true {
                return ZoneRuleViolation(owner: rrset.owner, type: .ds, rule: "ds-without-delegation",
                                         message: "DS at \(rrset.owner), which is not a delegation: add its NS records or remove the DS")
            }
            return nil
        }
    }

    /// MX, NS and SRV targets are host names (RFC 2181 §10.3, RFC 1123 §2.1): letters, digits
    /// and inner hyphens, no wildcard, not an alias. "." (null MX, RFC 7505; "no service" SRV)
    /// is allowed for MX and SRV.
    public static func targetsAreHostNames(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        var violations: [ZoneRuleViolation] = []
        for rrset in rrsets where rrset.type == .mx || rrset.type == .ns || rrset.type == .srv {
            for rdata in rrset.rdatas {
                guard let target = rdata.targetName else { continue }
                if target.isRoot {
                    if rrset.type == .ns {
                        violations.append(ZoneRuleViolation(
                            owner: rrset.owner, type: .ns, rule: "target-not-hostname",
                            message: "NS target of \(rrset.owner) is the root '.', which is not a name server"))
                    }
                    continue
                }
                if let problem = hostNameProblem(target) {
                    violations.append(ZoneRuleViolation(
                        owner: rrset.owner, type: rrset.type, rule: "target-not-hostname",
                        message: "\(rrset.type) target \(target) of \(rrset.owner) is not a host name: \(problem)"))
                }
            }
        }
        return violations
    }

    /// A, AAAA and MX owners are host names (a wildcard label first is fine): BIND's
    /// `check-names primary fail`, its default, refuses to load a zone where they are not.
    public static func ownersAreHostNames(_ rrsets: [RRset]) -> [ZoneRuleViolation] {
        rrsets.filter { $0.type == .a || $0.type == .aaaa || $0.type == .mx }.compactMap { rrset in
            guard let problem = hostNameProblem(rrset.owner, allowWildcard: true) else { return nil }
            return ZoneRuleViolation(
                owner: rrset.owner, type: rrset.type, rule: "owner-not-hostname",
                message: "\(rrset.owner) cannot own \(rrset.type) records: \(problem) (BIND refuses such a zone)")
        }
    }

    /// Why a name is not a host name, nil when it is one. With `allowWildcard`, a leftmost
    /// `*` label is accepted.
    public static func hostNameProblem(_ name: DomainName, allowWildcard: Bool = false) -> String? {
        for (index, label) in name.labels.enumerated() {
            if label == [UInt8(ascii: "*")] {
                if allowWildcard && index == 0 { continue }
                return "a wildcard is not a host"
            }
            if let bad = label.first(where: { !(isAlphanumeric($0) || $0 == UInt8(ascii: "-")) }) {
                let shown = bad >= 0x21 && bad <= 0x7E ? "'\(Character(Unicode.Scalar(bad)))'" : "octet \(bad)"
                return "label '\(DomainName.presentLabel(label))' has \(shown); host names use letters, digits and hyphens"
            }
            if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") {
                return "label '\(DomainName.presentLabel(label))' starts or ends with a hyphen"
            }
        }
        return nil
    }

    /// The types at each owner that has an rrset of `type` (most owners have none, and a zone
    /// can have a million rrsets, so only those owners are collected).
    private static func typesByOwner(_ rrsets: [RRset], havingAny type: RRType) -> [DomainName: Set<RRType>] {
        var result: [DomainName: Set<RRType>] = [:]
        for rrset in rrsets where rrset.type == type { result[rrset.owner] = [] }
        guard !result.isEmpty else { return [:] }
        for rrset in rrsets where result[rrset.owner] != nil { result[rrset.owner]!.insert(rrset.type) }
        return result
    }
}

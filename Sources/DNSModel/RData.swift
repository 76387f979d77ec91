/// How strictly record data text is read.
public enum RDataParseMode: Sendable {
    /// Zone-file import: a TXT string over 255 octets is refused, as BIND refuses it.
    case zoneFile
    /// API input: a TXT string over 255 octets is split into several character-strings.
    case api
}

/// The data of one resource record, held as canonical uncompressed wire octets (RFC 4034 §6.2:
/// names in lower case). Two RDatas are equal when type and wire are, whatever text they came
/// from ("2001:DB8::1" and "2001:db8:0::1" are one AAAA record).
public struct RData: Hashable, Sendable {
    public let type: RRType
    public let wire: [UInt8]

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type.rawValue)
        wire.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func == (left: RData, right: RData) -> Bool {
        left.type == right.type && left.wire == right.wire
    }

    init(checkedType type: RRType, wire: [UInt8]) {
        self.type = type
        self.wire = wire
    }

    /// Wire RDATA from the database or a transfer: checked field by field and brought to
    /// canonical form (names folded to lower case).
    public init(type: RRType, wire: [UInt8]) throws(RDataError) {
        self.init(checkedType: type, wire: try RData.canonicalWire(type: type, wire: wire))
    }

    /// Parses presentation tokens (zone-file fields, or `PresentationToken.tokenize` output).
    /// Names without a final dot are relative to `origin`. Errors carry the index of the token
    /// they are about.
    public static func parse(type: RRType, tokens: [PresentationToken], origin: DomainName?, mode: RDataParseMode) throws(RDataError) -> RData {
        if type.isMetaType {
            throw RDataError("\(type) is a query or transport type, not data a zone can hold", tokenIndex: nil)
        }
        if let first = tokens.first, !first.isQuoted, first.text == "\\#" {
            let octets = try GenericRData.parse(tokens)
            do {
                return RData(checkedType: type, wire: try canonicalWire(type: type, wire: octets))
            } catch {
                throw RDataError("\(type) data in \\# form: \(error.message)", tokenIndex: 0)
            }
        }
        var reader = RDataTokenReader(tokens: tokens, type: type, origin: origin, mode: mode)
        let wire: [UInt8]
        switch type {
        case .loc:
            wire = try LOCRecord.parse(&reader)
        case .svcb, .https:
            wire = try SVCBRecord.parse(&reader)
        default:
            guard let format = RDataFormat.of(type) else {
                throw RDataError("zonectl has no presentation format for \(type): write its data in the RFC 3597 form \\# LENGTH HEX", tokenIndex: tokens.isEmpty ? nil : 0)
            }
            wire = try format.parse(&reader)
        }
        guard wire.count <= 65535 else {
            throw RDataError("\(type) data is \(wire.count) octets; RDATA holds at most 65535", tokenIndex: nil)
        }
        return RData(checkedType: type, wire: wire)
    }

    /// Splits `text` as one line of API input and parses it.
    public static func parse(type: RRType, text: String, origin: DomainName?, mode: RDataParseMode) throws(RDataError) -> RData {
        try parse(type: type, tokens: PresentationToken.tokenize(text), origin: origin, mode: mode)
    }

    static func canonicalWire(type: RRType, wire: [UInt8]) throws(RDataError) -> [UInt8] {
        if type.isMetaType {
            throw RDataError("\(type) is a query or transport type, not data a zone can hold")
        }
        guard wire.count <= 65535 else {
            throw RDataError("\(type) data is \(wire.count) octets; RDATA holds at most 65535")
        }
        switch type {
        case .loc:
            try LOCRecord.validate(wire)
            return wire
        case .svcb, .https:
            return try SVCBRecord.canonicalize(wire)
        default:
            guard let format = RDataFormat.of(type) else { return wire }
            return try format.canonicalize(wire, type: type)
        }
    }

    /// Canonical presentation: names absolute when `origin` is nil, else relative to it where
    /// they are at or below it ("@" for the origin). Types without a presentation format here
    /// are written in RFC 3597 form.
    public func presentation(origin: DomainName? = nil) -> String {
        switch type {
        case .loc:
            return LOCRecord.present(wire)
        case .svcb, .https:
            return SVCBRecord.present(wire, origin: origin)
        default:
            guard let format = RDataFormat.of(type) else { return GenericRData.present(wire) }
            return format.present(wire, type: type, origin: origin)
        }
    }

    /// The host name the record points at (CNAME, DNAME, NS, PTR targets; MX exchange; SRV
    /// target), for zone rules. nil for other types.
    public var targetName: DomainName? {
        var reader = RDataWireReader(wire, type: type)
        switch type {
        case .cname, .dname, .ns, .ptr:
            return try? reader.name("target")
        case .mx:
            _ = try? reader.uint16("preference")
            return try? reader.name("target")
        case .srv:
            _ = try? reader.octets(6, "priority, weight, port")
            return try? reader.name("target")
        default:
            return nil
        }
    }
}

extension RData: CustomStringConvertible {
    public var description: String { "\(type) \(presentation())" }
}

/// One field of a record type's RDATA, in order (RFC 1035 §3.3 and each type's RFC).
enum RDataField {
    case uint8(String)
    case uint16(String)
    case uint32(String)
    /// 32-bit seconds written as a number or with TTL units (SOA timers).
    case period(String)
    case name(String)
    case ipv4
    case ipv6
    /// A length-prefixed character-string; `alphanumeric` limits it to letters and digits
    /// (NAPTR flags).
    case characterString(String, alphanumeric: Bool)
    /// One or more character-strings to the end (TXT, SPF).
    case characterStrings
    /// CAA property tag: length-prefixed, 1…255 ASCII letters and digits (RFC 8659 §4.1).
    case caaTag
    /// The remaining octets as one quoted string (CAA value, URI target).
    case octets(String, allowEmpty: Bool)
    /// The remaining octets as hex; when `lengthBy` is set, the field at that index picks the
    /// required length from the table (DS digest type, TLSA matching type, SSHFP fp type).
    case hex(String, lengthBy: Int?, lengths: [UInt64: Int])
}

/// The field layout of the record types whose presentation is a plain sequence of fields.
/// LOC, SVCB and HTTPS have their own code; other types only have the RFC 3597 form.
struct RDataFormat {
    let fields: [RDataField]

    static func of(_ type: RRType) -> RDataFormat? {
        formats[type.rawValue]
    }

    private static let formats: [UInt16: RDataFormat] = {
        let hostName = RDataFormat(fields: [.name("target name")])
        let digestLengths: [UInt64: Int] = [1: 20, 2: 32, 3: 32, 4: 48]
        return [
            RRType.a.rawValue: RDataFormat(fields: [.ipv4]),
            RRType.aaaa.rawValue: RDataFormat(fields: [.ipv6]),
            RRType.ns.rawValue: RDataFormat(fields: [.name("name server")]),
            RRType.cname.rawValue: hostName,
            RRType.dname.rawValue: hostName,
            RRType.ptr.rawValue: hostName,
            RRType.mx.rawValue: RDataFormat(fields: [.uint16("preference"), .name("mail exchange")]),
            RRType.kx.rawValue: RDataFormat(fields: [.uint16("preference"), .name("exchanger")]),
            RRType.afsdb.rawValue: RDataFormat(fields: [.uint16("subtype"), .name("host name")]),
            RRType.rp.rawValue: RDataFormat(fields: [.name("mailbox"), .name("TXT name")]),
            RRType.txt.rawValue: RDataFormat(fields: [.characterStrings]),
            RRType.spf.rawValue: RDataFormat(fields: [.characterStrings]),
            RRType.hinfo.rawValue: RDataFormat(fields: [
                .characterString("CPU", alphanumeric: false), .characterString("OS", alphanumeric: false),
            ]),
            RRType.soa.rawValue: RDataFormat(fields: [
                .name("primary name server (MNAME)"), .name("responsible mailbox (RNAME)"),
                .uint32("serial"), .period("refresh"), .period("retry"), .period("expire"),
                .period("minimum (negative caching TTL)"),
            ]),
            RRType.srv.rawValue: RDataFormat(fields: [
                .uint16("priority"), .uint16("weight"), .uint16("port"), .name("target"),
            ]),
            RRType.caa.rawValue: RDataFormat(fields: [
                .uint8("flags"), .caaTag, .octets("value", allowEmpty: true),
            ]),
            RRType.ds.rawValue: RDataFormat(fields: [
                .uint16("key tag"), .uint8("algorithm"), .uint8("digest type"),
                .hex("digest", lengthBy: 2, lengths: digestLengths),
            ]),
            RRType.cds.rawValue: RDataFormat(fields: [
                .uint16("key tag"), .uint8("algorithm"), .uint8("digest type"),
                .hex("digest", lengthBy: 2, lengths: digestLengths),
            ]),
            RRType.tlsa.rawValue: RDataFormat(fields: [
                .uint8("certificate usage"), .uint8("selector"), .uint8("matching type"),
                .hex("certificate association data", lengthBy: 2, lengths: [1: 32, 2: 64]),
            ]),
            RRType.smimea.rawValue: RDataFormat(fields: [
                .uint8("certificate usage"), .uint8("selector"), .uint8("matching type"),
                .hex("certificate association data", lengthBy: 2, lengths: [1: 32, 2: 64]),
            ]),
            RRType.sshfp.rawValue: RDataFormat(fields: [
                .uint8("algorithm"), .uint8("fingerprint type"),
                .hex("fingerprint", lengthBy: 1, lengths: [1: 20, 2: 32]),
            ]),
            RRType.naptr.rawValue: RDataFormat(fields: [
                .uint16("order"), .uint16("preference"), .characterString("flags", alphanumeric: true),
                .characterString("services", alphanumeric: false), .characterString("regexp", alphanumeric: false),
                .name("replacement"),
            ]),
            RRType.uri.rawValue: RDataFormat(fields: [
                .uint16("priority"), .uint16("weight"), .octets("target", allowEmpty: false),
            ]),
        ]
    }()

    // MARK: Text → wire

    func parse(_ reader: inout RDataTokenReader) throws(RDataError) -> [UInt8] {
        var wire: [UInt8] = []
        var values: [Int: UInt64] = [:]
        for (index, field) in fields.enumerated() {
            switch field {
            case .uint8(let what):
                let value = try reader.uint8(what)
                values[index] = UInt64(value)
                wire.append(value)
            case .uint16(let what):
                let value = try reader.uint16(what)
                values[index] = UInt64(value)
                wire.appendUInt16(value)
            case .uint32(let what):
                wire.appendUInt32(try reader.uint32(what))
            case .period(let what):
                wire.appendUInt32(try reader.period(what))
            case .name(let what):
                wire += try reader.name(what).wire
            case .ipv4:
                let text = try reader.word("IPv4 address")
                guard let octets = IPAddressText.parseIPv4(Substring(text)) else {
                    throw RDataError("'\(text)' is not an IPv4 address: write four decimal numbers 0…255 without leading zeros, like 192.0.2.1", tokenIndex: reader.lastIndex)
                }
                wire += octets
            case .ipv6:
                let text = try reader.word("IPv6 address")
                guard let octets = IPAddressText.parseIPv6(Substring(text)) else {
                    throw RDataError("'\(text)' is not an IPv6 address (RFC 4291 text form, like 2001:db8::1)", tokenIndex: reader.lastIndex)
                }
                wire += octets
            case .characterString(let what, let alphanumeric):
                let octets = try reader.characterString(what)
                if alphanumeric, let bad = octets.first(where: { !isAlphanumeric($0) }) {
                    throw RDataError("\(what) may hold only letters and digits, not '\(Character(Unicode.Scalar(bad)))'", tokenIndex: reader.lastIndex)
                }
                wire.append(UInt8(octets.count))
                wire += octets
            case .characterStrings:
                guard !reader.isAtEnd else {
                    throw RDataError("\(reader.type) needs at least one string")
                }
                while !reader.isAtEnd {
                    let token = try reader.next("string")
                    let octets: [UInt8]
                    do {
                        octets = try CharacterString.decode(token.text)
                    } catch {
                        throw RDataError(error.message, tokenIndex: reader.lastIndex)
                    }
                    if octets.count > 255 {
                        guard reader.mode == .api else {
                            throw RDataError("a string is \(octets.count) octets long; a character-string holds at most 255: split it into several quoted strings", tokenIndex: reader.lastIndex)
                        }
                        // API input: split into consecutive 255-octet strings, which clients
                        // (SPF, DKIM) read back concatenated.
                        var start = 0
                        while start < octets.count {
                            let end = min(start + 255, octets.count)
                            wire.append(UInt8(end - start))
                            wire += octets[start..<end]
                            start = end
                        }
                    } else {
                        wire.append(UInt8(octets.count))
                        wire += octets
                    }
                }
            case .caaTag:
                let text = try reader.word("tag")
                let octets = Array(text.utf8)
                guard !octets.isEmpty, octets.count <= 255, octets.allSatisfy(isAlphanumeric) else {
                    throw RDataError("CAA tag '\(text)' must be 1…255 ASCII letters and digits (issue, issuewild, iodef, …)", tokenIndex: reader.lastIndex)
                }
                wire.append(UInt8(octets.count))
                wire += octets
            case .octets(let what, let allowEmpty):
                let octets = try reader.remainingOctets(what)
                if !allowEmpty && octets.isEmpty {
                    throw RDataError("the \(what) must not be empty", tokenIndex: reader.lastIndex)
                }
                wire += octets
            case .hex(let what, let lengthBy, let lengths):
                let octets = try reader.remainingHex(what)
                if let lengthBy, let selector = values[lengthBy], let required = lengths[selector], octets.count != required {
                    throw RDataError("\(what) is \(octets.count) octets (\(octets.count * 2) hex digits), but \(fieldName(lengthBy)) \(selector) needs \(required) octets (\(required * 2) hex digits)", tokenIndex: reader.lastIndex)
                }
                if octets.isEmpty {
                    throw RDataError("the \(what) must not be empty", tokenIndex: reader.lastIndex)
                }
                wire += octets
            }
        }
        try reader.finish()
        return wire
    }

    private func fieldName(_ index: Int) -> String {
        switch fields[index] {
        case .uint8(let what), .uint16(let what): return what
        default: return "field \(index + 1)"
        }
    }

    // MARK: Wire → canonical wire

    /// Checks wire RDATA field by field and returns it with names in canonical (lower) case.
    func canonicalize(_ bytes: [UInt8], type: RRType) throws(RDataError) -> [UInt8] {
        var reader = RDataWireReader(bytes, type: type)
        var wire: [UInt8] = []
        wire.reserveCapacity(bytes.count)
        var values: [Int: UInt64] = [:]
        for (index, field) in fields.enumerated() {
            switch field {
            case .uint8(let what):
                let value = try reader.uint8(what)
                values[index] = UInt64(value)
                wire.append(value)
            case .uint16(let what):
                let value = try reader.uint16(what)
                values[index] = UInt64(value)
                wire.appendUInt16(value)
            case .uint32(let what), .period(let what):
                wire.appendUInt32(try reader.uint32(what))
            case .name(let what):
                wire += try reader.name(what).wire
            case .ipv4:
                wire += try reader.octets(4, "IPv4 address")
            case .ipv6:
                wire += try reader.octets(16, "IPv6 address")
            case .characterString(let what, let alphanumeric):
                let octets = try reader.characterString(what)
                if alphanumeric && !octets.allSatisfy(isAlphanumeric) {
                    throw RDataError("\(type) \(what) may hold only letters and digits")
                }
                wire.append(UInt8(octets.count))
                wire += octets
            case .characterStrings:
                guard !reader.isAtEnd else { throw RDataError("\(type) RDATA needs at least one string") }
                while !reader.isAtEnd {
                    let octets = try reader.characterString("string")
                    wire.append(UInt8(octets.count))
                    wire += octets
                }
            case .caaTag:
                let octets = try reader.characterString("tag")
                guard !octets.isEmpty, octets.allSatisfy(isAlphanumeric) else {
                    throw RDataError("CAA tag must be 1…255 ASCII letters and digits")
                }
                wire.append(UInt8(octets.count))
                wire += octets
            case .octets(let what, let allowEmpty):
                let octets = reader.rest()
                if !allowEmpty && octets.isEmpty { throw RDataError("\(type) \(what) must not be empty") }
                wire += octets
            case .hex(let what, let lengthBy, let lengths):
                let octets = reader.rest()
                if let lengthBy, let selector = values[lengthBy], let required = lengths[selector], octets.count != required {
                    throw RDataError("\(type) \(what) is \(octets.count) octets, but \(fieldName(lengthBy)) \(selector) needs \(required)")
                }
                if octets.isEmpty { throw RDataError("\(type) \(what) must not be empty") }
                wire += octets
            }
        }
        try reader.finish()
        return wire
    }

    // MARK: Wire → text

    /// Canonical presentation of wire RDATA that `canonicalize` accepted.
    func present(_ bytes: [UInt8], type: RRType, origin: DomainName?) -> String {
        var reader = RDataWireReader(bytes, type: type)
        var parts: [String] = []
        parts.reserveCapacity(fields.count)
        do {
            for field in fields {
                switch field {
                case .uint8(let what):
                    parts.append(String(try reader.uint8(what)))
                case .uint16(let what):
                    parts.append(String(try reader.uint16(what)))
                case .uint32(let what), .period(let what):
                    parts.append(String(try reader.uint32(what)))
                case .name(let what):
                    parts.append(presentName(try reader.name(what), origin: origin))
                case .ipv4:
                    parts.append(IPAddressText.formatIPv4(try reader.octets(4, "address")))
                case .ipv6:
                    parts.append(IPAddressText.formatIPv6(try reader.octets(16, "address")))
                case .characterString(let what, _):
                    parts.append(CharacterString.quoted(try reader.characterString(what)))
                case .characterStrings:
                    while !reader.isAtEnd {
                        parts.append(CharacterString.quoted(try reader.characterString("string")))
                    }
                case .caaTag:
                    parts.append(String(decoding: try reader.characterString("tag"), as: UTF8.self))
                case .octets:
                    parts.append(CharacterString.quoted(reader.rest()))
                case .hex:
                    parts.append(Base16.encode(reader.rest(), uppercase: true))
                }
            }
        } catch {
            // Only reached for wire that skipped validation; show it losslessly.
            return GenericRData.present(bytes)
        }
        return parts.joined(separator: " ")
    }
}

func presentName(_ name: DomainName, origin: DomainName?) -> String {
    if let origin, let relative = name.relative(to: origin) {
        return relative
    }
    return name.description
}

@inline(__always)
func isAlphanumeric(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

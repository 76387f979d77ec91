import Foundation

/// SVCB and HTTPS (RFC 9460): priority, target name and SvcParams.
///
/// Text params are `key=value` (value quoted or not), or a bare key for no-default-alpn. Wire
/// params are sorted by key number, each once. Checked as BIND checks them: AliasMode
/// (priority 0) carries no params, keys listed in `mandatory` are present (and `mandatory`
/// does not list itself), `no-default-alpn` comes with `alpn`.
enum SVCBRecord {
    static let keyNames: [UInt16: String] = [
        0: "mandatory", 1: "alpn", 2: "no-default-alpn", 3: "port", 4: "ipv4hint", 5: "ech", 6: "ipv6hint",
    ]

    static func key(named text: String) -> UInt16? {
        let lower = text.lowercased()
        if let known = keyNames.first(where: { $0.value == lower })?.key { return known }
        guard lower.hasPrefix("key"), lower.count > 3, lower.count <= 8 else { return nil }
        let digits = lower.dropFirst(3)
        guard digits.utf8.allSatisfy(isDigit), let value = UInt16(digits), value != 65535 else { return nil }
        return value
    }

    static func name(of key: UInt16) -> String {
        keyNames[key] ?? "key\(key)"
    }

    // MARK: Text → wire

    static func parse(_ reader: inout RDataTokenReader) throws(RDataError) -> [UInt8] {
        let priority = try reader.uint16("priority")
        let target = try reader.name("target name")
        var params: [UInt16: [UInt8]] = [:]
        var tokenOf: [UInt16: Int] = [:]
        while !reader.isAtEnd {
            let index = reader.position
            let token = try reader.next("parameter")
            if token.isQuoted {
                throw RDataError("a parameter is key=value; the key must not be quoted", tokenIndex: index)
            }
            var keyText = token.text
            var valueText: String?
            if let equals = token.text.firstIndex(of: "=") {
                keyText = String(token.text[..<equals])
                valueText = String(token.text[token.text.index(after: equals)...])
                if valueText == "", !reader.isAtEnd {
                    // key="value": the quoted value is the next token, written right after '='.
                    let next = reader.tokens[reader.position]
                    if next.isQuoted && next.line == token.line && next.column == token.column + token.text.utf8.count {
                        valueText = next.text
                        reader.position += 1
                    }
                }
            }
            guard let key = key(named: keyText) else {
                throw RDataError("'\(keyText)' is not a SvcParam key (mandatory, alpn, no-default-alpn, port, ipv4hint, ech, ipv6hint or keyNNNNN below 65535)", tokenIndex: index)
            }
            guard params[key] == nil else {
                throw RDataError("SvcParam \(name(of: key)) is given twice", tokenIndex: index)
            }
            params[key] = try value(for: key, text: valueText, tokenIndex: index)
            tokenOf[key] = index
        }
        let sorted = params.keys.sorted()
        do {
            try checkParams(priority: priority, keys: sorted, params: params)
        } catch {
            throw RDataError(error.message, tokenIndex: error.tokenIndex ?? sorted.compactMap { tokenOf[$0] }.first)
        }
        var wire: [UInt8] = []
        wire.appendUInt16(priority)
        wire += target.wire
        for key in sorted {
            let value = params[key]!
            guard value.count <= 65535 else {
                throw RDataError("SvcParam \(name(of: key)) value is too long", tokenIndex: tokenOf[key])
            }
            wire.appendUInt16(key)
            wire.appendUInt16(UInt16(value.count))
            wire += value
        }
        return wire
    }

    private static func value(for key: UInt16, text: String?, tokenIndex: Int) throws(RDataError) -> [UInt8] {
        let keyName = name(of: key)
        if key == 2 {
            guard text == nil || text == "" else {
                throw RDataError("no-default-alpn takes no value", tokenIndex: tokenIndex)
            }
            return []
        }
        if key >= 7 && text == nil { return [] }
        guard let text, !text.isEmpty || key >= 7 else {
            throw RDataError("SvcParam \(keyName) needs a value: \(keyName)=…", tokenIndex: tokenIndex)
        }
        let octets: [UInt8]
        do {
            octets = try CharacterString.decode(text)
        } catch {
            throw RDataError("SvcParam \(keyName): \(error.message)", tokenIndex: tokenIndex)
        }
        let plain = String(decoding: octets, as: UTF8.self)
        func fail(_ message: String) -> RDataError { RDataError("SvcParam \(keyName): \(message)", tokenIndex: tokenIndex) }
        switch key {
        case 0:
            var keys: [UInt16] = []
            for item in plain.split(separator: ",", omittingEmptySubsequences: false) {
                guard let listed = SVCBRecord.key(named: String(item)) else {
                    throw fail("'\(item)' is not a SvcParam key")
                }
                keys.append(listed)
            }
            var wire: [UInt8] = []
            for listed in keys.sorted() { wire.appendUInt16(listed) }
            return wire
        case 1:
            var wire: [UInt8] = []
            for item in try splitValueList(octets) {
                guard !item.isEmpty, item.count <= 255 else {
                    throw fail("each protocol id is 1…255 octets")
                }
                wire.append(UInt8(item.count))
                wire += item
            }
            return wire
        case 3:
            guard plain.utf8.allSatisfy(isDigit), plain.utf8.count <= 5, let port = UInt16(plain) else {
                throw fail("'\(plain)' is not a port number 0…65535")
            }
            var wire: [UInt8] = []
            wire.appendUInt16(port)
            return wire
        case 4:
            var wire: [UInt8] = []
            for item in plain.split(separator: ",", omittingEmptySubsequences: false) {
                guard let address = IPAddressText.parseIPv4(item) else {
                    throw fail("'\(item)' is not an IPv4 address")
                }
                wire += address
            }
            return wire
        case 6:
            var wire: [UInt8] = []
            for item in plain.split(separator: ",", omittingEmptySubsequences: false) {
                guard let address = IPAddressText.parseIPv6(item) else {
                    throw fail("'\(item)' is not an IPv6 address")
                }
                wire += address
            }
            return wire
        case 5:
            guard let data = Data(base64Encoded: plain), !data.isEmpty else {
                throw fail("the ECHConfigList must be non-empty base64")
            }
            return [UInt8](data)
        default:
            return octets
        }
    }

    /// RFC 9460 Appendix A.1 value lists: items split on ',' with '\,' and '\\' escaping a
    /// comma or backslash inside an item (after the character-string escapes are decoded).
    private static func splitValueList(_ octets: [UInt8]) throws(RDataError) -> [[UInt8]] {
        var items: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < octets.count {
            let byte = octets[index]
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < octets.count else { throw RDataError("value list ends in a lone backslash") }
                current.append(octets[index + 1])
                index += 2
                continue
            }
            if byte == UInt8(ascii: ",") {
                items.append(current)
                current = []
            } else {
                current.append(byte)
            }
            index += 1
        }
        items.append(current)
        return items
    }

    /// Rules across params, for text and wire alike.
    private static func checkParams(priority: UInt16, keys: [UInt16], params: [UInt16: [UInt8]]) throws(RDataError) {
        if priority == 0 && !keys.isEmpty {
            throw RDataError("priority 0 is AliasMode, which carries no SvcParams: drop them or use a priority above 0")
        }
        if let mandatory = params[0] {
            guard !mandatory.isEmpty, mandatory.count % 2 == 0 else {
                throw RDataError("mandatory must list at least one key")
            }
            var previous: Int = -1
            for offset in stride(from: 0, to: mandatory.count, by: 2) {
                let listed = UInt16(mandatory[offset]) << 8 | UInt16(mandatory[offset + 1])
                guard listed != 0 else { throw RDataError("mandatory must not list itself") }
                guard Int(listed) != previous else { throw RDataError("mandatory lists \(name(of: listed)) twice") }
                guard Int(listed) > previous else { throw RDataError("mandatory keys are out of order in the wire form") }
                guard params[listed] != nil else {
                    throw RDataError("mandatory lists \(name(of: listed)), but the record has no \(name(of: listed)) parameter")
                }
                previous = Int(listed)
            }
        }
        if params[2] != nil && params[1] == nil {
            throw RDataError("no-default-alpn needs an alpn parameter beside it")
        }
    }

    // MARK: Wire → canonical wire

    static func canonicalize(_ bytes: [UInt8]) throws(RDataError) -> [UInt8] {
        var reader = RDataWireReader(bytes, type: .svcb)
        let priority = try reader.uint16("priority")
        let target = try reader.name("target name")
        var keys: [UInt16] = []
        var params: [UInt16: [UInt8]] = [:]
        var wire: [UInt8] = []
        wire.appendUInt16(priority)
        wire += target.wire
        var previous = -1
        while !reader.isAtEnd {
            let key = try reader.uint16("SvcParam key")
            let length = Int(try reader.uint16("SvcParam length"))
            let value = Array(try reader.octets(length, "SvcParam value"))
            guard Int(key) > previous else {
                throw RDataError("SvcParam keys must be in increasing order, each once (\(name(of: key)) is out of order)")
            }
            guard key != 65535 else { throw RDataError("SvcParam key 65535 is reserved") }
            previous = Int(key)
            try checkWireValue(key: key, value: value)
            keys.append(key)
            params[key] = value
            wire.appendUInt16(key)
            wire.appendUInt16(UInt16(length))
            wire += value
        }
        try checkParams(priority: priority, keys: keys, params: params)
        return wire
    }

    private static func checkWireValue(key: UInt16, value: [UInt8]) throws(RDataError) {
        let ok: Bool
        switch key {
        case 0: ok = !value.isEmpty && value.count % 2 == 0
        case 1:
            var offset = 0
            var valid = !value.isEmpty
            while valid && offset < value.count {
                let length = Int(value[offset])
                valid = length > 0 && offset + 1 + length <= value.count
                offset += 1 + length
            }
            ok = valid
        case 2: ok = value.isEmpty
        case 3: ok = value.count == 2
        case 4: ok = !value.isEmpty && value.count % 4 == 0
        case 5: ok = !value.isEmpty
        case 6: ok = !value.isEmpty && value.count % 16 == 0
        default: ok = true
        }
        guard ok else { throw RDataError("SvcParam \(name(of: key)) has a malformed value (\(value.count) octets)") }
    }

    // MARK: Wire → text

    static func present(_ wire: [UInt8], origin: DomainName?) -> String {
        var reader = RDataWireReader(wire, type: .svcb)
        guard let priority = try? reader.uint16("priority"), let target = try? reader.name("target") else {
            return GenericRData.present(wire)
        }
        var parts = [String(priority), presentName(target, origin: origin)]
        while !reader.isAtEnd {
            guard let key = try? reader.uint16("key"), let length = try? reader.uint16("length"),
                  let value = try? reader.octets(Int(length), "value") else {
                return GenericRData.present(wire)
            }
            parts.append(presentParam(key: key, value: Array(value)))
        }
        return parts.joined(separator: " ")
    }

    private static func presentParam(key: UInt16, value: [UInt8]) -> String {
        let keyName = name(of: key)
        switch key {
        case 0:
            var names: [String] = []
            for offset in stride(from: 0, to: value.count - 1, by: 2) {
                names.append(name(of: UInt16(value[offset]) << 8 | UInt16(value[offset + 1])))
            }
            return "\(keyName)=\(names.joined(separator: ","))"
        case 1:
            var items: [String] = []
            var offset = 0
            while offset < value.count {
                let length = Int(value[offset])
                let end = min(value.count, offset + 1 + length)
                // Second-level escaping of ',' and '\' inside an item, then the usual escapes.
                var raw: [UInt8] = []
                for byte in value[(offset + 1)..<end] {
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\\") { raw.append(UInt8(ascii: "\\")) }
                    raw.append(byte)
                }
                var text = ""
                CharacterString.appendEscaped(raw, to: &text)
                items.append(text)
                offset = end
            }
            return "\(keyName)=\"\(items.joined(separator: ","))\""
        case 2:
            return keyName
        case 3:
            return "\(keyName)=\(value.count == 2 ? UInt16(value[0]) << 8 | UInt16(value[1]) : 0)"
        case 4:
            return "\(keyName)=" + stride(from: 0, to: value.count, by: 4).map { IPAddressText.formatIPv4(value[$0..<($0 + 4)]) }.joined(separator: ",")
        case 6:
            return "\(keyName)=" + stride(from: 0, to: value.count, by: 16).map { IPAddressText.formatIPv6(value[$0..<($0 + 16)]) }.joined(separator: ",")
        case 5:
            return "\(keyName)=\"\(Data(value).base64EncodedString())\""
        default:
            return "\(keyName)=\(CharacterString.quoted(value))"
        }
    }
}

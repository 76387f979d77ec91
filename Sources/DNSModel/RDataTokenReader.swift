import Foundation

/// Walks the presentation tokens of one record's RDATA, turning fields into wire octets and
/// pinning each error on the token it is about.
struct RDataTokenReader {
    let tokens: [PresentationToken]
    let type: RRType
    let origin: DomainName?
    let mode: RDataParseMode
    var position = 0

    init(tokens: [PresentationToken], type: RRType, origin: DomainName?, mode: RDataParseMode) {
        self.tokens = tokens
        self.type = type
        self.origin = origin
        self.mode = mode
    }

    var isAtEnd: Bool { position >= tokens.count }

    /// Index of the token read last, for errors found after reading it.
    var lastIndex: Int { max(0, min(position - 1, tokens.count - 1)) }

    func error(_ message: String, at index: Int? = nil) -> RDataError {
        RDataError(message, tokenIndex: index ?? (tokens.isEmpty ? nil : min(position, tokens.count - 1)))
    }

    mutating func next(_ what: String) throws(RDataError) -> PresentationToken {
        guard position < tokens.count else {
            throw RDataError("\(type) data ends before its \(what)", tokenIndex: tokens.isEmpty ? nil : tokens.count - 1)
        }
        defer { position += 1 }
        return tokens[position]
    }

    /// A field that must be written bare (numbers, names, hex).
    mutating func word(_ what: String) throws(RDataError) -> String {
        let token = try next(what)
        if token.isQuoted {
            throw RDataError("the \(what) must not be quoted", tokenIndex: position - 1)
        }
        return token.text
    }

    mutating func number(_ what: String, maximum: UInt64) throws(RDataError) -> UInt64 {
        let text = try word(what)
        guard !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy(isDigit), let value = UInt64(text) else {
            throw RDataError("\(what) '\(text)' is not a decimal number", tokenIndex: position - 1)
        }
        guard value <= maximum else {
            throw RDataError("\(what) \(text) is out of range 0…\(maximum)", tokenIndex: position - 1)
        }
        return value
    }

    mutating func uint8(_ what: String) throws(RDataError) -> UInt8 {
        UInt8(try number(what, maximum: UInt64(UInt8.max)))
    }

    mutating func uint16(_ what: String) throws(RDataError) -> UInt16 {
        UInt16(try number(what, maximum: UInt64(UInt16.max)))
    }

    mutating func uint32(_ what: String) throws(RDataError) -> UInt32 {
        UInt32(try number(what, maximum: UInt64(UInt32.max)))
    }

    /// A time field (SOA refresh/retry/expire/minimum): seconds or TTL units.
    mutating func period(_ what: String) throws(RDataError) -> UInt32 {
        let text = try word(what)
        guard let value = TimeToLive.parse(text) else {
            throw RDataError("\(what) '\(text)' is not a time: use seconds or units like 1h, 2d, 1w", tokenIndex: position - 1)
        }
        return value
    }

    mutating func name(_ what: String) throws(RDataError) -> DomainName {
        let text = try word(what)
        do {
            return try DomainName(presentation: text, origin: origin)
        } catch {
            throw RDataError("\(what) '\(text)' is not a domain name: \(error.message)", tokenIndex: position - 1)
        }
    }

    /// One character-string, at most 255 octets.
    mutating func characterString(_ what: String) throws(RDataError) -> [UInt8] {
        let token = try next(what)
        let octets: [UInt8]
        do {
            octets = try CharacterString.decode(token.text)
        } catch {
            throw RDataError("\(what): \(error.message)", tokenIndex: position - 1)
        }
        guard octets.count <= 255 else {
            throw RDataError("\(what) is \(octets.count) octets long; a character-string holds at most 255", tokenIndex: position - 1)
        }
        return octets
    }

    /// The rest of the tokens as octets (escapes decoded), for fields that are not
    /// length-prefixed (CAA value, URI target): exactly one token.
    mutating func remainingOctets(_ what: String) throws(RDataError) -> [UInt8] {
        let token = try next(what)
        guard isAtEnd else {
            throw RDataError("the \(what) is one field: quote it when it contains spaces", tokenIndex: position)
        }
        do {
            return try CharacterString.decode(token.text)
        } catch {
            throw RDataError("\(what): \(error.message)", tokenIndex: position - 1)
        }
    }

    /// Hex digits in the rest of the tokens (white space between them allowed, as in DS
    /// digests split over lines).
    mutating func remainingHex(_ what: String) throws(RDataError) -> [UInt8] {
        guard !isAtEnd else {
            throw RDataError("\(type) data ends before its \(what)", tokenIndex: tokens.isEmpty ? nil : tokens.count - 1)
        }
        var octets: [UInt8] = []
        var high: UInt8?
        while !isAtEnd {
            let start = position
            let text = try word(what)
            for byte in text.utf8 {
                guard let value = Base16.digitValue(byte) else {
                    throw RDataError("\(what) has '\(Character(Unicode.Scalar(byte)))', which is not a hex digit", tokenIndex: start)
                }
                if let pending = high {
                    octets.append(pending << 4 | value)
                    high = nil
                } else {
                    high = value
                }
            }
        }
        guard high == nil else {
            throw RDataError("\(what) has an odd number of hex digits", tokenIndex: lastIndex)
        }
        return octets
    }

    /// Base64 in the rest of the tokens.
    mutating func remainingBase64(_ what: String) throws(RDataError) -> [UInt8] {
        guard !isAtEnd else {
            throw RDataError("\(type) data ends before its \(what)", tokenIndex: tokens.isEmpty ? nil : tokens.count - 1)
        }
        var text = ""
        let start = position
        while !isAtEnd { text += try word(what) }
        guard let data = Data(base64Encoded: text) else {
            throw RDataError("\(what) is not valid base64", tokenIndex: start)
        }
        return [UInt8](data)
    }

    func finish() throws(RDataError) {
        guard isAtEnd else {
            throw RDataError("unexpected '\(tokens[position].text)' after the end of the \(type) data", tokenIndex: position)
        }
    }
}

/// Bytes in network order, appended to wire RDATA.
extension Array where Element == UInt8 {
    mutating func appendUInt16(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func appendUInt32(_ value: UInt32) {
        append(UInt8(value >> 24))
        append(UInt8(value >> 16 & 0xFF))
        append(UInt8(value >> 8 & 0xFF))
        append(UInt8(value & 0xFF))
    }
}

/// RFC 3597 §5 generic RDATA text: `\# LENGTH HEX`, for any type, known or not.
enum GenericRData {
    static func parse(_ tokens: [PresentationToken]) throws(RDataError) -> [UInt8] {
        guard tokens.count >= 2 else {
            throw RDataError("\\# must be followed by the data length in octets (and then the data in hex)", tokenIndex: 0)
        }
        let lengthToken = tokens[1]
        guard !lengthToken.isQuoted, lengthToken.text.utf8.allSatisfy(isDigit), lengthToken.text.utf8.count <= 5,
              let length = Int(lengthToken.text), length <= 65535 else {
            throw RDataError("'\(lengthToken.text)' is not a data length 0…65535", tokenIndex: 1)
        }
        var reader = RDataTokenReader(tokens: tokens, type: RRType(rawValue: 0), origin: nil, mode: .zoneFile)
        reader.position = 2
        let octets = reader.isAtEnd ? [] : try reader.remainingHex("hex data after \\#")
        guard octets.count == length else {
            throw RDataError("\\# says \(length) octets but the hex holds \(octets.count)", tokenIndex: 1)
        }
        return octets
    }

    static func present(_ wire: [UInt8]) -> String {
        wire.isEmpty ? "\\# 0" : "\\# \(wire.count) \(Base16.encode(wire, uppercase: true))"
    }
}

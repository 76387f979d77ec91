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
        var octets: [UInt8] = []
        var high: UInt8?
        for index in 2..<max(2, tokens.count) {
            let token = tokens[index]
            guard !token.isQuoted else {
                throw RDataError("the hex data after \\# must not be quoted", tokenIndex: index)
            }
            for byte in token.text.utf8 {
                guard let value = hexValue(byte) else {
                    throw RDataError("'\(token.text)' is not hex", tokenIndex: index)
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
            throw RDataError("the hex data after \\# has an odd number of digits", tokenIndex: tokens.count - 1)
        }
        guard octets.count == length else {
            throw RDataError("\\# says \(length) octets but the hex holds \(octets.count)", tokenIndex: 1)
        }
        return octets
    }

    static func present(_ wire: [UInt8]) -> String {
        wire.isEmpty ? "\\# 0" : "\\# \(wire.count) \(upperHex(wire))"
    }
}

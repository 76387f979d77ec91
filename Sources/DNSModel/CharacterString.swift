/// RFC 1035 character-strings in presentation form: the escapes `\X` (the character itself) and
/// `\DDD` (a decimal octet), quoted or not.
enum CharacterString {
    /// The octets a token's text stands for (quotes already removed, escapes as written).
    static func decode(_ text: String) throws(RDataError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                continue
            }
            guard let next = iterator.next() else {
                throw RDataError("'\(text)' ends in a lone backslash: write \\\\ for a backslash")
            }
            if isDigit(next) {
                guard let second = iterator.next(), isDigit(second), let third = iterator.next(), isDigit(third) else {
                    throw RDataError("'\(text)': a \\DDD escape needs exactly three decimal digits")
                }
                let value = Int(next - 48) * 100 + Int(second - 48) * 10 + Int(third - 48)
                guard value <= 255 else {
                    throw RDataError("'\(text)': \\\(value) is not an octet (000…255)")
                }
                result.append(UInt8(value))
            } else {
                result.append(next)
            }
        }
        return result
    }

    /// Quoted presentation: `"` and `\` escaped with a backslash, octets outside printable
    /// ASCII as `\DDD` (BIND's form, which every zone-file reader takes back).
    static func quoted<Bytes: Collection<UInt8>>(_ octets: Bytes) -> String {
        var text = "\""
        appendEscaped(octets, to: &text)
        text += "\""
        return text
    }

    static func appendEscaped<Bytes: Collection<UInt8>>(_ octets: Bytes, to text: inout String) {
        for byte in octets {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                text.unicodeScalars.append("\\")
                text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x20...0x7E:
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += "\\" + threeDigits(byte)
            }
        }
    }
}

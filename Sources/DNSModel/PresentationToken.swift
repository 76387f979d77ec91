/// Why RDATA (text or wire) is not acceptable, and which token of the text it is about.
public struct RDataError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// Index into the tokens given to the parser; nil when the problem is not one token's.
    public let tokenIndex: Int?

    public init(_ message: String, tokenIndex: Int? = nil) {
        self.message = message
        self.tokenIndex = tokenIndex
    }

    public var description: String { message }
}

/// One field of presentation-format text: a word or a quoted string.
///
/// Backslash escapes stay as written (`\"`, `\DDD`, `\.`), because what they mean depends on the
/// field: inside a name `\.` keeps a dot in a label, inside a character-string it is just a dot.
/// Quotes are removed; `isQuoted` remembers them (a quoted token is never a name or a number).
public struct PresentationToken: Sendable, Equatable {
    public var text: String
    public var isQuoted: Bool
    public var line: Int
    public var column: Int

    public init(_ text: String, isQuoted: Bool = false, line: Int = 1, column: Int = 1) {
        self.text = text
        self.isQuoted = isQuoted
        self.line = line
        self.column = column
    }

    /// Splits one record's data as an API client writes it ("10 mail.example.com.",
    /// "\"v=spf1 -all\"") into tokens. Everything must be on one line: no control characters,
    /// and no parentheses or `;` comments (those are zone-file syntax; quote or escape them when
    /// they are data).
    public static func tokenize(_ text: String) throws(RDataError) -> [PresentationToken] {
        let bytes = Array(text.utf8)
        var tokens: [PresentationToken] = []
        var index = 0
        func column(_ i: Int) -> Int { i + 1 }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                index += 1
                continue
            }
            if byte < 0x20 || byte == 0x7F {
                throw RDataError("control character \\\(threeDigits(byte)) at column \(column(index)): record data is one line; write it as \\\(threeDigits(byte)) inside a quoted string if it is data")
            }
            if byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")") {
                throw RDataError("'\(Character(Unicode.Scalar(byte)))' at column \(column(index)): parentheses are zone-file syntax for spanning lines; they are not allowed in record data (quote or escape them when they are data)")
            }
            if byte == UInt8(ascii: ";") {
                throw RDataError("';' at column \(column(index)): comments are not allowed in record data (quote or escape it when it is data)")
            }
            if byte == UInt8(ascii: "\"") {
                let start = index + 1
                var cursor = start
                var closed = false
                while cursor < bytes.count {
                    let current = bytes[cursor]
                    if current < 0x20 || current == 0x7F {
                        throw RDataError("control character \\\(threeDigits(current)) at column \(column(cursor)) inside a quoted string: write it as \\\(threeDigits(current))")
                    }
                    if current == UInt8(ascii: "\\") {
                        guard cursor + 1 < bytes.count else { break }
                        cursor += 2
                        continue
                    }
                    if current == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    cursor += 1
                }
                guard closed else {
                    throw RDataError("the quoted string starting at column \(column(index)) is not closed")
                }
                tokens.append(PresentationToken(
                    String(decoding: bytes[start..<cursor], as: UTF8.self),
                    isQuoted: true, line: 1, column: column(index)))
                index = cursor + 1
                continue
            }
            let start = index
            var cursor = index
            scan: while cursor < bytes.count {
                let current = bytes[cursor]
                switch current {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\""), UInt8(ascii: "("),
                     UInt8(ascii: ")"), UInt8(ascii: ";"):
                    break scan
                case UInt8(ascii: "\\"):
                    guard cursor + 1 < bytes.count else {
                        throw RDataError("the data ends in a lone backslash")
                    }
                    let next = bytes[cursor + 1]
                    if next < 0x20 || next == 0x7F {
                        throw RDataError("control character after a backslash at column \(column(cursor + 1)): use \\DDD")
                    }
                    cursor += 2
                default:
                    if current < 0x20 || current == 0x7F { break scan }
                    cursor += 1
                }
            }
            tokens.append(PresentationToken(
                String(decoding: bytes[start..<cursor], as: UTF8.self),
                isQuoted: false, line: 1, column: column(start)))
            index = cursor
        }
        return tokens
    }
}

import DNSModel

/// One logical entry of a zone file: a directive or a record, after joining the physical lines a
/// pair of parentheses spans and dropping comments.
public struct ZoneFileEntry: Sendable, Equatable {
    /// Line where the entry starts.
    public var line: Int
    /// The entry's first line starts with a space or tab: the owner is the previous entry's owner.
    public var ownerIsBlank: Bool
    public var tokens: [PresentationToken]

    public init(line: Int, ownerIsBlank: Bool, tokens: [PresentationToken]) {
        self.line = line
        self.ownerIsBlank = ownerIsBlank
        self.tokens = tokens
    }
}

/// Splits zone file bytes into entries of tokens (RFC 1035 §5.1).
///
/// Works on raw bytes: a large zone is mostly short ASCII tokens, and going through `Character`
/// would cost grapheme breaking on every byte. Quotes are removed from quoted strings; backslash
/// escapes stay exactly as written, because what they mean depends on the field (RDATA parsing
/// decodes them). An unterminated quote or unbalanced parenthesis drops that entry, reports it,
/// and lexing goes on at the next line so later errors are found too.
public enum ZoneFileLexer {
    /// Calls `entry` for each entry in order and `error` for each lexical error.
    public static func forEachEntry(
        in bytes: [UInt8],
        entry: (ZoneFileEntry) -> Void,
        error: (ZoneFileError) -> Void
    ) {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(buffer: buffer)
            scanner.run(entry: entry, error: error)
        }
    }

    /// All entries and all lexical errors, for callers that want them at once.
    public static func entries(in bytes: [UInt8]) -> (entries: [ZoneFileEntry], errors: [ZoneFileError]) {
        var entries: [ZoneFileEntry] = []
        var errors: [ZoneFileError] = []
        forEachEntry(in: bytes, entry: { entries.append($0) }, error: { errors.append($0) })
        return (entries, errors)
    }
}

private let newline = UInt8(ascii: "\n")
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
private let carriageReturn = UInt8(ascii: "\r")
private let semicolon = UInt8(ascii: ";")
private let openParen = UInt8(ascii: "(")
private let closeParen = UInt8(ascii: ")")
private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

private struct Scanner {
    let buffer: UnsafeBufferPointer<UInt8>
    var index = 0
    var line = 1
    var lineStart = 0

    // The entry being collected.
    var tokens: [PresentationToken] = []
    var entryLine = 1
    var ownerIsBlank = false
    var parenDepth = 0
    var parenLine = 0
    var parenColumn = 0
    /// Set after an error inside the entry: it is dropped at its end instead of emitted.
    var discard = false

    init(buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    var column: Int { index - lineStart + 1 }

    mutating func startEntry() {
        tokens.removeAll(keepingCapacity: true)
        entryLine = line
        parenDepth = 0
        discard = false
        ownerIsBlank = index < buffer.count && (buffer[index] == space || buffer[index] == tab)
    }

    mutating func finishEntry(_ entry: (ZoneFileEntry) -> Void) {
        if !discard && !tokens.isEmpty {
            entry(ZoneFileEntry(line: entryLine, ownerIsBlank: ownerIsBlank, tokens: tokens))
        }
    }

    mutating func run(entry: (ZoneFileEntry) -> Void, error: (ZoneFileError) -> Void) {
        let count = buffer.count
        startEntry()
        while index < count {
            let byte = buffer[index]
            switch byte {
            case newline:
                index += 1
                line += 1
                lineStart = index
                if parenDepth == 0 {
                    finishEntry(entry)
                    startEntry()
                }
            case space, tab, carriageReturn:
                index += 1
            case semicolon:
                while index < count && buffer[index] != newline { index += 1 }
            case openParen:
                if parenDepth == 0 {
                    parenLine = line
                    parenColumn = column
                }
                parenDepth += 1
                index += 1
            case closeParen:
                if parenDepth == 0 {
                    error(ZoneFileError(
                        line: line, column: column, rule: "unbalanced-parentheses",
                        message: "')' without a matching '(' before it"))
                    discard = true
                } else {
                    parenDepth -= 1
                }
                index += 1
            case quote:
                scanQuoted(error: error)
            default:
                scanWord()
            }
        }
        if parenDepth > 0 {
            error(ZoneFileError(
                line: parenLine, column: parenColumn, rule: "unbalanced-parentheses",
                message: "'(' is never closed: the file ends inside it"))
            discard = true
        }
        finishEntry(entry)
    }

    /// A quoted string: up to the next unescaped quote on the same line.
    mutating func scanQuoted(error: (ZoneFileError) -> Void) {
        let startColumn = column
        let contentStart = index + 1
        var cursor = contentStart
        let count = buffer.count
        var asciiOnly = true
        while cursor < count {
            let byte = buffer[cursor]
            if byte == quote { break }
            if byte == newline { break }
            if byte >= 0x80 { asciiOnly = false }
            if byte == backslash && cursor + 1 < count && buffer[cursor + 1] != newline {
                cursor += 2
                continue
            }
            cursor += 1
        }
        if cursor >= count || buffer[cursor] != quote {
            error(ZoneFileError(
                line: line, column: startColumn, rule: "unterminated-quote",
                message: "quoted string is not closed before the end of the line"))
            // Drop the whole entry; the newline (if any) ends it and lexing resumes on the next line.
            discard = true
            parenDepth = 0
            index = cursor
            return
        }
        tokens.append(makeToken(contentStart, cursor, quoted: true, column: startColumn, asciiOnly: asciiOnly))
        index = cursor + 1
    }

    /// An unquoted word: up to whitespace, a comment, a parenthesis or a quote. A backslash keeps
    /// the next byte in the word (so `\ ` and `\;` do not end it).
    mutating func scanWord() {
        let startColumn = column
        let start = index
        var cursor = index
        let count = buffer.count
        var asciiOnly = true
        scan: while cursor < count {
            let byte = buffer[cursor]
            switch byte {
            case space, tab, carriageReturn, newline, semicolon, openParen, closeParen, quote:
                break scan
            case backslash:
                if cursor + 1 < count && buffer[cursor + 1] != newline {
                    if buffer[cursor + 1] >= 0x80 { asciiOnly = false }
                    cursor += 2
                } else {
                    cursor += 1
                }
            default:
                if byte >= 0x80 { asciiOnly = false }
                cursor += 1
            }
        }
        tokens.append(makeToken(start, cursor, quoted: false, column: startColumn, asciiOnly: asciiOnly))
        index = cursor
    }

    func makeToken(_ start: Int, _ end: Int, quoted: Bool, column: Int, asciiOnly: Bool) -> PresentationToken {
        let slice = UnsafeBufferPointer(rebasing: buffer[start..<end])
        let text: String
        if asciiOnly {
            text = String(decoding: slice, as: UTF8.self)
        } else if let valid = String(validating: slice, as: UTF8.self) {
            text = valid
        } else {
            // Not UTF-8 (a Latin-1 file, say): keep every octet by writing the high ones as \DDD,
            // which every RDATA field decodes back to the same octet.
            var escaped = ""
            escaped.reserveCapacity(slice.count * 2)
            for byte in slice {
                if byte >= 0x80 {
                    escaped += "\\" + String(byte)
                } else {
                    escaped.unicodeScalars.append(Unicode.Scalar(byte))
                }
            }
            text = escaped
        }
        return PresentationToken(text, isQuoted: quoted, line: line, column: column)
    }
}

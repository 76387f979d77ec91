/// A value bound to `$1…$n`. Values travel separately from the SQL text, so user input never
/// becomes SQL. They are sent in PostgreSQL's text format and (except `bytea`) with no declared
/// type, so the server infers the type from where the parameter is used, as it does for a literal.
public enum PostgresParameter: Sendable, Equatable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case bytea([UInt8])
    /// JSON text, for `json`/`jsonb` columns (the server parses and checks it).
    case json(String)
    /// A one-dimensional array, for `text[]` columns and `= ANY($1)`; nil elements are NULL.
    case textArray([String?])

    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    public init(_ value: Int64?) { self = value.map { .int($0) } ?? .null }
    public init(_ value: Bool?) { self = value.map { .bool($0) } ?? .null }
    public init(_ value: [UInt8]?) { self = value.map { .bytea($0) } ?? .null }

    /// bytea is the one type declared: as untyped text `\x…` would be read as text where the
    /// context does not force bytea (e.g. `SELECT $1`).
    static let byteaOID: UInt32 = 17

    var typeOID: UInt32 {
        if case .bytea = self { return Self.byteaOID }
        return 0
    }

    /// The text form PostgreSQL parses, or nil for SQL NULL.
    func textValue(position: Int) throws(DatabaseError) -> String? {
        switch self {
        case .null:
            return nil
        case .text(let value), .json(let value):
            try Self.refuseNUL(value, position: position)
            return value
        case .int(let value):
            return String(value)
        case .double(let value):
            if value.isNaN { return "NaN" }
            if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
            return "\(value)"
        case .bool(let value):
            return value ? "true" : "false"
        case .bytea(let bytes):
            return ByteaHex.encode(bytes)
        case .textArray(let elements):
            // Built as UTF-8 bytes: a batch's journal entries go through here, and neither quote
            // nor backslash can be part of a multi-byte sequence, so escaping bytes is exact.
            var literal: [UInt8] = [UInt8(ascii: "{")]
            literal.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
            for (index, element) in elements.enumerated() {
                if index > 0 { literal.append(UInt8(ascii: ",")) }
                guard let element else {
                    literal += "NULL".utf8
                    continue
                }
                try Self.refuseNUL(element, position: position)
                // Quoted always, so empty strings, commas, braces and the word NULL stay data.
                literal.append(UInt8(ascii: "\""))
                for byte in element.utf8 {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                    literal.append(byte)
                }
                literal.append(UInt8(ascii: "\""))
            }
            literal.append(UInt8(ascii: "}"))
            return String(decoding: literal, as: UTF8.self)
        }
    }

    /// PostgreSQL text cannot hold U+0000, and libpq would silently cut the value there.
    private static func refuseNUL(_ value: String, position: Int) throws(DatabaseError) {
        if value.utf8.contains(0) {
            throw DatabaseError(
                kind: .query, sqlState: "22021",
                message: "parameter $\(position) contains a NUL character, which PostgreSQL text cannot store")
        }
    }
}

extension PostgresParameter: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension PostgresParameter: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension PostgresParameter: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension PostgresParameter: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PostgresParameter: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

/// bytea's text form: `\x` followed by two lowercase hex digits a byte (the server's default
/// `bytea_output = hex`).
enum ByteaHex {
    private static let lowercase = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        "\\x" + digits(bytes)
    }

    /// The hex digits alone. (Store does not depend on DNSModel, whose `Base16` the layers above
    /// use.)
    static func digits(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(lowercase[Int(byte >> 4)])
            out.append(lowercase[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"),
            utf8.count % 2 == 0
        else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

import HTTPServer

/// Reads the members of one JSON object by name and type, collecting every problem with its
/// JSON pointer, so a client sees all of its mistakes in one 422 instead of one per round trip.
///
/// Members never asked for are reported as unknown by `finish()`: a typo such as `max_zone`
/// must not be silently ignored.
struct JSONFields {
    var errors: [HTTPProblem.FieldError] = []
    private let base: String
    private var members: [(String, JSONValue)] = []
    private var consumed: Set<String> = []

    init(_ value: JSONValue, pointer: String = "") {
        base = pointer
        guard case .object(let members) = value else {
            errors.append(.init(pointer: pointer, message: "must be a JSON object"))
            return
        }
        var seen: Set<String> = []
        for (key, _) in members where !seen.insert(key).inserted {
            errors.append(.init(pointer: Self.pointer(pointer, key), message: "appears more than once"))
        }
        self.members = members
    }

    /// RFC 6901: "~" and "/" in a member name are written "~0" and "~1". Built for every member
    /// read, so a name without them (nearly all) is not copied through Foundation.
    static func pointer(_ base: String, _ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return base + "/" + key }
        // By code point, as RFC 6901 escapes: a "/" followed by a combining mark is one
        // Character, and it is still a "/".
        var escaped = base + "/"
        for scalar in key.unicodeScalars {
            switch scalar {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    func pointer(_ key: String) -> String { Self.pointer(base, key) }

    mutating func fail(_ key: String, _ message: String) {
        errors.append(.init(pointer: pointer(key), message: message))
    }

    /// The raw member; `.some(.null)` when sent as null, nil when absent.
    mutating func value(_ key: String) -> JSONValue? {
        consumed.insert(key)
        return members.first(where: { $0.0 == key })?.1
    }

    mutating func string(_ key: String, required: Bool = false, maxLength: Int = 1000) -> String? {
        switch value(key) {
        case nil:
            if required { fail(key, "is required") }
            return nil
        case .string(let text)?:
            // Code points, as PostgreSQL's length() counts them, so the database never refuses
            // what passed here.
            guard text.unicodeScalars.count <= maxLength else {
                fail(key, "must be at most \(maxLength) characters")
                return nil
            }
            // PostgreSQL text cannot hold U+0000; refused here, it is a 422 and not a 500.
            guard !text.unicodeScalars.contains("\u{0}") else {
                fail(key, "must not contain the NUL character (U+0000)")
                return nil
            }
            return text
        case let other?:
            fail(key, "must be a string, not \(Self.kind(of: other))")
            return nil
        }
    }

    mutating func int(_ key: String, in range: ClosedRange<Int64>, required: Bool = false) -> Int64? {
        switch value(key) {
        case nil:
            if required { fail(key, "is required") }
            return nil
        case .int(let number)?:
            guard range.contains(number) else {
                fail(key, "must be between \(range.lowerBound) and \(range.upperBound), not \(number)")
                return nil
            }
            return number
        case let other?:
            fail(key, "must be an integer, not \(Self.kind(of: other))")
            return nil
        }
    }

    mutating func bool(_ key: String) -> Bool? {
        switch value(key) {
        case nil: return nil
        case .bool(let flag)?: return flag
        case let other?:
            fail(key, "must be true or false, not \(Self.kind(of: other))")
            return nil
        }
    }

    /// An array of strings; `.some(nil)` when sent as null (callers decide what null means).
    mutating func nullableStringArray(_ key: String, maxCount: Int) -> [String]?? {
        switch value(key) {
        case nil: return nil
        case .null?: return .some(nil)
        case .array(let items)?:
            guard items.count <= maxCount else {
                fail(key, "must have at most \(maxCount) items")
                return nil
            }
            var strings: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    errors.append(.init(pointer: pointer(key) + "/\(index)", message: "must be a string, not \(Self.kind(of: item))"))
                    continue
                }
                strings.append(text)
            }
            return .some(strings)
        case let other?:
            fail(key, "must be an array of strings or null, not \(Self.kind(of: other))")
            return nil
        }
    }

    /// Throws 422 listing every problem, including members the handler never asked for.
    mutating func finish() throws(HTTPProblem) {
        for (key, _) in members where !consumed.contains(key) {
            errors.append(.init(pointer: pointer(key), message: "is not a known field"))
        }
        if !errors.isEmpty { throw Problems.validation(errors) }
    }

    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

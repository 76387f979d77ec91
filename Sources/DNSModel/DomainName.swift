/// Why a text or wire form is not a usable domain name.
public struct DomainNameError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// An absolute domain name in canonical form: ASCII letters folded to lower case, kept as its
/// uncompressed wire form (length-prefixed labels ending in the root's zero octet).
///
/// Names are normalised when they are made, so equality, hashing and ordering work on bytes
/// and "Example.COM" and "example.com" are the same value everywhere (database keys, rrset
/// grouping, zone rules). The wire form is the only storage: one small array a name.
public struct DomainName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Uncompressed wire form, lower case, always ending in 0.
    public let wire: [UInt8]

    public static let maximumWireLength = 255
    public static let maximumLabelLength = 63

    public static let root = DomainName(validatedWire: [0])

    /// Internal: `wire` is already checked and lower case.
    init(validatedWire: [UInt8]) {
        self.wire = validatedWire
    }

    // MARK: Making names

    /// Zone-file form (RFC 1035 §5.1): `\.`, `\X` and `\DDD` escapes; `@` is `origin`; a name
    /// without a final dot is relative to `origin` (an error when there is none).
    public init(presentation text: String, origin: DomainName?) throws(DomainNameError) {
        if text == "@" {
            guard let origin else {
                throw DomainNameError("'@' stands for the origin, but there is no origin here")
            }
            self = origin
            return
        }
        if text == "." {
            self = .root
            return
        }
        if text.isEmpty {
            throw DomainNameError("empty name: write '.' for the root or '@' for the origin")
        }
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        var absolute = false
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else {
                    throw DomainNameError("'\(text)' ends in a lone backslash")
                }
                let next = bytes[index + 1]
                if isDigit(next) {
                    guard index + 3 < bytes.count, isDigit(bytes[index + 2]), isDigit(bytes[index + 3]) else {
                        throw DomainNameError("'\(text)': a \\DDD escape needs exactly three decimal digits")
                    }
                    let value = Int(next - 48) * 100 + Int(bytes[index + 2] - 48) * 10 + Int(bytes[index + 3] - 48)
                    guard value <= 255 else {
                        throw DomainNameError("'\(text)': \\\(value) is not an octet (000…255)")
                    }
                    current.append(UInt8(value))
                    index += 4
                } else {
                    current.append(next)
                    index += 2
                }
                continue
            }
            if byte == UInt8(ascii: ".") {
                guard !current.isEmpty else {
                    throw DomainNameError("'\(text)' has an empty label (two dots in a row, or a leading dot)")
                }
                labels.append(current)
                current = []
                if index == bytes.count - 1 { absolute = true }
                index += 1
                continue
            }
            current.append(byte)
            index += 1
        }
        if !current.isEmpty { labels.append(current) }
        if absolute {
            try self.init(wire: labels)
            return
        }
        guard let origin else {
            throw DomainNameError("'\(text)' is relative (no final dot) and there is no origin to append; write it with a final dot")
        }
        try self.init(wire: labels + origin.labels)
    }

    /// Names from the network or the database, leftmost label first, without the root.
    /// Checks the limits and the wildcard rule, and folds ASCII case.
    public init(wire labels: [[UInt8]]) throws(DomainNameError) {
        var wire: [UInt8] = []
        wire.reserveCapacity(labels.reduce(1) { $0 + $1.count + 1 })
        for (position, label) in labels.enumerated() {
            guard !label.isEmpty else {
                throw DomainNameError("empty label inside a name")
            }
            guard label.count <= DomainName.maximumLabelLength else {
                throw DomainNameError("label '\(DomainName.presentLabel(label))' is \(label.count) octets long; a label has at most 63")
            }
            if label.contains(UInt8(ascii: "*")) && !(position == 0 && label == [UInt8(ascii: "*")]) {
                throw DomainNameError("'*' is only allowed as a whole leftmost label (a wildcard), not in '\(DomainName.presentLabel(label))'")
            }
            wire.append(UInt8(label.count))
            for byte in label { wire.append(foldCase(byte)) }
        }
        wire.append(0)
        guard wire.count <= DomainName.maximumWireLength else {
            throw DomainNameError("name is \(wire.count) octets long in wire form; a name has at most 255")
        }
        self.wire = wire
    }

    /// Reads a name from uncompressed wire bytes at `offset`, moving it past the name.
    /// Compression pointers are refused: canonical RDATA never has them.
    public init(readingWire bytes: [UInt8], at offset: inout Int) throws(DomainNameError) {
        var labels: [[UInt8]] = []
        var cursor = offset
        while true {
            guard cursor < bytes.count else {
                throw DomainNameError("name runs past the end of the data")
            }
            let length = Int(bytes[cursor])
            if length == 0 {
                cursor += 1
                break
            }
            guard length <= DomainName.maximumLabelLength else {
                throw DomainNameError("label length octet \(length) is not a plain label (compression is not allowed here)")
            }
            guard cursor + 1 + length <= bytes.count else {
                throw DomainNameError("label runs past the end of the data")
            }
            labels.append(Array(bytes[(cursor + 1)...(cursor + length)]))
            cursor += 1 + length
        }
        try self.init(wire: labels)
        offset = cursor
    }

    // MARK: Looking at names

    /// Labels leftmost first, without the root.
    public var labels: [[UInt8]] {
        var result: [[UInt8]] = []
        var cursor = 0
        while wire[cursor] != 0 {
            let length = Int(wire[cursor])
            result.append(Array(wire[(cursor + 1)...(cursor + length)]))
            cursor += 1 + length
        }
        return result
    }

    public var labelCount: Int {
        var count = 0
        var cursor = 0
        while wire[cursor] != 0 {
            count += 1
            cursor += 1 + Int(wire[cursor])
        }
        return count
    }

    public var isRoot: Bool { wire.count == 1 }

    /// The leftmost label is `*` (RFC 4592).
    public var isWildcard: Bool {
        wire.count >= 2 && wire[0] == 1 && wire[1] == UInt8(ascii: "*")
    }

    /// The name with its leftmost label removed; nil for the root.
    public var parent: DomainName? {
        guard !isRoot else { return nil }
        return DomainName(validatedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// True when `self` is `other` or a name below it.
    public func isAtOrBelow(_ other: DomainName) -> Bool {
        let skip = wire.count - other.wire.count
        guard skip >= 0 else { return false }
        // The suffix must start on a label boundary of self.
        var cursor = 0
        while cursor < skip {
            cursor += 1 + Int(wire[cursor])
        }
        guard cursor == skip else { return false }
        return wire.withUnsafeBufferPointer { mine in
            other.wire.withUnsafeBufferPointer { theirs in
                for index in 0..<theirs.count where mine[skip + index] != theirs[index] {
                    return false
                }
                return true
            }
        }
    }

    /// Presentation relative to `origin` ("www" for www.example.com. under example.com.,
    /// "@" for the origin itself), nil when the name is not at or below it.
    public func relative(to origin: DomainName) -> String? {
        guard isAtOrBelow(origin) else { return nil }
        if wire.count == origin.wire.count { return "@" }
        var text = ""
        var cursor = 0
        let end = wire.count - origin.wire.count
        while cursor < end {
            let length = Int(wire[cursor])
            if cursor > 0 { text += "." }
            DomainName.appendLabel(wire[(cursor + 1)...(cursor + length)], to: &text)
            cursor += 1 + length
        }
        return text
    }

    /// Absolute presentation form with the final dot, special octets escaped.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        text.reserveCapacity(wire.count + 4)
        var cursor = 0
        while wire[cursor] != 0 {
            let length = Int(wire[cursor])
            DomainName.appendLabel(wire[(cursor + 1)...(cursor + length)], to: &text)
            text += "."
            cursor += 1 + length
        }
        return text
    }

    /// Presentation of one label: `.` and the characters that mean something in a zone file are
    /// escaped with a backslash, octets outside printable ASCII as `\DDD`.
    static func appendLabel<Bytes: Collection<UInt8>>(_ label: Bytes, to text: inout String) {
        for byte in label {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ";"),
                 UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                text.unicodeScalars.append("\\")
                text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x21...0x7E:
                text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                text += "\\" + threeDigits(byte)
            }
        }
    }

    static func presentLabel(_ label: [UInt8]) -> String {
        var text = ""
        appendLabel(label, to: &text)
        return text
    }

    // MARK: Identity

    /// Hashes the wire octets in one go; the synthesized hash feeds them one by one, which
    /// dominated parsing a large zone.
    public func hash(into hasher: inout Hasher) {
        wire.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func == (left: DomainName, right: DomainName) -> Bool {
        left.wire == right.wire
    }

    // MARK: Order

    /// Canonical DNS name order (RFC 4034 §6.1): compare label by label from the right, each
    /// label as lower-case octets, a missing label sorting first.
    public static func < (left: DomainName, right: DomainName) -> Bool {
        compareCanonically(left.wire, right.wire) < 0
    }
}

/// -1, 0 or 1 in canonical order; works on the wire forms without allocating.
func compareCanonically(_ left: [UInt8], _ right: [UInt8]) -> Int {
    left.withUnsafeBufferPointer { l in
        right.withUnsafeBufferPointer { r in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { leftStarts in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { rightStarts in
                    let leftCount = labelStarts(l, into: leftStarts)
                    let rightCount = labelStarts(r, into: rightStarts)
                    var i = leftCount - 1
                    var j = rightCount - 1
                    while i >= 0 && j >= 0 {
                        let a = Int(leftStarts[i])
                        let b = Int(rightStarts[j])
                        let lengthA = Int(l[a])
                        let lengthB = Int(r[b])
                        let common = min(lengthA, lengthB)
                        for k in 0..<common {
                            let x = l[a + 1 + k]
                            let y = r[b + 1 + k]
                            if x != y { return x < y ? -1 : 1 }
                        }
                        if lengthA != lengthB { return lengthA < lengthB ? -1 : 1 }
                        i -= 1
                        j -= 1
                    }
                    if i < 0 && j < 0 { return 0 }
                    return i < 0 ? -1 : 1
                }
            }
        }
    }
}

private func labelStarts(_ wire: UnsafeBufferPointer<UInt8>, into starts: UnsafeMutableBufferPointer<UInt8>) -> Int {
    var count = 0
    var cursor = 0
    while wire[cursor] != 0 {
        starts[count] = UInt8(cursor)
        count += 1
        cursor += 1 + Int(wire[cursor])
    }
    return count
}

@inline(__always)
func foldCase(_ byte: UInt8) -> UInt8 {
    (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
}

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool {
    byte >= 0x30 && byte <= 0x39
}

/// `\DDD` digits for an octet.
func threeDigits(_ byte: UInt8) -> String {
    let value = Int(byte)
    return String(UnicodeScalar(UInt8(48 + value / 100))) + String(UnicodeScalar(UInt8(48 + value / 10 % 10)))
        + String(UnicodeScalar(UInt8(48 + value % 10)))
}

/// Strict text forms of IPv4 and IPv6 addresses, written here rather than taken from the C
/// library because inet_aton-style parsers accept junk ("1.2.3", "010.1.1.1", "0x7f.1").
enum IPAddressText {
    /// Dotted quad, four decimal octets 0…255, no leading zeros (RFC 1035 / RFC 6943 §3.1.1).
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        var octets: [UInt8] = []
        octets.reserveCapacity(4)
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let utf8 = part.utf8
            guard !utf8.isEmpty, utf8.count <= 3, utf8.allSatisfy(isDigit) else { return nil }
            if utf8.count > 1 && utf8.first == UInt8(ascii: "0") { return nil }
            guard let value = Int(part), value <= 255 else { return nil }
            octets.append(UInt8(value))
        }
        return octets.count == 4 ? octets : nil
    }

    static func formatIPv4<Bytes: Collection<UInt8>>(_ octets: Bytes) -> String {
        octets.map { String($0) }.joined(separator: ".")
    }

    /// RFC 4291 §2.2 text: eight groups of 1–4 hex digits, at most one "::", and optionally an
    /// IPv4 dotted quad in the last 32 bits. No zone index, no prefix length.
    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        let compressed = halves.count == 2
        var left: [UInt16] = []
        if compressed {
            guard let parsed = groups(halves[0]) else { return nil }
            left = parsed
        }
        var right: [UInt16] = []
        var trailingIPv4: [UInt8]?
        // Only the address's very last piece may be a dotted quad.
        var lastHalf = compressed ? halves[1] : halves[0]
        if lastHalf.contains(".") {
            if let colon = lastHalf.lastIndex(of: ":") {
                guard let v4 = parseIPv4(lastHalf[lastHalf.index(after: colon)...]) else { return nil }
                trailingIPv4 = v4
                lastHalf = lastHalf[..<colon]
                guard !lastHalf.isEmpty else { return nil }
            } else {
                guard let v4 = parseIPv4(lastHalf) else { return nil }
                trailingIPv4 = v4
                lastHalf = lastHalf[lastHalf.endIndex...]
            }
        }
        if compressed {
            guard let parsed = groups(lastHalf) else { return nil }
            right = parsed
        } else {
            guard let parsed = groups(lastHalf) else { return nil }
            left = parsed
        }
        let v4Words = trailingIPv4 == nil ? 0 : 2
        let total = left.count + right.count + v4Words
        var words = left
        if compressed {
            // "::" stands for at least one zero group.
            guard total <= 7 else { return nil }
            words += [UInt16](repeating: 0, count: 8 - total)
        } else {
            guard total == 8 else { return nil }
        }
        words += right
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for word in words {
            bytes.append(UInt8(word >> 8))
            bytes.append(UInt8(word & 0xFF))
        }
        if let trailingIPv4 { bytes += trailingIPv4 }
        return bytes.count == 16 ? bytes : nil
    }

    /// Colon-separated groups of 1–4 hex digits; "" is no groups.
    private static func groups(_ text: Substring) -> [UInt16]? {
        if text.isEmpty { return [] }
        var result: [UInt16] = []
        for group in text.split(separator: ":", omittingEmptySubsequences: false) {
            guard !group.isEmpty, group.utf8.count <= 4, group.utf8.allSatisfy(isHexDigit),
                  let value = UInt16(group, radix: 16) else { return nil }
            result.append(value)
        }
        return result
    }

    /// RFC 5952 canonical text: lower case, no leading zeros, the longest run (first on a tie)
    /// of two or more zero groups as "::", and IPv4-mapped addresses in mixed notation (§5).
    static func formatIPv6<Bytes: Collection<UInt8>>(_ bytesIn: Bytes) -> String {
        let bytes = Array(bytesIn)
        var words: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) {
            words.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1]))
        }
        if words[0..<5].allSatisfy({ $0 == 0 }) && words[5] == 0xFFFF {
            return "::ffff:" + formatIPv4(bytes[12..<16])
        }
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for i in 0...8 {
            if i < 8 && words[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                let length = i - runStart
                if length > bestLength {
                    bestLength = length
                    bestStart = runStart
                }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var text = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                text += "::"
                i += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(words[i], radix: 16)
            i += 1
        }
        return text
    }
}

@inline(__always)
func isHexDigit(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
}

import Foundation

extension DomainName {
    /// A name as an API user types it: always absolute (the final dot is optional), Unicode
    /// labels converted to A-labels (IDNA2008, RFC 5890–5892, as far as is practical without
    /// the full Unicode tables: NFC, lower case, letters/digits/marks/hyphen only, no leading
    /// combining mark, hyphen rules). "xn--" labels given as ASCII must decode to a valid
    /// U-label. Zone-file escapes work in ASCII labels. `@` is refused: there is no origin.
    public init(userInput text: String) throws(DomainNameError) {
        if text == "@" {
            throw DomainNameError("'@' is zone-file shorthand for the origin; give the full name here")
        }
        if text.isEmpty {
            throw DomainNameError("the name is empty")
        }
        // ASCII first: the Unicode property lookup is most of the cost of a plain name.
        for scalar in text.unicodeScalars
        where scalar.value < 0x21 || scalar.value == 0x7F || scalar.value >= 0x80 && scalar.properties.generalCategory == .spaceSeparator {
            throw DomainNameError("'\(text)' contains white space or a control character (U+\(hex4(scalar.value))); a name has none")
        }
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            let name = try DomainName(presentation: text, origin: .root)
            for label in name.labels where hasACEPrefix(label) {
                try checkALabel(String(decoding: label, as: UTF8.self))
            }
            self = name
            return
        }
        // Split on the full stops IDNA treats as label separators.
        var labels: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if character == "\\" {
                current.append(character)
                escaped = true
                continue
            }
            if character == "." || character == "\u{3002}" || character == "\u{FF0E}" || character == "\u{FF61}" {
                labels.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        labels.append(current)
        if labels.count > 1, labels.last == "" { labels.removeLast() }
        var asciiLabels: [String] = []
        for label in labels {
            if label.isEmpty {
                throw DomainNameError("'\(text)' has an empty label (two dots in a row, or a leading dot)")
            }
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                asciiLabels.append(label)
            } else {
                asciiLabels.append(try aLabel(for: label))
            }
        }
        let name = try DomainName(presentation: asciiLabels.joined(separator: ".") + ".", origin: nil)
        for label in name.labels where hasACEPrefix(label) {
            try checkALabel(String(decoding: label, as: UTF8.self))
        }
        self = name
    }
}

private func hasACEPrefix(_ label: [UInt8]) -> Bool {
    label.count >= 4 && label[0] == UInt8(ascii: "x") && label[1] == UInt8(ascii: "n")
        && label[2] == UInt8(ascii: "-") && label[3] == UInt8(ascii: "-")
}

private func hex4(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}

/// The A-label ("xn--…") of a Unicode label, or why it cannot have one.
private func aLabel(for label: String) throws(DomainNameError) -> String {
    let mapped = label.precomposedStringWithCanonicalMapping.lowercased().precomposedStringWithCanonicalMapping
    let scalars = Array(mapped.unicodeScalars)
    try checkULabel(scalars, original: label)
    guard let encoded = Punycode.encode(scalars) else {
        throw DomainNameError("label '\(label)' cannot be encoded as Punycode")
    }
    let result = "xn--" + encoded
    guard result.utf8.count <= DomainName.maximumLabelLength else {
        throw DomainNameError("label '\(label)' becomes '\(result)', \(result.utf8.count) octets long; a label has at most 63")
    }
    return result
}

/// An "xn--" label must decode, and its U-label must pass the same checks and encode back to it.
private func checkALabel(_ label: String) throws(DomainNameError) {
    let body = String(label.dropFirst(4))
    guard let scalars = Punycode.decode(body), !scalars.isEmpty else {
        throw DomainNameError("'\(label)' starts with 'xn--' but is not valid Punycode")
    }
    guard scalars.contains(where: { $0.value >= 0x80 }) else {
        throw DomainNameError("'\(label)' starts with 'xn--' but encodes only ASCII, which IDNA does not allow")
    }
    let unicode = String(String.UnicodeScalarView(scalars))
    try checkULabel(scalars, original: unicode)
    guard unicode.precomposedStringWithCanonicalMapping.lowercased() == unicode,
          Punycode.encode(scalars).map({ "xn--" + $0 }) == label else {
        throw DomainNameError("'\(label)' decodes to '\(unicode)', which is not in the normalised (NFC, lower case) form IDNA requires")
    }
}

/// The IDNA2008 rules a U-label must follow (RFC 5891 §4.2, RFC 5892 derived properties
/// approximated from the Unicode general category and NFKC case-folding stability).
private func checkULabel(_ scalars: [Unicode.Scalar], original: String) throws(DomainNameError) {
    guard let first = scalars.first else {
        throw DomainNameError("empty label")
    }
    switch first.properties.generalCategory {
    case .nonspacingMark, .spacingMark, .enclosingMark:
        throw DomainNameError("label '\(original)' starts with a combining mark (U+\(hex4(first.value))), which IDNA2008 forbids")
    default:
        break
    }
    if first == "-" || scalars.last == "-" {
        throw DomainNameError("label '\(original)' starts or ends with a hyphen")
    }
    if scalars.count >= 4 && scalars[2] == "-" && scalars[3] == "-" {
        throw DomainNameError("label '\(original)' has '--' in the third and fourth positions, which is reserved for encoded labels")
    }
    for scalar in scalars {
        if let reason = disallowedReason(scalar) {
            throw DomainNameError("'\(String(scalar))' (U+\(hex4(scalar.value))) in '\(original)' is \(reason); IDNA2008 allows only letters, digits, combining marks and '-' in internationalised names")
        }
    }
}

/// Code points RFC 5892 lists as PVALID by exception though NFKC case folding changes them.
private let pvalidExceptions: Set<UInt32> = [0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007]
/// Code points RFC 5892 disallows by exception though they look like letters.
private let disallowedExceptions: Set<UInt32> = [0x0640, 0x07FA, 0x302E, 0x302F, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303B]

private func disallowedReason(_ scalar: Unicode.Scalar) -> String? {
    let value = scalar.value
    if value < 0x80 {
        let byte = UInt8(value)
        if (byte >= 0x61 && byte <= 0x7A) || isDigit(byte) || byte == UInt8(ascii: "-") { return nil }
        return "an ASCII character other than a letter, digit or hyphen"
    }
    if pvalidExceptions.contains(value) { return nil }
    if disallowedExceptions.contains(value) { return "disallowed by RFC 5892's exception list" }
    let properties = scalar.properties
    if properties.isNoncharacterCodePoint { return "a noncharacter" }
    if properties.isDefaultIgnorableCodePoint { return "an invisible (default ignorable) character" }
    if properties.isEmoji && properties.generalCategory != .decimalNumber && value >= 0x80 {
        return "a symbol (an emoji)"
    }
    switch properties.generalCategory {
    case .lowercaseLetter, .otherLetter, .modifierLetter, .decimalNumber, .nonspacingMark, .spacingMark:
        if properties.changesWhenNFKCCaseFolded {
            return "a compatibility or case variant of another character (NFKC case folding changes it)"
        }
        return nil
    case .uppercaseLetter, .titlecaseLetter:
        return "an upper-case letter with no lower-case form"
    case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
        return "a symbol"
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
         .initialPunctuation, .finalPunctuation, .otherPunctuation:
        return "punctuation"
    case .spaceSeparator, .lineSeparator, .paragraphSeparator:
        return "a space"
    case .control, .format, .surrogate, .privateUse, .unassigned:
        return "a control, format, private-use or unassigned code point"
    case .letterNumber, .otherNumber, .enclosingMark:
        return "a number form or enclosing mark that is not a plain digit"
    @unknown default:
        return "not allowed"
    }
}

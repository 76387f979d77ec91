/// LOC (RFC 1876): a location as latitude, longitude, altitude and three precision sizes.
///
/// Text: `d [m [s.sss]] N|S d [m [s.sss]] E|W alt[m] [size[m] [hp[m] [vp[m]]]]`.
/// Wire (version 0): size, horizontal and vertical precision as mantissa×10^exponent cm in
/// one octet each, latitude and longitude as 2^31 ± thousandths of an arc second, altitude in
/// cm above 100,000 m below the WGS 84 reference.
enum LOCRecord {
    private static let equator: Int64 = 1 << 31
    private static let altitudeBase: Int64 = 10_000_000

    static func parse(_ reader: inout RDataTokenReader) throws(RDataError) -> [UInt8] {
        let latitude = try coordinate(&reader, maximumDegrees: 90, positive: "N", negative: "S", what: "latitude")
        let longitude = try coordinate(&reader, maximumDegrees: 180, positive: "E", negative: "W", what: "longitude")
        let altitudeText = try reader.word("altitude")
        guard let altitude = centimetres(altitudeText, allowNegative: true),
              altitude >= -10_000_000, altitude <= 4_284_967_295 else {
            throw RDataError("altitude '\(altitudeText)' must be metres from -100000.00 to 42849672.95, like 10m or -2.5m", tokenIndex: reader.lastIndex)
        }
        var sizes: [UInt8] = [0x12, 0x16, 0x13]  // defaults 1m, 10000m, 10m
        let names = ["size", "horizontal precision", "vertical precision"]
        for index in 0..<3 where !reader.isAtEnd {
            let text = try reader.word(names[index])
            guard let value = centimetres(text, allowNegative: false), value <= 9_000_000_000 else {
                throw RDataError("\(names[index]) '\(text)' must be metres from 0 to 90000000.00, like 10m", tokenIndex: reader.lastIndex)
            }
            sizes[index] = encodeSize(value)
        }
        try reader.finish()
        var wire: [UInt8] = [0]
        wire += sizes
        wire.appendUInt32(UInt32(equator + latitude))
        wire.appendUInt32(UInt32(equator + longitude))
        wire.appendUInt32(UInt32(altitude + altitudeBase))
        return wire
    }

    /// Degrees, optional minutes and seconds, then the hemisphere letter; signed thousandths
    /// of an arc second.
    private static func coordinate(_ reader: inout RDataTokenReader, maximumDegrees: Int64, positive: String, negative: String, what: String) throws(RDataError) -> Int64 {
        let degreesText = try reader.word("\(what) degrees")
        guard degreesText.utf8.allSatisfy(isDigit), degreesText.utf8.count <= 3, let degrees = Int64(degreesText), degrees <= maximumDegrees else {
            throw RDataError("\(what) degrees '\(degreesText)' must be a whole number 0…\(maximumDegrees)", tokenIndex: reader.lastIndex)
        }
        var minutes: Int64 = 0
        var milliseconds: Int64 = 0
        var text = try reader.word("\(what) hemisphere")
        if text.utf8.first.map(isDigit) == true {
            guard text.utf8.allSatisfy(isDigit), text.utf8.count <= 2, let value = Int64(text), value < 60 else {
                throw RDataError("\(what) minutes '\(text)' must be a whole number 0…59", tokenIndex: reader.lastIndex)
            }
            minutes = value
            text = try reader.word("\(what) hemisphere")
            if text.utf8.first.map(isDigit) == true {
                guard let value = decimal(text, fractionDigits: 3), value < 60_000 else {
                    throw RDataError("\(what) seconds '\(text)' must be 0…59.999 with at most three decimals", tokenIndex: reader.lastIndex)
                }
                milliseconds = value
                text = try reader.word("\(what) hemisphere")
            }
        }
        let sign: Int64
        switch text.uppercased() {
        case positive: sign = 1
        case negative: sign = -1
        default:
            throw RDataError("expected the \(what) hemisphere \(positive) or \(negative), not '\(text)'", tokenIndex: reader.lastIndex)
        }
        let total = (degrees * 3600 + minutes * 60) * 1000 + milliseconds
        guard total <= maximumDegrees * 3_600_000 else {
            throw RDataError("\(what) is beyond \(maximumDegrees)°", tokenIndex: reader.lastIndex)
        }
        return sign * total
    }

    /// "12.5m", "-2", "0.01" as centimetres.
    private static func centimetres(_ text: String, allowNegative: Bool) -> Int64? {
        var body = Substring(text)
        if body.hasSuffix("m") || body.hasSuffix("M") { body = body.dropLast() }
        var negative = false
        if allowNegative && body.hasPrefix("-") {
            negative = true
            body = body.dropFirst()
        }
        guard let value = decimal(String(body), fractionDigits: 2) else { return nil }
        return negative ? -value : value
    }

    /// A non-negative decimal with at most `fractionDigits` decimals, scaled to an integer.
    private static func decimal(_ text: String, fractionDigits: Int) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.utf8.count <= 12,
              whole.utf8.allSatisfy(isDigit), var value = Int64(whole) else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.utf8.count <= fractionDigits, fraction.utf8.allSatisfy(isDigit) else { return nil }
        if parts.count == 2 && fraction.isEmpty { return nil }
        while fraction.utf8.count < fractionDigits { fraction += "0" }
        for _ in 0..<fractionDigits { value *= 10 }
        return value + (Int64(fraction) ?? 0)
    }

    /// Mantissa and exponent of a size in cm, rounded down to one significant digit as BIND
    /// and the RFC's reference code do.
    private static func encodeSize(_ value: Int64) -> UInt8 {
        var exponent: Int64 = 0
        var power: Int64 = 1
        while exponent < 9 && value >= power * 10 {
            exponent += 1
            power *= 10
        }
        let mantissa = min(9, value / power)
        return UInt8(mantissa << 4 | exponent)
    }

    static func validate(_ wire: [UInt8]) throws(RDataError) {
        guard wire.count == 16 else {
            throw RDataError("LOC RDATA is 16 octets, not \(wire.count)")
        }
        guard wire[0] == 0 else {
            throw RDataError("LOC version \(wire[0]) is unknown; only version 0 is defined")
        }
        for index in 1...3 where wire[index] >> 4 > 9 || wire[index] & 0x0F > 9 {
            throw RDataError("LOC size/precision octet \(wire[index]) is not a decimal mantissa and exponent")
        }
        let latitude = Int64(readUInt32(wire, 4)) - equator
        let longitude = Int64(readUInt32(wire, 8)) - equator
        guard abs(latitude) <= 90 * 3_600_000 else { throw RDataError("LOC latitude is beyond 90°") }
        guard abs(longitude) <= 180 * 3_600_000 else { throw RDataError("LOC longitude is beyond 180°") }
    }

    static func present(_ wire: [UInt8]) -> String {
        guard (try? validate(wire)) != nil else { return GenericRData.present(wire) }
        let latitude = Int64(readUInt32(wire, 4)) - equator
        let longitude = Int64(readUInt32(wire, 8)) - equator
        let altitude = Int64(readUInt32(wire, 12)) - altitudeBase
        var parts = [
            angle(latitude, positive: "N", negative: "S"),
            angle(longitude, positive: "E", negative: "W"),
        ]
        let magnitude = abs(altitude)
        parts.append("\(altitude < 0 ? "-" : "")\(magnitude / 100).\(twoDigits(magnitude % 100))m")
        for index in 1...3 {
            parts.append(size(wire[index]))
        }
        return parts.joined(separator: " ")
    }

    private static func angle(_ value: Int64, positive: String, negative: String) -> String {
        let magnitude = abs(value)
        let degrees = magnitude / 3_600_000
        let minutes = magnitude / 60_000 % 60
        let milliseconds = magnitude % 60_000
        let seconds = "\(milliseconds / 1000).\(threeDigitsInt(milliseconds % 1000))"
        return "\(degrees) \(minutes) \(seconds) \(value < 0 ? negative : positive)"
    }

    private static func size(_ octet: UInt8) -> String {
        let mantissa = Int64(octet >> 4)
        let exponent = Int(octet & 0x0F)
        if exponent >= 2 {
            var metres = mantissa
            for _ in 0..<(exponent - 2) { metres *= 10 }
            return "\(metres)m"
        }
        let centimetres = exponent == 1 ? mantissa * 10 : mantissa
        return "0.\(twoDigits(centimetres))m"
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    private static func threeDigitsInt(_ value: Int64) -> String {
        value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : "\(value)"
    }
}

func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}

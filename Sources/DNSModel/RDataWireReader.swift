/// Reads wire RDATA field by field, refusing data that is cut short or runs on.
struct RDataWireReader {
    let bytes: [UInt8]
    let type: RRType
    var offset = 0

    init(_ bytes: [UInt8], type: RRType) {
        self.bytes = bytes
        self.type = type
    }

    var isAtEnd: Bool { offset >= bytes.count }
    var remainingCount: Int { bytes.count - offset }

    private func short(_ what: String) -> RDataError {
        RDataError("\(type) RDATA is cut short in its \(what) (\(bytes.count) octets in all)")
    }

    mutating func uint8(_ what: String) throws(RDataError) -> UInt8 {
        guard offset + 1 <= bytes.count else { throw short(what) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16(_ what: String) throws(RDataError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw short(what) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func uint32(_ what: String) throws(RDataError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw short(what) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func octets(_ count: Int, _ what: String) throws(RDataError) -> ArraySlice<UInt8> {
        guard offset + count <= bytes.count else { throw short(what) }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func rest() -> ArraySlice<UInt8> {
        defer { offset = bytes.count }
        return bytes[offset...]
    }

    mutating func name(_ what: String) throws(RDataError) -> DomainName {
        do {
            return try DomainName(readingWire: bytes, at: &offset)
        } catch {
            throw RDataError("\(type) \(what) in RDATA: \(error.message)")
        }
    }

    mutating func characterString(_ what: String) throws(RDataError) -> ArraySlice<UInt8> {
        let length = Int(try uint8(what))
        return try octets(length, what)
    }

    func finish() throws(RDataError) {
        guard isAtEnd else {
            throw RDataError("\(type) RDATA has \(remainingCount) octets left over after its last field")
        }
    }
}

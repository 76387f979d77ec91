import DNSModel

/// Reads message octets. Every read is checked against the end of the data, and compression
/// pointers must point strictly before the name segment they are found in, so a pointer loop or
/// a forward pointer is an error and the work is bounded by the message length.
struct DNSMessageReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func uint8(_ what: @autoclosure () -> String) throws(DNSWireError) -> UInt8 {
        guard offset + 1 <= bytes.count else { throw cutShort(what()) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16(_ what: @autoclosure () -> String) throws(DNSWireError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw cutShort(what()) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func uint32(_ what: @autoclosure () -> String) throws(DNSWireError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw cutShort(what()) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private func cutShort(_ what: String) -> DNSWireError {
        DNSWireError("message is cut short at offset \(offset) in \(what) (\(bytes.count) octets in all)")
    }

    mutating func name(_ what: @autoclosure () -> String) throws(DNSWireError) -> DomainName {
        let (name, next) = try readName(at: offset, end: bytes.count, what: what())
        offset = next
        return name
    }

    /// The name at `start` whose own labels end before `end`; returns it and the offset just
    /// after it (after the first pointer when there is one).
    func readName(at start: Int, end: Int, what: @autoclosure () -> String) throws(DNSWireError) -> (DomainName, Int) {
        var labels: [[UInt8]] = []
        var cursor = start
        var limit = end
        var segmentStart = start
        var next: Int?
        var wireLength = 1
        var jumps = 0
        while true {
            guard cursor < limit else {
                throw DNSWireError("\(what()) at offset \(start) runs past the end of \(limit == bytes.count ? "the message" : "its RDATA")")
            }
            let length = bytes[cursor]
            if length == 0 {
                cursor += 1
                break
            }
            switch length & 0xC0 {
            case 0x00:
                let count = Int(length)
                guard cursor + 1 + count <= limit else {
                    throw DNSWireError("\(what()) at offset \(start): the label at offset \(cursor) runs past the end of \(limit == bytes.count ? "the message" : "its RDATA")")
                }
                wireLength += 1 + count
                guard wireLength <= DomainName.maximumWireLength else {
                    throw DNSWireError("\(what()) at offset \(start) is longer than 255 octets")
                }
                labels.append(Array(bytes[(cursor + 1)..<(cursor + 1 + count)]))
                cursor += 1 + count
            case 0xC0:
                guard cursor + 2 <= limit else {
                    throw DNSWireError("\(what()) at offset \(start): the compression pointer at offset \(cursor) is cut short")
                }
                let target = Int(length & 0x3F) << 8 | Int(bytes[cursor + 1])
                guard target < segmentStart else {
                    throw DNSWireError("\(what()) at offset \(start): the compression pointer at offset \(cursor) points to offset \(target), which is not before the name (a pointer loop or a forward pointer)")
                }
                // A name has at most 127 labels, so more jumps than that is a chain built to
                // make the reader walk: refuse it and keep the work per name bounded.
                jumps += 1
                guard jumps <= 127 else {
                    throw DNSWireError("\(what()) at offset \(start) follows more than 127 compression pointers")
                }
                if next == nil { next = cursor + 2 }
                segmentStart = target
                cursor = target
                limit = bytes.count
            default:
                throw DNSWireError("\(what()) at offset \(start): label type 0x\(String(length >> 6, radix: 16)) at offset \(cursor) is neither a plain label nor a compression pointer (extended labels are obsolete)")
            }
        }
        do {
            return (try DomainName(wire: labels), next ?? cursor)
        } catch {
            throw DNSWireError("\(what()) at offset \(start): \(error.message)")
        }
    }
}

extension DNSMessage {
    /// Decodes a message. Malformed input (cut short, pointer loops, forward pointers, counts
    /// that promise more records than there are, overlong names or labels, octets left over,
    /// OPT or TSIG in the wrong place) is a `DNSWireError` naming the offset, never a trap.
    public static func decode(_ bytes: [UInt8]) throws(DNSWireError) -> DNSMessage {
        try decodeLocatingTSIG(bytes).message
    }

    /// Decodes and tells where the TSIG record starts, for the MAC over the octets before it.
    static func decodeLocatingTSIG(_ bytes: [UInt8]) throws(DNSWireError) -> (message: DNSMessage, tsigOffset: Int?) {
        guard bytes.count >= 12 else {
            throw DNSWireError("\(bytes.count) octets is shorter than a DNS header (12 octets)")
        }
        guard bytes.count <= maximumSize else {
            throw DNSWireError("\(bytes.count) octets is more than a DNS message can hold (65535)")
        }
        var reader = DNSMessageReader(bytes)
        let id = try reader.uint16("the header")
        let high = try reader.uint8("the header")
        let low = try reader.uint8("the header")
        let counts = [
            try reader.uint16("the header"), try reader.uint16("the header"),
            try reader.uint16("the header"), try reader.uint16("the header"),
        ]
        var message = DNSMessage(
            id: id, isResponse: high & 0x80 != 0, opcode: DNSOpcode(rawValue: high >> 3 & 0x0F),
            isAuthoritative: high & 0x04 != 0, isTruncated: high & 0x02 != 0,
            recursionDesired: high & 0x01 != 0, recursionAvailable: low & 0x80 != 0,
            authenticData: low & 0x20 != 0, checkingDisabled: low & 0x10 != 0,
            rcode: DNSRcode(rawValue: UInt16(low & 0x0F)))

        for index in 0..<Int(counts[0]) {
            let what = "question \(index + 1) of \(counts[0])"
            let name = try reader.name("the name of \(what)")
            let type = try reader.uint16(what)
            let questionClass = try reader.uint16(what)
            message.questions.append(DNSQuestion(name: name, type: RRType(rawValue: type), questionClass: questionClass))
        }

        var tsigOffset: Int?
        let sectionNames = ["answer", "authority", "additional"]
        for section in 0..<3 {
            let total = Int(counts[section + 1])
            for index in 0..<total {
                let what = "\(sectionNames[section]) record \(index + 1) of \(total)"
                let start = reader.offset
                let owner = try reader.name("the owner name of \(what)")
                let type = RRType(rawValue: try reader.uint16(what))
                let recordClass = try reader.uint16(what)
                let ttl = try reader.uint32(what)
                let length = Int(try reader.uint16(what))
                let rdataStart = reader.offset
                guard rdataStart + length <= bytes.count else {
                    throw DNSWireError("\(what) (\(owner) \(type)) at offset \(start): its \(length) octets of RDATA run past the end of the message")
                }
                reader.offset += length

                if type == .opt {
                    guard section == 2 else {
                        throw DNSWireError("\(what) at offset \(start) is an OPT record outside the additional section")
                    }
                    guard message.edns == nil else {
                        throw DNSWireError("\(what) at offset \(start) is a second OPT record (RFC 6891 §6.1.1 allows one)")
                    }
                    guard owner.isRoot else {
                        throw DNSWireError("\(what) at offset \(start) is an OPT record owned by \(owner), not the root")
                    }
                    message.edns = try decodeEDNS(bytes, from: rdataStart, count: length, classField: recordClass, ttl: ttl, what: what)
                    message.rcode = DNSRcode(rawValue: UInt16(ttl >> 24) << 4 | message.rcode.rawValue)
                    continue
                }
                if type == .tsig {
                    guard section == 2 && index == total - 1 else {
                        throw DNSWireError("\(what) at offset \(start) is a TSIG record that is not the last record of the message (RFC 8945 §5.1)")
                    }
                    tsigOffset = start
                    message.tsig = DNSRecord(owner: owner, type: type, recordClass: recordClass, ttl: ttl, rdata: Array(bytes[rdataStart..<(rdataStart + length)]))
                    continue
                }
                let rdata: [UInt8]
                if length > 0, let layout = CompressedRDataLayout.fields(of: type) {
                    rdata = try expandNames(reader, layout: layout, from: rdataStart, count: length, what: "\(what) (\(owner) \(type))")
                } else {
                    rdata = Array(bytes[rdataStart..<(rdataStart + length)])
                }
                let record = DNSRecord(owner: owner, type: type, recordClass: recordClass, ttl: ttl, rdata: rdata)
                switch section {
                case 0: message.answers.append(record)
                case 1: message.authority.append(record)
                default: message.additional.append(record)
                }
            }
        }
        guard reader.offset == bytes.count else {
            throw DNSWireError("\(bytes.count - reader.offset) octets are left over after the last record (offset \(reader.offset)); the section counts say there is nothing more")
        }
        return (message, tsigOffset)
    }

    private static func decodeEDNS(_ bytes: [UInt8], from start: Int, count: Int, classField: UInt16, ttl: UInt32, what: String) throws(DNSWireError) -> EDNS {
        var options: [EDNSOption] = []
        var cursor = start
        let end = start + count
        while cursor < end {
            guard cursor + 4 <= end else {
                throw DNSWireError("\(what): an EDNS option header at offset \(cursor) is cut short")
            }
            let code = bytes.bigEndianUInt16(at: cursor)
            let length = Int(bytes.bigEndianUInt16(at: cursor + 2))
            guard cursor + 4 + length <= end else {
                throw DNSWireError("\(what): EDNS option \(code) at offset \(cursor) claims \(length) octets, more than the OPT record holds")
            }
            options.append(EDNSOption(code: code, data: Array(bytes[(cursor + 4)..<(cursor + 4 + length)])))
            cursor += 4 + length
        }
        return EDNS(udpPayloadSize: classField, version: UInt8(ttl >> 16 & 0xFF), dnssecOK: ttl & 0x8000 != 0, options: options)
    }

    /// RDATA with its compressed names written out in full (and lower case, as RData keeps them).
    private static func expandNames(_ reader: DNSMessageReader, layout: [CompressedRDataLayout.Field], from start: Int, count: Int, what: String) throws(DNSWireError) -> [UInt8] {
        let bytes = reader.bytes
        let end = start + count
        var cursor = start
        var expanded: [UInt8] = []
        expanded.reserveCapacity(count + 32)
        for field in layout {
            switch field {
            case .name:
                let (name, next) = try reader.readName(at: cursor, end: end, what: "a name in the RDATA of \(what)")
                expanded.append(contentsOf: name.wire)
                cursor = next
            case .fixed(let size):
                guard cursor + size <= end else {
                    throw DNSWireError("\(what): RDATA is cut short at offset \(cursor) (\(size) more octets expected)")
                }
                expanded.append(contentsOf: bytes[cursor..<(cursor + size)])
                cursor += size
            case .characterString:
                guard cursor < end, cursor + 1 + Int(bytes[cursor]) <= end else {
                    throw DNSWireError("\(what): a character-string in the RDATA at offset \(cursor) runs past its end")
                }
                let size = 1 + Int(bytes[cursor])
                expanded.append(contentsOf: bytes[cursor..<(cursor + size)])
                cursor += size
            }
        }
        guard cursor == end else {
            throw DNSWireError("\(what): \(end - cursor) octets of RDATA are left over after its last field")
        }
        return expanded
    }
}

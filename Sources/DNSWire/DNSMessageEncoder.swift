import DNSModel

/// Builds message octets, compressing owner and question names against the names already in
/// the message (RFC 1035 §4.1.4). RDATA is written as given, names in it uncompressed: that is
/// always allowed, and required for every type newer than RFC 1035 (RFC 3597 §4).
struct DNSMessageWriter {
    private(set) var bytes: [UInt8]
    private let compress: Bool
    /// Where each name suffix already written starts; keys are slices of the names' wire forms.
    private var suffixOffsets: [ArraySlice<UInt8>: Int] = [:]
    /// Keys in the order they were added, so a record that did not fit can be taken back out.
    private var addedSuffixes: [ArraySlice<UInt8>] = []

    /// Offsets up to here can be a pointer's target (14 bits).
    private static let pointerLimit = 0x3FFF

    init(compress: Bool, capacity: Int = 512) {
        self.compress = compress
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    struct Checkpoint {
        let byteCount: Int
        let suffixCount: Int
    }

    var checkpoint: Checkpoint { Checkpoint(byteCount: bytes.count, suffixCount: addedSuffixes.count) }

    mutating func rollback(to checkpoint: Checkpoint) {
        bytes.removeSubrange(checkpoint.byteCount...)
        while addedSuffixes.count > checkpoint.suffixCount {
            suffixOffsets[addedSuffixes.removeLast()] = nil
        }
    }

    mutating func writeHeader(_ message: DNSMessage) {
        bytes.appendBigEndian(message.id)
        var high: UInt8 = message.opcode.rawValue << 3
        if message.isResponse { high |= 0x80 }
        if message.isAuthoritative { high |= 0x04 }
        if message.isTruncated { high |= 0x02 }
        if message.recursionDesired { high |= 0x01 }
        var low = UInt8(message.rcode.rawValue & 0x0F)
        if message.recursionAvailable { low |= 0x80 }
        if message.authenticData { low |= 0x20 }
        if message.checkingDisabled { low |= 0x10 }
        bytes.append(high)
        bytes.append(low)
        bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0])
    }

    mutating func setTruncated() {
        bytes[2] |= 0x02
    }

    /// The four section counts, filled in once the sections are written.
    mutating func setCounts(questions: Int, answers: Int, authority: Int, additional: Int) {
        bytes.setBigEndian(UInt16(questions), at: 4)
        bytes.setBigEndian(UInt16(answers), at: 6)
        bytes.setBigEndian(UInt16(authority), at: 8)
        bytes.setBigEndian(UInt16(additional), at: 10)
    }

    mutating func writeName(_ name: DomainName, compressible: Bool = true) {
        let wire = name.wire
        guard compress && compressible else {
            bytes.append(contentsOf: wire)
            return
        }
        var start = 0
        while wire[start] != 0 {
            let suffix = wire[start...]
            if let target = suffixOffsets[suffix] {
                bytes.append(contentsOf: wire[0..<start])
                bytes.appendBigEndian(UInt16(0xC000 | target))
                remember(wire, upTo: start, writtenAt: bytes.count - 2 - start)
                return
            }
            start += 1 + Int(wire[start])
        }
        let position = bytes.count
        bytes.append(contentsOf: wire)
        remember(wire, upTo: start, writtenAt: position)
    }

    /// Records the suffixes of `wire` that start before `end`, now at `position` onward.
    private mutating func remember(_ wire: [UInt8], upTo end: Int, writtenAt position: Int) {
        var start = 0
        while start < end {
            let offset = position + start
            guard offset <= Self.pointerLimit else { return }
            let suffix = wire[start...]
            suffixOffsets[suffix] = offset
            addedSuffixes.append(suffix)
            start += 1 + Int(wire[start])
        }
    }

    mutating func writeQuestion(_ question: DNSQuestion) {
        writeName(question.name)
        bytes.appendBigEndian(question.type.rawValue)
        bytes.appendBigEndian(question.questionClass)
    }

    mutating func writeRecord(_ record: DNSRecord, compressOwner: Bool = true) {
        precondition(record.rdata.count <= 65535, "\(record.owner) \(record.type): RDATA of \(record.rdata.count) octets cannot be sent (65535 at most)")
        writeName(record.owner, compressible: compressOwner)
        bytes.appendBigEndian(record.type.rawValue)
        bytes.appendBigEndian(record.recordClass)
        bytes.appendBigEndian(record.ttl)
        bytes.appendBigEndian(UInt16(record.rdata.count))
        bytes.append(contentsOf: record.rdata)
    }

    /// The OPT pseudo-record (RFC 6891 §6.1.2): the root as owner, the payload size as class,
    /// extended RCODE, version and DO in the TTL.
    mutating func writeOPT(_ edns: EDNS, rcode: DNSRcode) {
        bytes.append(0)
        bytes.appendBigEndian(RRType.opt.rawValue)
        bytes.appendBigEndian(edns.udpPayloadSize)
        var ttl = UInt32(rcode.rawValue >> 4 & 0xFF) << 24 | UInt32(edns.version) << 16
        if edns.dnssecOK { ttl |= 0x8000 }
        bytes.appendBigEndian(ttl)
        var data: [UInt8] = []
        for option in edns.options {
            data.appendBigEndian(option.code)
            data.appendBigEndian(UInt16(option.data.count))
            data.append(contentsOf: option.data)
        }
        bytes.appendBigEndian(UInt16(data.count))
        bytes.append(contentsOf: data)
    }
}

extension DNSMessage {
    /// The largest message TCP's length prefix can carry, and so the largest there is.
    public static let maximumSize = 65535

    /// The EDNS the message needs on the wire: its own, or a default one when the RCODE does not
    /// fit the header's 4 bits.
    private var effectiveEDNS: EDNS? {
        edns ?? (rcode.rawValue > 0x0F ? EDNS() : nil)
    }

    /// The message's octets. `maxSize` (a UDP payload limit; at most 65535, the default) is kept
    /// by leaving out records from the end: answer or authority records left out set TC
    /// (RFC 2181 §9), additional ones do not. OPT and TSIG are always kept. A message that will
    /// be signed afterwards needs `TSIGKey.signatureSize` octets left free under the limit.
    public func encode(compress: Bool = true, maxSize: Int? = nil) -> [UInt8] {
        encodeSections(answers: answers[...], compress: compress, maxSize: maxSize).bytes
    }

    /// Encodes with `answers` in place of the message's own, and says how many records of each
    /// section made it in.
    func encodeSections(answers: ArraySlice<DNSRecord>, compress: Bool, maxSize: Int?) -> (bytes: [UInt8], written: [Int]) {
        let limit = min(maxSize ?? Self.maximumSize, Self.maximumSize)
        var writer = DNSMessageWriter(compress: compress, capacity: min(limit, 4096))
        precondition(questions.count <= 65535, "a message holds at most 65535 questions, not \(questions.count)")
        writer.writeHeader(self)
        for question in questions { writer.writeQuestion(question) }
        let edns = effectiveEDNS
        var reserved = edns?.wireSize ?? 0
        if let tsig { reserved += tsig.owner.wire.count + 10 + tsig.rdata.count }
        let recordLimit = limit - reserved
        var written = [0, 0, 0]
        var full = false
        for (index, section) in [answers, authority[...], additional[...]].enumerated() where !full {
            for record in section {
                let mark = writer.checkpoint
                writer.writeRecord(record)
                if writer.bytes.count > recordLimit {
                    writer.rollback(to: mark)
                    if index < 2 { writer.setTruncated() }
                    full = true
                    break
                }
                written[index] += 1
            }
        }
        var additionalCount = written[2]
        if let edns {
            writer.writeOPT(edns, rcode: rcode)
            additionalCount += 1
        }
        if let tsig {
            // The TSIG owner is never compressed: RFC 8945 §4.2 wants the key name as is.
            writer.writeRecord(tsig, compressOwner: false)
            additionalCount += 1
        }
        writer.setCounts(
            questions: questions.count, answers: written[0], authority: written[1], additional: additionalCount)
        return (writer.bytes, written)
    }

    /// A response too big for one message, as a zone transfer sends it (RFC 5936 §2.2): `answers`
    /// spread over as many messages as needed, each `self` (questions only in the first) with
    /// the next answers that fit in `maxSize`. Leave room under 65535 for a TSIG record when the
    /// messages will be signed (`TSIGKey.signatureSize`). Throws when one record alone does not fit.
    public func encodeSplittingAnswers(_ answers: [DNSRecord], compress: Bool = true, maxSize: Int = DNSMessage.maximumSize) throws(DNSWireError) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var next = 0
        var part = self
        part.answers = []
        repeat {
            let remaining = answers[next...]
            let (bytes, written) = part.encodeSections(answers: remaining, compress: compress, maxSize: maxSize)
            if written[0] == 0 && next < answers.count {
                throw DNSWireError("\(answers[next].owner) \(answers[next].type) (\(answers[next].rdata.count) octets of RDATA) does not fit in a \(maxSize)-octet message")
            }
            var message = bytes
            if written[0] < remaining.count {
                // Truncation is not what happened here: the rest follows in the next message.
                message[2] &= ~0x02
            }
            messages.append(message)
            next += written[0]
            part.questions = []
        } while next < answers.count
        return messages
    }
}

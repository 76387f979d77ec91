import DNSModel
import DNSWire
import Foundation
import Testing

/// A small deterministic generator (SplitMix64), so a failing input can be reproduced from the seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Decoding never traps and never takes long, whatever it is given: it returns a message or a
/// `DNSWireError` with a message.
@Suite("Decoding malformed messages")
struct MalformedMessageTests {
    /// Decodes and reports whether it was accepted; an error must say something.
    @discardableResult
    func decodes(_ bytes: [UInt8]) -> Bool {
        do {
            _ = try DNSMessage.decode(bytes)
            return true
        } catch {
            #expect(!error.message.isEmpty)
            return false
        }
    }

    func realisticMessage() throws -> [UInt8] {
        let records = try RecordExamples.records().map(DNSRecord.init)
        return DNSMessage(
            id: 0x1234, isResponse: true, isAuthoritative: true,
            questions: [DNSQuestion(name: RecordExamples.origin, type: .any)],
            answers: records, edns: EDNS(options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])
        ).encode()
    }

    @Test("100,000 random byte strings")
    func randomBytes() {
        var generator = SeededGenerator(seed: 0x5EED)
        let started = Date()
        var accepted = 0
        for _ in 0..<100_000 {
            let length = Int.random(in: 0...600, using: &generator)
            var bytes = [UInt8](repeating: 0, count: length)
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            // Small counts half the time, so the decoder gets past the header into names.
            if length >= 12 && Bool.random(using: &generator) {
                for index in stride(from: 4, to: 12, by: 2) { bytes[index] = 0; bytes[index + 1] &= 0x03 }
            }
            if decodes(bytes) { accepted += 1 }
        }
        #expect(Date().timeIntervalSince(started) < 120)
        // Mostly garbage is refused; a header with zero counts is a valid message though.
        #expect(accepted < 100_000)
    }

    @Test("100,000 mutations of a real message: flipped, inserted and deleted octets")
    func mutations() throws {
        let original = try realisticMessage()
        #expect(decodes(original))
        var generator = SeededGenerator(seed: 42)
        let started = Date()
        var refused = 0
        for _ in 0..<100_000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                case 1: bytes[position] = UInt8.random(in: 0...255, using: &generator)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
                default: bytes.remove(at: position)
                }
                if bytes.isEmpty { break }
            }
            if !decodes(bytes) { refused += 1 }
        }
        #expect(Date().timeIntervalSince(started) < 120)
        #expect(refused > 1000)
    }

    @Test("a message cut at every length is refused with the offset")
    func cutMessages() throws {
        let original = try realisticMessage()
        for length in 0..<original.count {
            #expect(throws: DNSWireError.self, "cut at \(length)") { try DNSMessage.decode(Array(original.prefix(length))) }
        }
        let error = try #require(throws: DNSWireError.self) { try DNSMessage.decode(Array(original.prefix(40))) }
        #expect(error.message.contains("offset"))
    }

    /// Header with the given counts, followed by `body`.
    func message(questions: UInt16 = 0, answers: UInt16 = 0, _ body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0xAB, 0xCD, 0x81, 0x00]
        for count in [questions, answers, 0, 0] { bytes += [UInt8(count >> 8), UInt8(count & 0xFF)] }
        return bytes + body
    }

    @Test("a pointer to itself is a loop and refused")
    func selfPointer() throws {
        let error = try #require(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 1, [0xC0, 12, 0, 1, 0, 1])) }
        #expect(error.message.contains("pointer"))
    }

    @Test("two names pointing at each other are refused")
    func mutualPointers() {
        // Question name at 12 is "a" + pointer to 18; at 18 an owner "b" + pointer back to 12.
        let body: [UInt8] = [1, 97, 0xC0, 18, 0, 1, 1, 98, 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0]
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 1, answers: 1, body)) }
    }

    @Test("a forward pointer is refused")
    func forwardPointer() {
        let body: [UInt8] = [0xC0, 18, 0, 1, 0, 1, 3, 99, 111, 109, 0]
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 1, body)) }
    }

    @Test("a pointer loop through a label inside one name is refused")
    func loopThroughLabel() {
        // At 12: label "a", then a pointer back to 12.
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 1, [1, 97, 0xC0, 12, 0, 1, 0, 1])) }
    }

    @Test("a long chain of backward pointers is refused, quickly")
    func pointerChain() {
        // Questions whose names each point at the previous one's: legal one by one, but a name
        // reached through thousands of pointers is made to waste work.
        var body: [UInt8] = [0, 0, 1, 0, 1]  // root question at 12
        var previous = 12
        for _ in 0..<10_000 {
            let here = 12 + body.count
            body += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF), 0, 1, 0, 1]
            previous = here
            if here > 0x3F00 { break }
        }
        let started = Date()
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 10_001, body)) }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("counts that promise more than there is are refused")
    func lyingCounts() throws {
        let query = DNSMessage.query(id: 1, name: name("example.com."), type: .a).encode()
        for (offset, value) in [(5, 2), (7, 1), (9, 1), (11, 1), (4, 0xFF), (10, 0xFF)] {
            var bytes = query
            bytes[offset] = UInt8(value)
            let error = try #require(throws: DNSWireError.self) { try DNSMessage.decode(bytes) }
            #expect(error.message.contains("cut short") || error.message.contains("past the end"))
        }
        // Counts that promise less leave octets over.
        var fewer = query
        fewer[5] = 0
        let error = try #require(throws: DNSWireError.self) { try DNSMessage.decode(fewer) }
        #expect(error.message.contains("left over"))
    }

    @Test("labels over 63 octets and names over 255 are refused")
    func oversizeNames() throws {
        // Length octet 64 is label type 01: not a label.
        let long = [UInt8(64)] + Array(repeating: UInt8(97), count: 64) + [0, 0, 1, 0, 1]
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 1, long)) }
        // Five 63-octet labels make 321 octets.
        var huge: [UInt8] = []
        for _ in 0..<5 { huge += [63] + Array(repeating: UInt8(98), count: 63) }
        let error = try #require(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 1, huge + [0, 0, 1, 0, 1])) }
        #expect(error.message.contains("255"))
        // Through pointers: 3 labels of 63 at 12, then a name of 2 more labels pointing at it.
        var split: [UInt8] = []
        for _ in 0..<3 { split += [63] + Array(repeating: UInt8(99), count: 63) }
        split += [0, 0, 1, 0, 1]
        for _ in 0..<2 { split += [63] + Array(repeating: UInt8(100), count: 63) }
        split += [0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(message(questions: 2, split)) }
        // 63 octets is fine.
        let fine = [UInt8(63)] + Array(repeating: UInt8(97), count: 63) + [0, 0, 1, 0, 1]
        #expect(try DNSMessage.decode(message(questions: 1, fine)).question?.name.labels.first?.count == 63)
    }

    @Test("OPT and TSIG out of place, RDATA running past the end")
    func misplacedRecords() throws {
        let zone = name("example.com.")
        var withTwoOPT = DNSMessage.query(id: 5, name: zone, type: .a).encode()
        withTwoOPT[11] = 2
        let opt: [UInt8] = [0, 0, 41, 16, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(withTwoOPT + opt + opt) }
        withTwoOPT[11] = 1
        #expect(try DNSMessage.decode(withTwoOPT + opt).edns?.udpPayloadSize == 4096)

        // An OPT in the answer section.
        var optAnswer = DNSMessage.query(id: 5, name: zone, type: .a).encode()
        optAnswer[7] = 1
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(optAnswer + opt) }

        // A TSIG record that is not last.
        var tsigFirst = DNSMessage.query(id: 5, name: zone, type: .a).encode()
        tsigFirst[11] = 2
        let tsig: [UInt8] = [0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 0]
        #expect(throws: DNSWireError.self) { try DNSMessage.decode(tsigFirst + tsig + opt) }

        // RDATA length beyond the message.
        var answer = DNSMessage(id: 1, answers: [DNSRecord(owner: zone, type: .a, ttl: 1, rdata: [1, 2, 3, 4])]).encode()
        answer[answer.count - 5] = 9
        let error = try #require(throws: DNSWireError.self) { try DNSMessage.decode(answer) }
        #expect(error.message.contains("RDATA"))
    }
}

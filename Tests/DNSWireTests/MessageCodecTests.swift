import DNSModel
import DNSWire
import Testing

@Suite("DNS message encoding and decoding")
struct MessageCodecTests {
    func sampleMessage() throws -> DNSMessage {
        let records = try RecordExamples.records().map(DNSRecord.init)
        return DNSMessage(
            id: 0xBEEF, isResponse: true, opcode: .query, isAuthoritative: true, recursionDesired: true,
            authenticData: true, checkingDisabled: true, rcode: .nameError,
            questions: [DNSQuestion(name: RecordExamples.origin, type: .any)],
            answers: Array(records.prefix(14)), authority: Array(records[14..<22]),
            additional: Array(records[22...]))
    }

    @Test("every record type survives a round trip", arguments: [true, false])
    func everyTypeRoundTrips(compress: Bool) throws {
        let message = try sampleMessage()
        let bytes = message.encode(compress: compress)
        let decoded = try DNSMessage.decode(bytes)
        #expect(decoded == message)
        let types = Set((decoded.answers + decoded.authority + decoded.additional).map(\.type))
        #expect(types.count == RecordExamples.texts.count)
        // And every record is zone data again, equal to what went in.
        let back = try (decoded.answers + decoded.authority + decoded.additional).map { try $0.resourceRecord() }
        #expect(back == (try RecordExamples.records()))
    }

    @Test("compression shrinks the message and points only backwards")
    func compressionShrinks() throws {
        let message = try sampleMessage()
        let compressed = message.encode(compress: true)
        let plain = message.encode(compress: false)
        #expect(compressed.count < plain.count)
        // Owners after the first use of example.com. are pointers (0xC0 0x0C: the question name).
        let pointerCount = zip(compressed, compressed.dropFirst()).filter { $0.0 == 0xC0 && $0.1 == 0x0C }.count
        #expect(pointerCount >= 10)
    }

    @Test("a name written once is pointed at by the next owner, RFC 1035 §4.1.4 layout")
    func compressionLayout() throws {
        let owner = name("www.example.com.")
        let message = DNSMessage(
            id: 1, isResponse: true, questions: [DNSQuestion(name: owner, type: .a)],
            answers: [
                DNSRecord(owner: owner, type: .a, ttl: 60, rdata: [192, 0, 2, 1]),
                DNSRecord(owner: name("mail.example.com."), type: .a, ttl: 60, rdata: [192, 0, 2, 2]),
            ])
        let bytes = message.encode()
        // Header 12, question name 17 + 4; first answer owner is a pointer to 12.
        #expect(Array(bytes[33..<35]) == [0xC0, 12])
        // Second owner: "mail" then a pointer to example.com. at 12 + 4 = 16.
        let second = 33 + 2 + 10 + 4
        #expect(Array(bytes[second..<(second + 7)]) == [4, 109, 97, 105, 108, 0xC0, 16])
        #expect(try DNSMessage.decode(bytes) == message)
    }

    @Test("header flags, opcode and every rcode bit survive")
    func headerRoundTrips() throws {
        for opcode in [DNSOpcode.query, .notify, .update, DNSOpcode(rawValue: 15)] {
            for rcode in [DNSRcode.noError, .refused, .notAuthoritative, DNSRcode(rawValue: 15)] {
                let message = DNSMessage(
                    id: 7, isResponse: true, opcode: opcode, isAuthoritative: true, isTruncated: true,
                    recursionDesired: false, recursionAvailable: true, rcode: rcode)
                #expect(try DNSMessage.decode(message.encode()) == message)
            }
        }
    }

    @Test("EDNS: payload size, DO, options and the extended RCODE")
    func ednsRoundTrips() throws {
        let edns = EDNS(udpPayloadSize: 4096, version: 0, dnssecOK: true, options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])
        let message = DNSMessage(id: 9, isResponse: true, rcode: .badVersion, edns: edns)
        let bytes = message.encode()
        // Header RCODE carries the low 4 bits (0), the OPT TTL the upper 8 (1).
        #expect(bytes[3] & 0x0F == 0)
        let decoded = try DNSMessage.decode(bytes)
        #expect(decoded.rcode == .badVersion)
        #expect(decoded.edns == edns)
        // A 12-bit RCODE without EDNS still gets there: an OPT record is added.
        let bare = DNSMessage(id: 9, isResponse: true, rcode: .badCookie)
        #expect(try DNSMessage.decode(bare.encode()).rcode == .badCookie)
    }

    @Test("maxSize drops records from the end and sets TC only for answers")
    func truncation() throws {
        let owner = name("big.example.com.")
        let answers = (0..<100).map { DNSRecord(owner: owner, type: .a, ttl: 60, rdata: [10, 0, 0, UInt8($0)]) }
        let message = DNSMessage(id: 3, isResponse: true, questions: [DNSQuestion(name: owner, type: .a)], answers: answers, edns: EDNS())
        let bytes = message.encode(maxSize: 512)
        #expect(bytes.count <= 512)
        let decoded = try DNSMessage.decode(bytes)
        #expect(decoded.isTruncated)
        #expect(decoded.answers.count > 10 && decoded.answers.count < 100)
        #expect(decoded.answers == Array(answers.prefix(decoded.answers.count)))
        #expect(decoded.edns != nil)

        var onlyExtra = DNSMessage(id: 3, isResponse: true, questions: [DNSQuestion(name: owner, type: .a)], answers: [answers[0]])
        onlyExtra.additional = answers
        let extra = try DNSMessage.decode(onlyExtra.encode(maxSize: 512))
        #expect(!extra.isTruncated)
        #expect(extra.answers.count == 1)
        #expect(extra.additional.count < 100)
    }

    @Test("a transfer's answers split over messages under the limit, in order")
    func splitting() throws {
        let records = (0..<5000).map { index in
            DNSRecord(owner: name("host\(index).example.com."), type: .txt, ttl: 300, rdata: [20] + Array(repeating: UInt8(ascii: "x"), count: 20))
        }
        let template = DNSMessage(id: 77, isResponse: true, isAuthoritative: true, questions: [DNSQuestion(name: name("example.com."), type: .axfr)])
        let messages = try template.encodeSplittingAnswers(records, maxSize: 16000)
        #expect(messages.count > 5)
        var collected: [DNSRecord] = []
        for (index, bytes) in messages.enumerated() {
            #expect(bytes.count <= 16000)
            let message = try DNSMessage.decode(bytes)
            #expect(message.id == 77)
            #expect(!message.isTruncated)
            #expect(message.questions.count == (index == 0 ? 1 : 0))
            collected += message.answers
        }
        #expect(collected == records)
        let huge = DNSRecord(owner: name("x.example.com."), type: .txt, ttl: 1, rdata: Array(repeating: 1, count: 2000))
        #expect(throws: DNSWireError.self) { try template.encodeSplittingAnswers([huge], maxSize: 1000) }
    }

    @Test("query, NOTIFY and response helpers")
    func helpers() throws {
        let zone = name("example.com.")
        let query = DNSMessage.query(id: 42, name: zone, type: .soa)
        let decodedQuery = try DNSMessage.decode(query.encode())
        #expect(decodedQuery.question == DNSQuestion(name: zone, type: .soa))
        #expect(!decodedQuery.isResponse && !decodedQuery.recursionDesired)

        let soa = try SOAData(RData.parse(type: .soa, text: "ns1.example.com. hostmaster.example.com. 2024060101 7200 3600 1209600 300", origin: nil, mode: .api))
        let notify = try DNSMessage.decode(DNSMessage.notify(id: 43, zone: zone, soa: soa).encode())
        #expect(notify.opcode == .notify)
        #expect(notify.opcode.rawValue == 4)
        #expect(notify.isAuthoritative)
        #expect(notify.question == DNSQuestion(name: zone, type: .soa))
        #expect(notify.answerSOA(for: zone)?.serial == ZoneSerial(rawValue: 2024060101))
        #expect(try DNSMessage.decode(DNSMessage.notify(id: 44, zone: zone).encode()).answers.isEmpty)

        var request = DNSMessage.query(id: 45, name: zone, type: .soa, recursionDesired: true)
        request.edns = EDNS(udpPayloadSize: 4096)
        let response = DNSMessage.response(to: request, rcode: .refused)
        #expect(response.id == 45 && response.isResponse && response.recursionDesired)
        #expect(response.rcode == .refused && response.questions == request.questions)
        #expect(response.edns != nil)
    }

    @Test("IXFR query and reply matching")
    func ixfrAndReplies() throws {
        let zone = name("example.com.")
        let soa = try SOAData(RData.parse(type: .soa, text: "ns1 hostmaster 41 7200 3600 1209600 300", origin: zone, mode: .api))
        let ixfr = try DNSMessage.decode(DNSMessage.incrementalTransferQuery(id: 5, zone: zone, currentSOA: soa).encode())
        #expect(ixfr.question == DNSQuestion(name: zone, type: .ixfr))
        #expect(try SOAData(try #require(ixfr.authority.first).resourceRecord().rdata).serial == ZoneSerial(rawValue: 41))

        let notify = DNSMessage.notify(id: 6, zone: zone, soa: soa)
        var reply = DNSMessage.response(to: notify)
        #expect(try DNSMessage.decode(reply.encode()).isReply(to: notify))
        reply.id = 7
        #expect(!reply.isReply(to: notify))
        reply.id = 6
        reply.opcode = .query
        #expect(!reply.isReply(to: notify))
        #expect(!notify.isReply(to: notify))
    }

    @Test("TCP framing: a stream cut anywhere gives back the same messages")
    func tcpFraming() throws {
        let messages = (0..<20).map { DNSMessage.query(id: UInt16($0), name: name("n\($0).example.com."), type: .a).encode() }
        var stream: [UInt8] = []
        for message in messages { stream += try DNSTCPFraming.frame(message) }
        #expect(Array(stream.prefix(2)) == [0, UInt8(messages[0].count)])
        for chunkSize in [1, 2, 3, 7, 64, stream.count] {
            var reader = DNSTCPMessageReader()
            var received: [[UInt8]] = []
            var position = 0
            while position < stream.count {
                reader.append(stream[position..<min(position + chunkSize, stream.count)])
                position += chunkSize
                while let message = reader.nextMessage() { received.append(message) }
            }
            #expect(received == messages)
            #expect(reader.pendingByteCount == 0)
        }
        var partial = DNSTCPMessageReader()
        partial.append([0, 20, 1, 2, 3])
        #expect(partial.nextMessage() == nil)
        #expect(partial.pendingByteCount == 5)
        #expect(throws: DNSWireError.self) { try DNSTCPFraming.frame(Array(repeating: 0, count: 70000)) }
    }

    @Test("compressed names inside RDATA are expanded so DNSModel accepts them")
    func compressedRData() throws {
        // A hand-built answer as BIND sends it: MX exchange and SOA names pointing at the question.
        var bytes: [UInt8] = [0, 1, 0x84, 0, 0, 1, 0, 3, 0, 0, 0, 0]
        bytes += [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 15, 0, 1]  // question at 12
        // MX 10 mail.<ptr 12>
        bytes += [0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 9, 0, 10, 4] + Array("mail".utf8) + [0xC0, 12]
        // SOA ns1.<ptr 12> host.<ptr 12> + 20 octets
        bytes += [0xC0, 12, 0, 6, 0, 1, 0, 0, 0, 60, 0, 33, 3] + Array("ns1".utf8) + [0xC0, 12, 4] + Array("HOST".utf8) + [0xC0, 12]
        bytes += [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5]
        // SRV (RFC 2782 forbids compression; old servers did it anyway) 0 0 80 <ptr 12>
        bytes += [0xC0, 12, 0, 33, 0, 1, 0, 0, 0, 60, 0, 8, 0, 0, 0, 0, 0, 80, 0xC0, 12]
        let message = try DNSMessage.decode(bytes)
        let records = try message.answers.map { try $0.resourceRecord() }
        #expect(records.map { $0.rdata.presentation() } == [
            "10 mail.example.com.",
            "ns1.example.com. host.example.com. 1 2 3 4 5",
            "0 0 80 example.com.",
        ])
    }
}

import DNSModel
import DNSWire
import Testing

@Suite("TSIG signing and checking (RFC 8945)")
struct TSIGTests {
    static let key = TSIGKey(name: name("transfer-key."), algorithm: .hmacSHA256, secret: Array(0..<32))
    static let now: UInt64 = 1_700_000_000
    let clock = TSIGClock.fixed(TSIGTests.now)

    func signedQuery(key: TSIGKey = TSIGTests.key, at time: UInt64 = TSIGTests.now) throws -> TSIGSignedMessage {
        let query = DNSMessage.query(id: 0x4242, name: name("example.com."), type: .axfr).encode()
        return try TSIG.signRequest(query, key: key, clock: .fixed(time))
    }

    @Test("a signed request verifies with the same key, for every algorithm", arguments: TSIGAlgorithm.allCases)
    func roundTrip(algorithm: TSIGAlgorithm) throws {
        let key = TSIGKey(name: name("k.example."), algorithm: algorithm, secret: Array(repeating: 7, count: 40))
        let signed = try signedQuery(key: key)
        #expect(signed.mac.count == algorithm.macLength)
        let decoded = try DNSMessage.decode(signed.bytes)
        let record = try TSIGRecord(try #require(decoded.tsig))
        #expect(record.keyName == key.name && record.algorithm == algorithm.name)
        #expect(record.timeSigned == Self.now && record.fudge == 300 && record.originalID == 0x4242)
        guard case .verified(let message, let request) = TSIG.verifyRequest(signed.bytes, keys: [Self.key, key], clock: clock) else {
            Issue.record("not verified")
            return
        }
        #expect(message.question?.type == .axfr)
        #expect(request.key == key)
        #expect(request.requestMAC == signed.mac)
    }

    func rejection(_ check: TSIGRequestCheck) -> (TSIGError, [UInt8]?)? {
        if case .rejected(let error, let reply) = check { return (error, reply) }
        return nil
    }

    @Test("wrong secret: BADSIG, answered NOTAUTH with an unsigned TSIG")
    func wrongSecret() throws {
        let other = TSIGKey(name: Self.key.name, algorithm: .hmacSHA256, secret: Array(repeating: 1, count: 32))
        let signed = try signedQuery(key: other)
        let (error, reply) = try #require(rejection(TSIG.verifyRequest(signed.bytes, keys: [Self.key], clock: clock)))
        #expect(error.code == .badSignature)
        let answer = try DNSMessage.decode(try #require(reply))
        #expect(answer.rcode == .notAuthoritative && answer.id == 0x4242 && answer.isResponse)
        let tsig = try TSIGRecord(try #require(answer.tsig))
        #expect(tsig.error == .badSignature && tsig.mac.isEmpty)
        // The client sees that the server refused its signature.
        var verifier = TSIGResponseVerifier(key: other, requestMAC: signed.mac, clock: clock)
        let clientError = try #require(throws: TSIGError.self) { _ = try verifier.verify(try #require(reply)) }
        #expect(clientError.code == .badSignature)
    }

    @Test("unknown key name or another algorithm: BADKEY")
    func unknownKey() throws {
        let stranger = TSIGKey(name: name("stranger."), algorithm: .hmacSHA256, secret: Self.key.secret)
        let (error, reply) = try #require(rejection(TSIG.verifyRequest(try signedQuery(key: stranger).bytes, keys: [Self.key], clock: clock)))
        #expect(error.code == .badKey)
        let answer = try DNSMessage.decode(try #require(reply))
        let tsig = try TSIGRecord(try #require(answer.tsig))
        #expect(tsig.error == .badKey)
        let otherAlgorithm = TSIGKey(name: Self.key.name, algorithm: .hmacSHA512, secret: Self.key.secret)
        #expect(rejection(TSIG.verifyRequest(try signedQuery(key: otherAlgorithm).bytes, keys: [Self.key], clock: clock))?.0.code == .badKey)
    }

    @Test("time: 300 s off is accepted, 301 s is BADTIME with a signed answer carrying our time")
    func timeWindow() throws {
        for offset: Int64 in [-300, 0, 300] {
            let signed = try signedQuery(at: UInt64(Int64(Self.now) + offset))
            guard case .verified = TSIG.verifyRequest(signed.bytes, keys: [Self.key], clock: clock) else {
                Issue.record("\(offset) s should be within the fudge")
                continue
            }
        }
        for offset: Int64 in [-301, 301, 100_000] {
            let signed = try signedQuery(at: UInt64(Int64(Self.now) + offset))
            let (error, reply) = try #require(rejection(TSIG.verifyRequest(signed.bytes, keys: [Self.key], clock: clock)))
            #expect(error.code == .badTime)
            let answer = try DNSMessage.decode(try #require(reply))
            #expect(answer.rcode == .notAuthoritative)
            let tsig = try TSIGRecord(try #require(answer.tsig))
            #expect(tsig.error == .badTime && tsig.otherTime == Self.now && !tsig.mac.isEmpty)
            // The client checks the BADTIME answer's MAC and reports the server's time.
            var verifier = TSIGResponseVerifier(key: Self.key, requestMAC: signed.mac, clock: .fixed(UInt64(Int64(Self.now) + offset)))
            let clientError = try #require(throws: TSIGError.self) { _ = try verifier.verify(try #require(reply)) }
            #expect(clientError.code == .badTime && clientError.message.contains(String(Self.now)))
        }
        // A client's huge fudge does not widen the server's window.
        let query = DNSMessage.query(id: 1, name: name("example.com."), type: .soa).encode()
        let wide = try TSIG.signRequest(query, key: Self.key, fudge: 65535, clock: .fixed(Self.now - 1000))
        #expect(rejection(TSIG.verifyRequest(wide.bytes, keys: [Self.key], clock: clock))?.0.code == .badTime)
    }

    @Test("any changed octet of a signed request is BADSIG or FORMERR, never verified")
    func tampering() throws {
        let signed = try signedQuery()
        for index in 0..<signed.bytes.count {
            var bytes = signed.bytes
            bytes[index] ^= 0x01
            switch TSIG.verifyRequest(bytes, keys: [Self.key], clock: clock) {
            case .verified:
                // The header ID is not covered: the MAC uses the original ID (RFC 8945 §4.3.1),
                // so a forwarder may renumber the message.
                #expect(index < 2, "flipping octet \(index) still verified")
            case .unsigned:
                // Only when the flip turns the TSIG record's type into another type.
                let tsigType = 12 + 13 + 4 + Self.key.name.wire.count
                #expect(index == tsigType || index == tsigType + 1)
            case .rejected:
                break
            }
        }
    }

    @Test("a truncated MAC is BADTRUNC when right, FORMERR when too short")
    func truncatedMAC() throws {
        let signed = try signedQuery()
        let message = try DNSMessage.decode(signed.bytes)
        var record = try TSIGRecord(try #require(message.tsig))
        let unsignedBytes = DNSMessage.query(id: 0x4242, name: name("example.com."), type: .axfr).encode()
        func with(mac: [UInt8]) -> [UInt8] {
            record.mac = mac
            var withRecord = try! DNSMessage.decode(unsignedBytes)
            withRecord.tsig = record.record
            return withRecord.encode()
        }
        #expect(rejection(TSIG.verifyRequest(with(mac: Array(signed.mac.prefix(16))), keys: [Self.key], clock: clock))?.0.code == .badTruncation)
        #expect(rejection(TSIG.verifyRequest(with(mac: Array(signed.mac.prefix(8))), keys: [Self.key], clock: clock))?.0.code == .formatError)
        #expect(rejection(TSIG.verifyRequest(with(mac: signed.mac + [0]), keys: [Self.key], clock: clock))?.0.code == .formatError)
        #expect(rejection(TSIG.verifyRequest(with(mac: Array(signed.mac.prefix(15)) + [0]), keys: [Self.key], clock: clock))?.0.code == .badSignature)
    }

    @Test("unsigned and malformed requests")
    func unsignedAndMalformed() throws {
        let query = DNSMessage.query(id: 9, name: name("example.com."), type: .soa).encode()
        guard case .unsigned(let message) = TSIG.verifyRequest(query, keys: [Self.key]) else {
            Issue.record("an unsigned query is .unsigned")
            return
        }
        #expect(message.id == 9)
        let (error, reply) = try #require(rejection(TSIG.verifyRequest(Array(query.prefix(15)), keys: [Self.key])))
        #expect(error.code == .formatError)
        #expect(try DNSMessage.decode(try #require(reply)).rcode == .formatError)
        #expect(rejection(TSIG.verifyRequest([1, 2, 3], keys: [Self.key]))?.1 == nil)
    }

    /// A signed answer of `count` messages; `unsigned` says which ones go without TSIG.
    func signedStream(count: Int, unsigned: Set<Int> = []) throws -> (requestMAC: [UInt8], messages: [[UInt8]]) {
        let request = try signedQuery()
        guard case .verified(let query, let verified) = TSIG.verifyRequest(request.bytes, keys: [Self.key], clock: clock) else {
            throw TSIGError(.badSignature, "request did not verify")
        }
        var signer = verified.responseSigner(clock: clock)
        var messages: [[UInt8]] = []
        for index in 0..<count {
            var answer = DNSMessage.response(to: query)
            answer.answers = [DNSRecord(owner: name("n\(index).example.com."), type: .a, ttl: 60, rdata: [10, 0, UInt8(index >> 8), UInt8(index & 0xFF)])]
            let bytes = answer.encode()
            messages.append(unsigned.contains(index) ? try signer.passUnsigned(bytes) : try signer.sign(bytes))
        }
        return (request.mac, messages)
    }

    @Test("a multi-message answer verifies in order; a changed, dropped or reordered message does not")
    func streams() throws {
        let (mac, messages) = try signedStream(count: 6)
        var verifier = TSIGResponseVerifier(key: Self.key, requestMAC: mac, clock: clock)
        for message in messages { _ = try verifier.verify(message) }
        try verifier.finish()

        var tampered = messages
        tampered[3][tampered[3].count - 60] ^= 0x80
        var broken = TSIGResponseVerifier(key: Self.key, requestMAC: mac, clock: clock)
        for message in tampered.prefix(3) { _ = try broken.verify(message) }
        #expect(throws: TSIGError.self) { _ = try broken.verify(tampered[3]) }

        var skipping = TSIGResponseVerifier(key: Self.key, requestMAC: mac, clock: clock)
        _ = try skipping.verify(messages[0])
        #expect(throws: TSIGError.self) { _ = try skipping.verify(messages[2]) }

        var swapped = TSIGResponseVerifier(key: Self.key, requestMAC: mac, clock: clock)
        #expect(throws: TSIGError.self) { _ = try swapped.verify(messages[1]) }

        // Another request's MAC: the first answer does not verify.
        var wrongRequest = TSIGResponseVerifier(key: Self.key, requestMAC: Array(repeating: 0, count: 32), clock: clock)
        #expect(throws: TSIGError.self) { _ = try wrongRequest.verify(messages[0]) }
    }

    @Test("unsigned messages between signed ones: up to 99, covered by the next MAC")
    func unsignedRuns() throws {
        let (mac, messages) = try signedStream(count: 101, unsigned: Set(1...99))
        var verifier = TSIGResponseVerifier(key: Self.key, requestMAC: mac, clock: clock)
        for message in messages { _ = try verifier.verify(message) }
        try verifier.finish()

        // A changed unsigned message makes the next signed one fail.
        var changed = messages
        changed[50][changed[50].count - 1] ^= 1
        var strict = TSIGResponseVerifier(key: Self.key, requestMAC: mac, clock: clock)
        for message in changed.prefix(100) { _ = try strict.verify(message) }
        #expect(throws: TSIGError.self) { _ = try strict.verify(changed[100]) }

        // 100 unsigned in a row are refused; so is an answer that ends unsigned.
        let (mac2, long) = try signedStream(count: 101, unsigned: Set(1...99))
        var tooMany = TSIGResponseVerifier(key: Self.key, requestMAC: mac2, clock: clock)
        for message in long.prefix(100) { _ = try tooMany.verify(message) }
        #expect(throws: TSIGError.self) { try tooMany.finish() }
        let unsignedHundredth = try DNSMessage.decode(long[99]).encode()
        #expect(throws: TSIGError.self) { _ = try tooMany.verify(unsignedHundredth) }

        var signer = TSIGResponseSigner(key: Self.key, requestMAC: mac, clock: clock)
        #expect(throws: DNSWireError.self) { _ = try signer.passUnsigned(messages[0]) }
    }

    @Test("an unsigned answer to a signed request is refused")
    func unsignedAnswer() throws {
        let signed = try signedQuery()
        var verifier = TSIGResponseVerifier(key: Self.key, requestMAC: signed.mac, clock: clock)
        let answer = DNSMessage.response(to: try DNSMessage.decode(signed.bytes), rcode: .refused)
        let error = try #require(throws: TSIGError.self) { _ = try verifier.verify(answer.encode()) }
        #expect(error.message.contains("not signed"))
        #expect(throws: TSIGError.self) { try verifier.finish() }
    }

    @Test("key secrets read from base64 as tsig-keygen writes them")
    func base64Secret() throws {
        let key = try TSIGKey(name: name("k."), algorithm: .hmacSHA256, base64Secret: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        #expect(key.secret == Array(0..<32))
        #expect(key.base64Secret == "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        #expect(throws: DNSWireError.self) { try TSIGKey(name: name("k."), algorithm: .hmacSHA256, base64Secret: "not base64!") }
        #expect(!key.description.contains(key.base64Secret))
    }
}

import DNSModel

/// Signs the messages of an answer in order (RFC 8945 §5.3.1). The first covers the request's
/// MAC and the full TSIG variables; each later one the previous MAC and only the timers.
/// Signing every message (the simple choice) keeps within the rule that at most 99 go unsigned.
public struct TSIGResponseSigner: Sendable {
    public let key: TSIGKey
    private var priorMAC: [UInt8]
    private var isFirst = true
    private var unsignedSince: [[UInt8]] = []
    private let fudge: UInt16
    private let clock: TSIGClock

    public init(key: TSIGKey, requestMAC: [UInt8], fudge: UInt16 = TSIG.defaultFudge, clock: TSIGClock = .system) {
        self.key = key
        priorMAC = requestMAC
        self.fudge = fudge
        self.clock = clock
    }

    public mutating func sign(_ message: [UInt8]) throws(DNSWireError) -> [UInt8] {
        let signed = try TSIG.sign(
            message, key: key, priorMAC: priorMAC, unsignedBefore: unsignedSince, timersOnly: !isFirst,
            timeSigned: clock.secondsSince1970(), fudge: fudge)
        priorMAC = signed.mac
        unsignedSince = []
        isFirst = false
        return signed.bytes
    }

    /// Lets `message` go unsigned; the next signed message covers it. RFC 8945 §5.3.1 allows
    /// at most 99 in a row, and never the first or the last message of the answer.
    public mutating func passUnsigned(_ message: [UInt8]) throws(DNSWireError) -> [UInt8] {
        guard !isFirst else { throw DNSWireError("the first message of a signed answer must be signed") }
        guard unsignedSince.count < 99 else { throw DNSWireError("99 messages in a row are unsigned already; sign this one") }
        unsignedSince.append(message)
        return message
    }
}

/// Checks the answer to a signed request, one message or a whole transfer (RFC 8945 §5.3):
/// the first message must be signed; later ones may go unsigned, up to 99 in a row, and each
/// signed one covers the previous MAC and the unsigned messages since; the last must be signed
/// (`finish`).
public struct TSIGResponseVerifier: Sendable {
    public let key: TSIGKey
    private var priorMAC: [UInt8]
    private var unsignedSince: [[UInt8]] = []
    private var signedCount = 0
    private let maximumFudge: UInt16
    private let clock: TSIGClock

    public init(key: TSIGKey, requestMAC: [UInt8], maximumFudge: UInt16 = TSIG.defaultFudge, clock: TSIGClock = .system) {
        self.key = key
        priorMAC = requestMAC
        self.maximumFudge = maximumFudge
        self.clock = clock
    }

    /// Checks the next message and returns it decoded.
    public mutating func verify(_ bytes: [UInt8]) throws(TSIGError) -> DNSMessage {
        let message: DNSMessage
        let tsigOffset: Int?
        do {
            (message, tsigOffset) = try DNSMessage.decodeLocatingTSIG(bytes)
        } catch {
            throw TSIGError(.formatError, error.message)
        }
        guard let raw = message.tsig, let tsigOffset else {
            guard signedCount > 0 else {
                throw TSIGError(.badSignature, "the answer is not signed (rcode \(message.rcode)); the server may not know key \(key.name)")
            }
            guard unsignedSince.count < 99 else {
                throw TSIGError(.badSignature, "100 messages in a row are unsigned; RFC 8945 §5.3.1 allows 99")
            }
            unsignedSince.append(bytes)
            return message
        }
        let record: TSIGRecord
        do {
            record = try TSIGRecord(raw)
        } catch {
            throw TSIGError(.formatError, error.message)
        }
        guard record.keyName == key.name, record.algorithm == key.algorithm.name else {
            throw TSIGError(.badKey, "the answer is signed with key \(record.keyName) (\(record.algorithm)), not \(key)")
        }
        if record.error == .badKey || record.error == .badSignature || record.error == .badTruncation, record.mac.isEmpty {
            throw TSIGError(record.error, "the server refused our signature (\(record.error), rcode \(message.rcode)): it does not have key \(key) with this secret")
        }
        if let error = TSIG.checkMAC(bytes, tsigOffset: tsigOffset, record: record, key: key, priorMAC: priorMAC, unsignedBefore: unsignedSince, timersOnly: signedCount > 0) {
            throw error
        }
        if record.error == .badTime {
            let theirs = record.otherTime.map(String.init) ?? "unknown"
            throw TSIGError(.badTime, "the server says our clock is off: we signed at \(record.timeSigned), its time is \(theirs)")
        }
        if record.error != .noError {
            throw TSIGError(record.error, "the server answered with TSIG error \(record.error)")
        }
        if let error = TSIG.checkTime(record, now: clock.secondsSince1970(), maximumFudge: maximumFudge) {
            throw error
        }
        priorMAC = record.mac
        unsignedSince = []
        signedCount += 1
        return message
    }

    /// The answer ended: its last message must have been signed.
    public func finish() throws(TSIGError) {
        guard signedCount > 0 else {
            throw TSIGError(.badSignature, "no signed message was received")
        }
        guard unsignedSince.isEmpty else {
            throw TSIGError(.badSignature, "the last \(unsignedSince.count) messages are unsigned; the final message must be signed")
        }
    }
}

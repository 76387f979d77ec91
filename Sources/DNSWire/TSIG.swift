import DNSModel

/// A message with a TSIG record appended, and the MAC in it (a request's MAC is part of what
/// the answer's MAC covers).
public struct TSIGSignedMessage: Sendable, Equatable {
    public let bytes: [UInt8]
    public let mac: [UInt8]
}

/// Transaction signatures (RFC 8945): signing and checking whole messages with a shared key.
/// Works on encoded octets, because the MAC covers the message exactly as it was sent.
public enum TSIG {
    /// The fudge zonectl signs with and the most it accepts: five minutes (RFC 8945 §10).
    public static let defaultFudge: UInt16 = 300

    // MARK: Client side

    /// Signs an encoded request. Keep the returned MAC to check the answer
    /// (`TSIGResponseVerifier`).
    public static func signRequest(_ message: [UInt8], key: TSIGKey, fudge: UInt16 = defaultFudge, clock: TSIGClock = .system) throws(DNSWireError) -> TSIGSignedMessage {
        try sign(message, key: key, priorMAC: nil, unsignedBefore: [], timersOnly: false, timeSigned: clock.secondsSince1970(), fudge: fudge)
    }

    // MARK: Server side

    /// Checks a request as a server must (RFC 8945 §5.2): key known (BADKEY), MAC right (BADSIG,
    /// BADTRUNC for a truncated one), time within the fudge (BADTIME), in that order. A rejected
    /// request comes with the reply the RFC asks for: NOTAUTH with the TSIG error, unsigned
    /// except for BADTIME; FORMERR for a malformed message.
    public static func verifyRequest(_ bytes: [UInt8], keys: [TSIGKey], maximumFudge: UInt16 = defaultFudge, clock: TSIGClock = .system) -> TSIGRequestCheck {
        let message: DNSMessage
        let tsigOffset: Int?
        do {
            (message, tsigOffset) = try DNSMessage.decodeLocatingTSIG(bytes)
        } catch {
            return .rejected(TSIGError(.formatError, error.message), reply: formatErrorReply(to: bytes))
        }
        guard let raw = message.tsig, let tsigOffset else { return .unsigned(message) }
        let now = clock.secondsSince1970()
        let record: TSIGRecord
        do {
            record = try TSIGRecord(raw)
        } catch {
            var reply = DNSMessage.response(to: message, rcode: .formatError)
            reply.edns = nil
            return .rejected(TSIGError(.formatError, error.message), reply: reply.encode())
        }

        func unsignedRejection(_ error: TSIGError) -> TSIGRequestCheck {
            var answer = DNSMessage.response(to: message, rcode: .notAuthoritative)
            answer.tsig = TSIGRecord(
                keyName: record.keyName, algorithm: record.algorithm, timeSigned: now, fudge: record.fudge,
                mac: [], originalID: message.id, error: error.code
            ).record
            return .rejected(error, reply: answer.encode())
        }

        guard let key = keys.first(where: { $0.name == record.keyName && $0.algorithm.name == record.algorithm }) else {
            let known = keys.contains { $0.name == record.keyName }
            return unsignedRejection(TSIGError(.badKey, known
                ? "TSIG key \(record.keyName) is known here with another algorithm than \(record.algorithm)"
                : "TSIG key \(record.keyName) (\(record.algorithm)) is not known here"))
        }
        if let error = checkMAC(bytes, tsigOffset: tsigOffset, record: record, key: key, priorMAC: nil, unsignedBefore: [], timersOnly: false) {
            if error.code == .formatError {
                var reply = DNSMessage.response(to: message, rcode: .formatError)
                reply.edns = nil
                return .rejected(error, reply: reply.encode())
            }
            return unsignedRejection(error)
        }
        if let error = checkTime(record, now: now, maximumFudge: maximumFudge) {
            // BADTIME is signed, with the request's time and ours in Other Data (RFC 8945 §5.2.3),
            // so the client can trust the clock difference it is told about.
            var otherData: [UInt8] = []
            otherData.appendBigEndian48(now)
            let answer = DNSMessage.response(to: message, rcode: .notAuthoritative).encode()
            let reply = try? sign(
                answer, key: key, priorMAC: record.mac, unsignedBefore: [], timersOnly: false,
                timeSigned: record.timeSigned, fudge: record.fudge, error: .badTime, otherData: otherData)
            return .rejected(error, reply: reply?.bytes)
        }
        return .verified(message, TSIGVerifiedRequest(key: key, record: record))
    }

    /// FORMERR with the request's id, for bytes that do not decode; nil when not even the
    /// header is there.
    static func formatErrorReply(to bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 12, bytes[2] & 0x80 == 0 else { return nil }
        let reply = DNSMessage(
            id: bytes.bigEndianUInt16(at: 0), isResponse: true, opcode: DNSOpcode(rawValue: bytes[2] >> 3 & 0x0F),
            rcode: .formatError)
        return reply.encode()
    }

    // MARK: Shared machinery

    /// Appends a TSIG record signed over: the prior MAC (the request's for a first answer), the
    /// unsigned messages since, this message, and the TSIG variables (only the timers after the
    /// first message of a stream).
    static func sign(
        _ message: [UInt8], key: TSIGKey, priorMAC: [UInt8]?, unsignedBefore: [[UInt8]], timersOnly: Bool,
        timeSigned: UInt64, fudge: UInt16, error: DNSRcode = .noError, otherData: [UInt8] = []
    ) throws(DNSWireError) -> TSIGSignedMessage {
        guard message.count >= 12 else {
            throw DNSWireError("\(message.count) octets is not a DNS message to sign")
        }
        let additionalCount = message.bigEndianUInt16(at: 10)
        guard additionalCount < UInt16.max else {
            throw DNSWireError("the additional section is full; no room for a TSIG record")
        }
        var record = TSIGRecord(
            keyName: key.name, algorithm: key.algorithm.name, timeSigned: timeSigned & 0xFFFF_FFFF_FFFF,
            fudge: fudge, mac: [], originalID: message.bigEndianUInt16(at: 0), error: error, otherData: otherData)
        var parts = macPrefix(priorMAC: priorMAC, unsignedBefore: unsignedBefore)
        parts.append(message[...])
        let variables = record.variables(timersOnly: timersOnly)
        parts.append(variables[...])
        record.mac = key.authenticationCode(over: parts)

        var writer = DNSMessageWriter(compress: false, capacity: message.count + key.signatureSize)
        writer.writeRecord(record.record, compressOwner: false)
        var signed = message
        signed.setBigEndian(additionalCount + 1, at: 10)
        signed += writer.bytes
        guard signed.count <= DNSMessage.maximumSize else {
            throw DNSWireError("the signed message would be \(signed.count) octets, over 65535; leave TSIGKey.signatureSize octets free")
        }
        return TSIGSignedMessage(bytes: signed, mac: record.mac)
    }

    private static func macPrefix(priorMAC: [UInt8]?, unsignedBefore: [[UInt8]]) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        if let priorMAC {
            var length: [UInt8] = []
            length.appendBigEndian(UInt16(priorMAC.count))
            parts.append(length[...])
            parts.append(priorMAC[...])
        }
        for message in unsignedBefore { parts.append(message[...]) }
        return parts
    }

    /// nil when the MAC in `record` is right for `bytes` (whose TSIG record starts at `tsigOffset`).
    static func checkMAC(
        _ bytes: [UInt8], tsigOffset: Int, record: TSIGRecord, key: TSIGKey, priorMAC: [UInt8]?,
        unsignedBefore: [[UInt8]], timersOnly: Bool
    ) -> TSIGError? {
        let full = key.algorithm.macLength
        let size = record.mac.count
        // RFC 8945 §5.2.2.1: longer than the hash or shorter than max(10, half of it) is malformed.
        guard size <= full, size >= max(10, full / 2) else {
            return TSIGError(.formatError, "the \(size)-octet MAC does not fit \(key.algorithm) (\(full) octets, at least \(max(10, full / 2)) when truncated)")
        }
        // The message as it was before signing: original ID, one record fewer.
        var header = Array(bytes[0..<12])
        header.setBigEndian(record.originalID, at: 0)
        header.setBigEndian(bytes.bigEndianUInt16(at: 10) &- 1, at: 10)
        var parts = macPrefix(priorMAC: priorMAC, unsignedBefore: unsignedBefore)
        parts.append(header[...])
        parts.append(bytes[12..<tsigOffset])
        let variables = record.variables(timersOnly: timersOnly)
        parts.append(variables[...])
        let expected = key.authenticationCode(over: parts)
        // Compare in constant time over the octets sent.
        var difference: UInt8 = 0
        for index in 0..<size { difference |= expected[index] ^ record.mac[index] }
        guard difference == 0 else {
            return TSIGError(.badSignature, "the MAC does not match: the message was changed or signed with another secret for key \(key.name)")
        }
        guard size == full else {
            return TSIGError(.badTruncation, "the MAC is truncated to \(size) of \(full) octets; zonectl wants the full MAC")
        }
        return nil
    }

    static func checkTime(_ record: TSIGRecord, now: UInt64, maximumFudge: UInt16) -> TSIGError? {
        let fudge = UInt64(min(record.fudge, maximumFudge))
        let difference = now > record.timeSigned ? now - record.timeSigned : record.timeSigned - now
        guard difference <= fudge else {
            return TSIGError(.badTime, "signed at \(record.timeSigned), now is \(now): \(difference) s apart, more than the \(fudge) s fudge (check both clocks)")
        }
        return nil
    }
}

/// What the server learned from a request's TSIG.
public enum TSIGRequestCheck: Sendable {
    /// No TSIG record: allowed or not by address alone.
    case unsigned(DNSMessage)
    /// Signed with `key`, MAC and time right. Sign every answer with the request's MAC.
    case verified(DNSMessage, TSIGVerifiedRequest)
    /// The reply to send (nil when there is nothing to answer, e.g. fewer than 12 octets).
    case rejected(TSIGError, reply: [UInt8]?)
}

/// A request whose TSIG checked out: the key it used and its MAC, which every answer covers.
public struct TSIGVerifiedRequest: Sendable {
    public let key: TSIGKey
    public let record: TSIGRecord

    public var requestMAC: [UInt8] { record.mac }

    /// Signs a single answer (SOA query, NOTIFY reply, a one-message transfer).
    public func signResponse(_ message: [UInt8], clock: TSIGClock = .system) throws(DNSWireError) -> [UInt8] {
        var signer = responseSigner(clock: clock)
        return try signer.sign(message)
    }

    /// Signs the messages of a multi-message answer (AXFR, IXFR) in order.
    public func responseSigner(clock: TSIGClock = .system) -> TSIGResponseSigner {
        TSIGResponseSigner(key: key, requestMAC: record.mac, clock: clock)
    }
}

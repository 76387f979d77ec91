/// DNS over TCP (RFC 1035 §4.2.2, RFC 7766 §8): every message is preceded by its length as a
/// two-octet big-endian number.
public enum DNSTCPFraming {
    /// The message with its length prefix. A message over 65535 octets cannot be framed.
    public static func frame(_ message: [UInt8]) throws(DNSWireError) -> [UInt8] {
        guard message.count <= DNSMessage.maximumSize else {
            throw DNSWireError("a \(message.count)-octet message does not fit a TCP length prefix (65535 at most)")
        }
        var framed: [UInt8] = []
        framed.reserveCapacity(message.count + 2)
        framed.appendBigEndian(UInt16(message.count))
        framed.append(contentsOf: message)
        return framed
    }
}

/// Splits the octets read from a TCP stream into messages, however the reads cut them.
/// Feed it what `read` returned, then take messages until it has none complete.
public struct DNSTCPMessageReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        // Drop what was already taken before the buffer grows, so a long transfer does not
        // keep every message it read.
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole message, or nil until more octets arrive.
    public mutating func nextMessage() -> [UInt8]? {
        guard buffer.count - start >= 2 else { return nil }
        let length = Int(buffer.bigEndianUInt16(at: start))
        guard buffer.count - start - 2 >= length else { return nil }
        let message = Array(buffer[(start + 2)..<(start + 2 + length)])
        start += 2 + length
        return message
    }

    /// Octets received that do not yet make a whole message (a stream that ends with some has
    /// been cut off mid-message).
    public var pendingByteCount: Int { buffer.count - start }
}

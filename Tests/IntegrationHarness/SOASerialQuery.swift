import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A SOA question asked over UDP to a name server on 127.0.0.1, written and read by hand so
/// the harness needs nothing but Foundation: it checks secondaries that zonectl's own DNS code
/// talks to, so it must not be built from that code.
enum SOASerialQuery {
    /// What one SOA question got back.
    enum Outcome: Equatable {
        /// An authoritative NOERROR answer with the zone's SOA.
        case serial(UInt32)
        /// A reply, but not an authoritative SOA for the zone (SERVFAIL, REFUSED, NOTAUTH,
        /// a referral, or something unreadable).
        case notServed
        /// Nothing came back in time (or the port was closed).
        case noReply
    }

    /// Asks `port` for the SOA of `zone` once and waits up to `timeout` seconds.
    static func ask(zone: String, port: UInt16, timeout: Double) -> Outcome {
        guard let labels = labels(of: zone) else { return .notServed }
        let id = UInt16.random(in: 0...UInt16.max)
        guard let reply = exchange(query(id: id, labels: labels), id: id, port: port, timeout: timeout) else {
            return .noReply
        }
        return serial(in: reply, zone: labels).map(Outcome.serial) ?? .notServed
    }

    /// Whether anything answers a SOA question for `zone` on `port` (any rcode).
    static func answers(zone: String, port: UInt16, timeout: Double) -> Bool {
        ask(zone: zone, port: port, timeout: timeout) != .noReply
    }

    // MARK: Writing the query

    /// The labels of a presentation name ("example.test." or "example.test"), lowercased;
    /// nil for names this simple writer cannot encode (escapes, empty or over-long labels).
    static func labels(of zone: String) -> [[UInt8]]? {
        var text = zone
        if text.hasSuffix(".") { text.removeLast() }
        if text.isEmpty { return [] }
        var labels: [[UInt8]] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(part.lowercased().utf8)
            guard !bytes.isEmpty, bytes.count <= 63, !bytes.contains(UInt8(ascii: "\\")) else { return nil }
            labels.append(bytes)
        }
        return labels
    }

    /// Header (no RD: an authoritative server is asked about its own data) and one question,
    /// SOA in class IN.
    static func query(id: UInt16, labels: [[UInt8]]) -> [UInt8] {
        var message: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in labels {
            message.append(UInt8(label.count))
            message += label
        }
        message += [0, 0, 6, 0, 1]
        return message
    }

    // MARK: Reading the reply

    /// The serial of the first SOA record of class IN owned by the zone's apex in the answer
    /// section, when the reply is an authoritative NOERROR response to a query. Every read is
    /// bounds-checked: a short or odd reply gives nil, never a crash.
    static func serial(in reply: [UInt8], zone: [[UInt8]]) -> UInt32? {
        var reader = WireReader(bytes: reply)
        guard let _ = reader.u16(), let flags = reader.u16(), let questions = reader.u16(), let answers = reader.u16(),
            reader.skip(4)
        else { return nil }
        let isResponse = flags & 0x8000 != 0
        let opcode = (flags >> 11) & 0xf
        let authoritative = flags & 0x0400 != 0
        let rcode = flags & 0xf
        guard isResponse, opcode == 0, authoritative, rcode == 0 else { return nil }
        for _ in 0..<questions {
            guard reader.name() != nil, reader.skip(4) else { return nil }
        }
        for _ in 0..<answers {
            guard let owner = reader.name(), let type = reader.u16(), let rrClass = reader.u16(), reader.skip(4),
                let length = reader.u16()
            else { return nil }
            let end = reader.offset + Int(length)
            guard end <= reply.count else { return nil }
            if type == 6, rrClass == 1, owner == zone {
                // RDATA: MNAME, RNAME (either may be compressed), then SERIAL.
                guard reader.name() != nil, reader.name() != nil, reader.offset + 4 <= end, let serial = reader.u32()
                else { return nil }
                return serial
            }
            reader.offset = end
        }
        return nil
    }

    /// A cursor over a DNS message that refuses to read past its end.
    struct WireReader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u16() -> UInt16? {
            guard offset + 2 <= bytes.count else { return nil }
            defer { offset += 2 }
            return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        }

        mutating func u32() -> UInt32? {
            guard let high = u16(), let low = u16() else { return nil }
            return UInt32(high) << 16 | UInt32(low)
        }

        mutating func skip(_ count: Int) -> Bool {
            guard offset + count <= bytes.count else { return false }
            offset += count
            return true
        }

        /// A possibly compressed name as lowercased labels; the cursor ends after the name as
        /// it stands here. Nil on a truncated name, a bad label type or a pointer loop (more
        /// jumps than a message could need).
        mutating func name() -> [[UInt8]]? {
            var labels: [[UInt8]] = []
            var position = offset
            var resume: Int?
            var jumps = 0
            var length = 0
            while true {
                guard position < bytes.count else { return nil }
                let count = Int(bytes[position])
                switch count & 0xc0 {
                case 0:
                    if count == 0 {
                        offset = resume ?? position + 1
                        return labels
                    }
                    guard position + 1 + count <= bytes.count else { return nil }
                    length += count + 1
                    guard length <= 255 else { return nil }
                    labels.append(bytes[(position + 1)...(position + count)].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
                    position += 1 + count
                case 0xc0:
                    guard position + 1 < bytes.count else { return nil }
                    jumps += 1
                    guard jumps <= 127 else { return nil }
                    if resume == nil { resume = position + 2 }
                    position = (count & 0x3f) << 8 | Int(bytes[position + 1])
                default:
                    return nil
                }
            }
        }
    }

    // MARK: The exchange

    /// Sends `query` from a connected UDP socket and returns the first response carrying the
    /// same id, or nil when none came within `timeout` (other datagrams are ignored).
    static func exchange(_ query: [UInt8], id: UInt16, port: UInt16, timeout: Double) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        guard query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65535)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return nil }
            var wait = timeval(tv_sec: Int(remaining), tv_usec: Int((remaining - Double(Int(remaining))) * 1_000_000))
            if wait.tv_sec == 0 && wait.tv_usec == 0 { wait.tv_usec = 1 }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                // Timed out, or ECONNREFUSED: nobody listens on the port (yet).
                return nil
            }
            guard count >= 12 else { continue }
            let replyID = UInt16(buffer[0]) << 8 | UInt16(buffer[1])
            if replyID == id && buffer[2] & 0x80 != 0 { return Array(buffer[0..<count]) }
        }
    }
}

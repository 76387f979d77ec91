import DNSModel
import DNSWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A DNS client for tests, from a chosen loopback source address (127.0.0.2 is "not a pool
/// server"), over UDP or TCP, signing with a TSIG key when given and checking signed answers.
struct DNSTestClient {
    let port: UInt16
    var source = "127.0.0.1"
    var key: TSIGKey?

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The answer to one query over UDP.
    func udp(_ message: DNSMessage) throws -> DNSMessage {
        let (bytes, verifier) = try prepare(message)
        let fd = try socket(type: SOCK_DGRAM)
        defer { close(fd) }
        for _ in 0..<3 {
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var buffer = [UInt8](repeating: 0, count: 65535)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                return try check(Array(buffer[0..<count]), verifier: verifier, finish: true)
            }
        }
        throw Failure(description: "no UDP answer from port \(port)")
    }

    /// Every message of the answer over TCP; a transfer ends with its closing SOA, or with an
    /// error rcode in the first message.
    func tcp(_ message: DNSMessage) throws -> [DNSMessage] {
        let (bytes, verifier) = try prepare(message)
        var check = verifier
        let fd = try socket(type: SOCK_STREAM)
        defer { close(fd) }
        let framed = try DNSTCPFraming.frame(bytes)
        guard framed.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == framed.count else {
            throw Failure(description: "TCP send failed")
        }
        var reader = DNSTCPMessageReader()
        var messages: [DNSMessage] = []
        var soaCount = 0
        let isTransfer = message.question.map { $0.type == .axfr || $0.type == .ixfr } ?? false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            while let raw = reader.nextMessage() {
                let decoded: DNSMessage
                if var verifier = check {
                    do { decoded = try verifier.verify(raw) } catch { throw Failure(description: "TSIG check failed: \(error)") }
                    check = verifier
                } else {
                    decoded = try DNSMessage.decode(raw)
                }
                messages.append(decoded)
                soaCount += decoded.answers.filter { $0.type == .soa }.count
                let done = !isTransfer || decoded.rcode != .noError
                    || (soaCount >= 2 && decoded.answers.last?.type == .soa)
                    || (soaCount == 1 && messages.count == 1 && decoded.answers.count == 1)
                if done {
                    if let check { try? check.finish() }
                    return messages
                }
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return messages }
            reader.append(buffer[0..<count])
        }
    }

    /// All answer records of a transfer, in order.
    func transfer(_ message: DNSMessage) throws -> [DNSRecord] {
        try tcp(message).flatMap(\.answers)
    }

    private func prepare(_ message: DNSMessage) throws -> ([UInt8], TSIGResponseVerifier?) {
        let bytes = message.encode()
        guard let key else { return (bytes, nil) }
        let signed = try TSIG.signRequest(bytes, key: key)
        return (signed.bytes, TSIGResponseVerifier(key: key, requestMAC: signed.mac))
    }

    private func check(_ bytes: [UInt8], verifier: TSIGResponseVerifier?, finish: Bool) throws -> DNSMessage {
        guard var verifier else { return try DNSMessage.decode(bytes) }
        do {
            let message = try verifier.verify(bytes)
            if finish { try verifier.finish() }
            return message
        } catch {
            throw Failure(description: "TSIG check failed: \(error)")
        }
    }

    func rawSocket() throws -> Int32 { try socket(type: SOCK_STREAM) }

    private func socket(type: __socket_type) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(type.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var time = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, connected == 0 else {
            close(fd)
            throw Failure(description: "cannot connect from \(source) to port \(port): errno \(errno)")
        }
        return fd
    }
}

extension DNSTestClient {
    /// The first answer over TCP to a request signed with `key`, without checking the answer's
    /// signature (a server refusing a bad signature answers unsigned).
    func tcpUnverified(_ message: DNSMessage, signedWith key: TSIGKey) throws -> DNSMessage {
        var unsigned = self
        unsigned.key = nil
        let signed = try TSIG.signRequest(message.encode(), key: key)
        let fd = try unsigned.rawSocket()
        defer { close(fd) }
        let framed = try DNSTCPFraming.frame(signed.bytes)
        _ = framed.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var reader = DNSTCPMessageReader()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let raw = reader.nextMessage() { return try DNSMessage.decode(raw) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure(description: "connection closed without an answer") }
            reader.append(buffer[0..<count])
        }
    }
}

import DNSModel
import DNSWire
import Foundation
import IntegrationHarness
#if canImport(Glibc)
import Glibc
#endif

struct LoopbackError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Plain blocking sockets to 127.0.0.1 for the tests: a DNS client over UDP and TCP, and tiny
/// servers that answer with a handler, so dig and kdig can talk to zonectl's code.
enum LoopbackDNS {
    /// Stops a name server the tests started (SIGTERM, then SIGKILL after 15 s) and removes its
    /// directory.
    static func stop(_ process: ChildProcess, removing directory: URL) {
        process.signal(SIGTERM)
        if (try? process.wait(timeoutSeconds: 15)) == nil {
            process.signal(SIGKILL)
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Waits until a name server started as `process` answers a SOA query for `zone` (rather
    /// than sleeping a fixed time); `isReady` says which answers count.
    static func waitUntilAnswering(_ process: ChildProcess, name: String, port: UInt16, zone: String,
                                   isReady: (DNSMessage) -> Bool) throws {
        let query = DNSMessage.query(id: 1, name: try DomainName(presentation: zone + ".", origin: nil), type: .soa).encode()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else {
                throw LoopbackError("\(name) exited at start: \(process.standardError.suffix(2000))")
            }
            if let reply = try udp(query, port: port, timeout: 0.2, attempts: 1), let message = try? DNSMessage.decode(reply), isReady(message) {
                return
            }
        }
        throw LoopbackError("\(name) did not answer within 30 s: \(process.standardError.suffix(2000))")
    }

    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func setTimeout(_ fd: Int32, seconds: Double) {
        var time = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    }

    static func connect(_ fd: Int32, port: UInt16) -> Bool {
        var target = address(port: port)
        return withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func bind(_ fd: Int32, port: UInt16) -> Bool {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var target = address(port: port)
        return withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    /// One query over UDP; nil when nothing came back in time.
    /// One UDP exchange; the query is sent again (up to `attempts` times) when no answer comes
    /// within `timeout`, as real resolvers do, since a loaded machine may drop a datagram.
    static func udp(_ query: [UInt8], port: UInt16, timeout: Double = 2, attempts: Int = 6) throws -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        setTimeout(fd, seconds: timeout)
        guard connect(fd, port: port) else { throw LoopbackError("connect: \(String(cString: strerror(errno)))") }
        var buffer = [UInt8](repeating: 0, count: 65535)
        for _ in 0..<max(1, attempts) {
            guard query.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == query.count else {
                throw LoopbackError("send: \(String(cString: strerror(errno)))")
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return Array(buffer[0..<count]) }
            // Refused at once (ICMP port unreachable): the server has not opened its UDP socket
            // yet, though it may already answer on TCP. Give it a moment rather than burn the
            // remaining attempts in microseconds.
            if errno == ECONNREFUSED { usleep(500_000) }
        }
        return nil
    }

    /// Sends one framed query over TCP and reads messages until `isLast` says so or the server
    /// closes the connection.
    static func tcp(_ query: [UInt8], port: UInt16, timeout: Double = 10, isLast: ([UInt8]) -> Bool) throws -> [[UInt8]] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        setTimeout(fd, seconds: timeout)
        guard connect(fd, port: port) else { throw LoopbackError("connect to port \(port): \(String(cString: strerror(errno)))") }
        let framed = try DNSTCPFraming.frame(query)
        guard framed.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == framed.count else {
            throw LoopbackError("send: \(String(cString: strerror(errno)))")
        }
        var reader = DNSTCPMessageReader()
        var messages: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 { throw LoopbackError("recv: \(String(cString: strerror(errno))) after \(messages.count) messages") }
            if count == 0 { return messages }
            reader.append(buffer[0..<count])
            while let message = reader.nextMessage() {
                messages.append(message)
                if isLast(message) { return messages }
            }
        }
    }
}

/// A UDP and TCP server on one loopback port, answering each request with what `handler`
/// returns (several messages make a TCP stream; over UDP only the first is sent). Runs on
/// threads of its own until stopped.
final class LoopbackDNSServer: @unchecked Sendable {
    let port: UInt16
    private let udpSocket: Int32
    private let tcpSocket: Int32
    private let handler: @Sendable ([UInt8], _ overTCP: Bool) -> [[UInt8]]
    private let lock = NSLock()
    private var stopped = false
    private var threads: [Thread] = []
    private let finished = DispatchGroup()

    init(port: UInt16, handler: @escaping @Sendable ([UInt8], _ overTCP: Bool) -> [[UInt8]]) throws {
        self.port = port
        self.handler = handler
        udpSocket = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        tcpSocket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard LoopbackDNS.bind(udpSocket, port: port), LoopbackDNS.bind(tcpSocket, port: port), listen(tcpSocket, 8) == 0 else {
            close(udpSocket)
            close(tcpSocket)
            throw LoopbackError("cannot listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        // Short timeouts so the loops notice `stop`.
        LoopbackDNS.setTimeout(udpSocket, seconds: 0.2)
        LoopbackDNS.setTimeout(tcpSocket, seconds: 0.2)
        start { [self] in serveUDP() }
        start { [self] in serveTCP() }
    }

    private func start(_ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let thread = Thread { [finished] in
            body()
            finished.leave()
        }
        thread.start()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        _ = finished.wait(timeout: .now() + 5)
        close(udpSocket)
        close(tcpSocket)
    }

    private func serveUDP() {
        var buffer = [UInt8](repeating: 0, count: 65535)
        while !isStopped {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udpSocket, bytes.baseAddress, bytes.count, 0, $0, &length) }
                }
            }
            guard count > 0 else { continue }
            guard let reply = handler(Array(buffer[0..<count]), false).first else { continue }
            _ = reply.withUnsafeBytes { bytes in
                withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udpSocket, bytes.baseAddress, bytes.count, 0, $0, length) }
                }
            }
        }
    }

    private func serveTCP() {
        while !isStopped {
            let connection = accept(tcpSocket, nil, nil)
            guard connection >= 0 else { continue }
            LoopbackDNS.setTimeout(connection, seconds: 5)
            var reader = DNSTCPMessageReader()
            var buffer = [UInt8](repeating: 0, count: 65536)
            reading: while !isStopped {
                let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                reader.append(buffer[0..<count])
                while let request = reader.nextMessage() {
                    for reply in handler(request, true) {
                        guard let framed = try? DNSTCPFraming.frame(reply) else { break reading }
                        var sent = 0
                        while sent < framed.count {
                            let result = framed[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                            if result <= 0 { break reading }
                            sent += result
                        }
                    }
                }
            }
            close(connection)
        }
    }
}

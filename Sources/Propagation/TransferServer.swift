import DNSWire
import Foundation
import Store
#if canImport(Glibc)
import Glibc
#endif

/// Where the transfer server listens, and how much it takes on.
public struct TransferServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port: UInt16 = 5300
    /// Threads answering UDP (SOA queries, mostly right after a NOTIFY).
    public var udpThreads = 2
    /// TCP connections served at once; more wait in the kernel's backlog.
    public var maxTCPConnections = 32
    /// A TCP connection idle this long is closed (RFC 7766 §6.2.3 suggests seconds, not minutes).
    public var tcpIdleSeconds = 10.0
    /// Database connections for answering.
    public var databaseConnections = 4

    public init() {}
}

/// zonectl as the hidden primary: SOA, AXFR and IXFR over UDP and TCP for the secondaries of
/// each zone's pool (`TransferResponder` decides what to answer).
public final class TransferServer: @unchecked Sendable {
    private let configuration: TransferServerConfiguration
    private let responder: TransferResponder
    private let pool: ConnectionPool
    private let log: @Sendable (String) -> Void
    private let threads = WorkerThreads()
    /// Guards the count of TCP connections being served.
    private let state = NSCondition()
    private var tcpConnections = 0
    private var started = false
    private var udpSocket: Int32 = -1
    private var tcpSocket: Int32 = -1
    public private(set) var boundPort: UInt16 = 0

    public init(configuration: TransferServerConfiguration, conninfo: String, log: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.log = log
        pool = ConnectionPool(configuration: PoolConfiguration(conninfo: conninfo, size: max(1, configuration.databaseConnections)))
        responder = TransferResponder(pool: pool, log: log)
    }

    /// Binds TCP and UDP on the same port (port 0: the kernel picks one for TCP, and UDP takes
    /// the same number) and starts answering.
    public func start() throws(PropagationError) {
        let address = try SocketAddress(host: configuration.host, port: configuration.port)
        let tcp = try Socket.open(family: address.family, type: Int32(SOCK_STREAM.rawValue))
        var on: Int32 = 1
        setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard address.withSockaddr({ bind(tcp, $0, $1) }) == 0, listen(tcp, 128) == 0 else {
            let error = PropagationError.system("cannot listen for DNS over TCP on \(configuration.host) port \(configuration.port)")
            close(tcp)
            throw error
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(tcp, $0, &length) } }
        let port = SocketAddress(storage: bound, length: length).port
        let udpAddress = try SocketAddress(host: configuration.host, port: port)
        let udp = try Socket.open(family: udpAddress.family, type: Int32(SOCK_DGRAM.rawValue))
        guard udpAddress.withSockaddr({ bind(udp, $0, $1) }) == 0 else {
            let error = PropagationError.system("cannot listen for DNS over UDP on \(configuration.host) port \(port)")
            close(udp)
            close(tcp)
            throw error
        }
        // Threads wake up now and then to notice a stop.
        Socket.setReceiveTimeout(udp, seconds: 0.5)
        state.lock()
        started = true
        udpSocket = udp
        tcpSocket = tcp
        boundPort = port
        state.unlock()
        for index in 0..<max(1, configuration.udpThreads) {
            threads.spawn("dns-udp-\(index)") { [self] in serveUDP(udp) }
        }
        threads.spawn("dns-tcp-accept") { [self] in acceptTCP(tcp) }
    }

    /// Stops answering: closes the sockets, lets transfers in progress end (they stop at the
    /// next message), and waits for the threads.
    public func stop() {
        state.lock()
        guard started else {
            state.unlock()
            return
        }
        started = false
        state.unlock()
        // shutdown wakes the accept call; the UDP threads notice within their receive timeout.
        shutdown(tcpSocket, Int32(SHUT_RDWR))
        // An accept loop waiting for a free connection slot looks again every 0.5 s.
        threads.stop()
        close(tcpSocket)
        close(udpSocket)
        pool.close()
    }

    private var isRunning: Bool { threads.isRunning }

    // MARK: - UDP

    private func serveUDP(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65535)
        while isRunning {
            var source = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length) }
                }
            }
            guard count > 0 else { continue }
            let client = SocketAddress(storage: source, length: length)
            for message in responder.respond(to: Array(buffer[0..<count]), from: client.host, overTCP: false) {
                _ = message.withUnsafeBytes { bytes in
                    client.withSockaddr { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, $1) }
                }
            }
        }
    }

    // MARK: - TCP

    private func acceptTCP(_ fd: Int32) {
        while isRunning {
            var source = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let connection = withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &length) }
            }
            guard connection >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if isRunning {
                    log("transfer: accept failed: \(String(cString: strerror(errno)))")
                    Thread.sleep(forTimeInterval: 0.1)
                }
                continue
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            // Each answer is written whole; waiting to coalesce small writes only adds latency.
            var on: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            state.lock()
            while threads.isRunning && tcpConnections >= configuration.maxTCPConnections {
                _ = state.wait(until: Date().addingTimeInterval(0.5))
            }
            tcpConnections += 1
            state.unlock()
            let client = SocketAddress(storage: source, length: length).host
            threads.spawn("dns-tcp") { [self] in
                serveTCP(connection, client: client)
                close(connection)
                state.lock()
                tcpConnections -= 1
                state.broadcast()
                state.unlock()
            }
        }
    }

    /// Answers framed queries on one connection until the client closes it, goes idle, or sends
    /// something that is not DNS.
    private func serveTCP(_ fd: Int32, client: String) {
        Socket.setSendTimeout(fd, seconds: 30)
        var reader = DNSTCPMessageReader()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var idleSince = Date()
        while isRunning {
            Socket.setReceiveTimeout(fd, seconds: 0.5)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return }
            if count < 0 {
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return }
                if Date().timeIntervalSince(idleSince) > configuration.tcpIdleSeconds { return }
                continue
            }
            idleSince = Date()
            reader.append(buffer[0..<count])
            while let message = reader.nextMessage() {
                for answer in responder.respond(to: message, from: client, overTCP: true) {
                    guard let framed = try? DNSTCPFraming.frame(answer), Socket.sendAll(fd, framed) else { return }
                }
                idleSince = Date()
            }
        }
    }
}

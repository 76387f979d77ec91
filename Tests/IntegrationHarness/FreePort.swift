import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel for a loopback port that is free right now (bind to port 0, read it back,
/// close). Tests start real servers on such ports, never on fixed ones.
///
/// A port is handed out once per test process: tests run in parallel and configure servers
/// before starting them, so the kernel could offer the same free port to two of them (seen
/// here: two `named`s on one port, one test then talking to the other's server).
public enum FreePort {
    private static let handedOut = Mutex<Set<UInt16>>([])

    public static func tcp() -> UInt16 {
        for _ in 0..<100 {
            let port = pick(type: Int32(SOCK_STREAM.rawValue))
            if claim(port) { return port }
        }
        fatalError("no unclaimed loopback TCP port")
    }

    /// A port free for both TCP and UDP, for DNS servers that listen on both.
    public static func tcpAndUDP() -> UInt16 {
        for _ in 0..<100 {
            let port = pick(type: Int32(SOCK_STREAM.rawValue))
            if canBind(port: port, type: Int32(SOCK_DGRAM.rawValue)) && claim(port) { return port }
        }
        fatalError("no loopback port free for both TCP and UDP")
    }

    private static func claim(_ port: UInt16) -> Bool {
        handedOut.withLock { $0.insert(port).inserted }
    }

    private static func pick(type: Int32) -> UInt16 {
        let fd = socket(AF_INET, type, 0)
        precondition(fd >= 0, "socket() failed")
        defer { close(fd) }
        var addr = loopback(port: 0)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(bound == 0, "bind() failed")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return UInt16(bigEndian: addr.sin_port)
    }

    private static func canBind(port: UInt16, type: Int32) -> Bool {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = loopback(port: port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }
}

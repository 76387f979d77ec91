import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not start or stop, worded for the operator.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The listening TCP socket, created here rather than by libmicrohttpd so that a failed bind
/// reports errno ("address already in use") instead of a bare NULL daemon.
enum ListeningSocket {
    static func open(host: String, port: UInt16, backlog: Int32) throws(HTTPServerError) -> (fd: Int32, port: UInt16, family: Int32) {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw HTTPServerError("cannot listen on \(host):\(port): the address does not resolve (\(String(cString: gai_strerror(status))))")
        }
        defer { freeaddrinfo(results) }

        let family = first.pointee.ai_family
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw HTTPServerError("cannot create a socket for \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var on: Int32 = 1
        // Lets a restarted server bind while old connections sit in TIME_WAIT.
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 {
            // "::" then serves IPv4 too; an explicit IPv6 address is unaffected.
            var off: Int32 = 0
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(fd)
            let hint: String
            switch code {
            case EADDRINUSE: hint = "; another process is listening there, stop it or choose another port"
            case EACCES: hint = "; ports below 1024 need privileges"
            case EADDRNOTAVAIL: hint = "; that address is not configured on this machine"
            default: hint = ""
            }
            throw HTTPServerError("cannot listen on \(host):\(port): \(String(cString: strerror(code)))\(hint)")
        }
        guard listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw HTTPServerError("cannot listen on \(host):\(port): \(String(cString: strerror(code)))")
        }
        // libmicrohttpd's worker threads share the socket in their epoll sets: accept must not block.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)

        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            close(fd)
            throw HTTPServerError("cannot read back the port bound on \(host): \(String(cString: strerror(errno)))")
        }
        return (fd, boundPort(of: storage), family)
    }

    private static func boundPort(of storage: sockaddr_storage) -> UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { pointer in
            if Int32(storage.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// "127.0.0.1" or "::1" for a peer address from libmicrohttpd.
    static func describe(_ address: UnsafePointer<sockaddr>?) -> String {
        guard let address else { return "unknown" }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                var addr = ipv4.pointee.sin_addr
                return inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil ? cText(text) : "unknown"
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ipv6 in
                var addr = ipv6.pointee.sin6_addr
                return inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil ? cText(text) : "unknown"
            }
        default:
            return "unknown"
        }
    }

    private static func cText(_ characters: [CChar]) -> String {
        String(decoding: characters.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

import DNSWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Asks one server one question over UDP and waits for the matching reply, sending the question
/// again when a datagram seems lost (a busy secondary, or a busy loopback, drops some).
struct DNSDatagramClient {
    /// How long to wait for each try; the whole exchange takes at most their sum.
    var tries: [Double] = [0.25, 0.5, 1.0]

    /// The reply from `address` that `accept` takes (it checks id, question and signature);
    /// replies that do not match are skipped, as a spoofed or late datagram would be.
    func exchange(_ request: [UInt8], with address: SocketAddress, accept: ([UInt8]) -> Bool) throws(PropagationError) -> [UInt8] {
        let fd = try Socket.open(family: address.family, type: Int32(SOCK_DGRAM.rawValue))
        defer { close(fd) }
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            throw .system("cannot reach \(address.host) port \(address.port)")
        }
        var buffer = [UInt8](repeating: 0, count: 65535)
        var lastError = "no answer"
        for wait in tries {
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
                throw .system("cannot send to \(address.host) port \(address.port)")
            }
            let deadline = Date().addingTimeInterval(wait)
            while true {
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { break }
                Socket.setReceiveTimeout(fd, seconds: left)
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK { break }
                    if errno == EINTR { continue }
                    // ICMP port unreachable shows up here: nobody listens there (yet).
                    lastError = String(cString: strerror(errno))
                    break
                }
                let reply = Array(buffer[0..<count])
                if accept(reply) { return reply }
            }
        }
        let total = tries.reduce(0, +)
        throw PropagationError("\(address.host) port \(address.port): \(lastError == "no answer" ? "no answer within \(total) s" : lastError)")
    }
}

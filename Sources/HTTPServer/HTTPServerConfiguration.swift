import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the HTTP server listens and what it tolerates from clients.
public struct HTTPServerConfiguration: Sendable {
    /// Numeric IPv4 or IPv6 address to bind ("127.0.0.1", "::1", "0.0.0.0", "::"); a host name
    /// is resolved and its first address used.
    public var host: String = "127.0.0.1"
    /// 0 lets the kernel pick a free port; read it back from `HTTPServer.boundPort`.
    public var port: UInt16 = 8080
    /// nil (the default): one thread per connection, which runs that connection's handlers
    /// synchronously. A number: a fixed pool of that many threads, each polling its share of the
    /// connections with epoll; a connection stays on the thread that accepted it, so with
    /// handlers that block (on the database) a pool much smaller than the number of clients
    /// leaves requests queued behind each other while CPU sits idle.
    public var threads: Int? = nil
    /// Largest request body accepted when `bodyLimit` gives no answer for the route.
    public var maxBodyBytes: Int = 1 << 20
    /// Per-route body limit (e.g. larger for zone imports); nil means `maxBodyBytes`.
    public var bodyLimit: (@Sendable (_ method: String, _ path: String) -> Int?)? = nil
    /// A connection idle this long (no bytes in either direction) is closed.
    public var connectionTimeoutSeconds: Int = 30
    public var connectionLimit: Int = 1024
    public var perIPConnectionLimit: Int = 256
    /// Receives one line per finished request: "METHOD path status duration-ms [remote]".
    /// nil turns access logging off.
    public var accessLog: (@Sendable (String) -> Void)? = { line in writeLine(line, to: STDERR_FILENO) }

    public init() {}
}

/// Writes `line` and a newline to `descriptor` with write(2), straight from the string's bytes:
/// one line per request, where `FileHandle.write(Data)` cost a copy and dynamic casts each time.
/// A short write is continued; a failed one is dropped, as a log line may be.
func writeLine(_ line: String, to descriptor: Int32) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
        }
    }
}

/// What a handler answers. The server adds `Content-Length` (or chunked transfer coding for
/// streams), `Date`, and `Cache-Control: no-store` unless the handler set a `Cache-Control`.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: HTTPBody

    /// Set by `Router` when it drops a GET body to answer HEAD, so the server can still announce
    /// the framing the GET would have had.
    var headOfGet: HeadOfGet? = nil

    enum HeadOfGet: Sendable {
        case length(Int)
        case stream
    }

    public init(status: Int, headers: HTTPHeaders = .init(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = .bytes(body)
    }

    /// A response whose body is produced while it is sent (see `HTTPBody.stream`).
    public init(status: Int, headers: HTTPHeaders = .init(),
                stream: @escaping @Sendable (inout HTTPBodyWriter) throws -> Void) {
        self.status = status
        self.headers = headers
        self.body = .stream(stream)
    }

    /// `Content-Type: application/json`, compact JSON followed by a newline.
    public static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        var body = value.serialized()
        body.append(0x0A)
        return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: body)
    }

    public static func noContent() -> HTTPResponse { HTTPResponse(status: 204) }

    /// `contentType` is sent as given, e.g. "text/dns" or "text/plain; charset=utf-8".
    public static func text(_ status: Int, _ text: String, contentType: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: Array(text.utf8))
    }
}

/// A response body: either all bytes at once, or a producer that writes it piece by piece.
public enum HTTPBody: Sendable {
    case bytes([UInt8])
    /// The producer writes the body through the writer and returns when done; throwing ends the
    /// response abruptly (the client sees a truncated chunked body, never a clean end).
    ///
    /// The server runs the producer on a thread of its own, started when libmicrohttpd first asks
    /// for data, and hands chunks to libmicrohttpd through a small bounded queue: `write` blocks
    /// while the client is slower than the producer, so at most a few chunks of 64 KiB are held in
    /// memory. When the client goes away `write` throws `HTTPBodyWriter.Cancelled`; let it
    /// propagate. Because it is another thread, the producer must not rely on thread-bound
    /// resources of the handler's worker thread. A HEAD request never runs the producer.
    case stream(@Sendable (inout HTTPBodyWriter) throws -> Void)

    /// The whole body in memory: the bytes, or everything a stream producer writes. For tests and
    /// small bodies.
    public func collect() throws -> [UInt8] {
        switch self {
        case .bytes(let bytes):
            return bytes
        case .stream(let producer):
            let collector = ByteCollector()
            var writer = HTTPBodyWriter(sink: { collector.bytes.append(contentsOf: $0) })
            try producer(&writer)
            try writer.flush()
            return collector.bytes
        }
    }

    private final class ByteCollector { var bytes: [UInt8] = [] }
}

/// Where a stream producer writes the body. Small writes are gathered into chunks of
/// `chunkSize` bytes before they are handed on.
public struct HTTPBodyWriter {
    /// Thrown by `write` when the client has gone away or the server stops.
    public struct Cancelled: Error, CustomStringConvertible {
        public init() {}
        public var description: String { "the client is no longer receiving this response" }
    }

    private var buffer: [UInt8] = []
    private let chunkSize: Int
    private let sink: ([UInt8]) throws -> Void

    /// `sink` receives each gathered chunk; it may block and may throw to stop the producer.
    public init(chunkSize: Int = 64 * 1024, sink: @escaping ([UInt8]) throws -> Void) {
        self.chunkSize = max(1, chunkSize)
        self.sink = sink
        buffer.reserveCapacity(self.chunkSize)
    }

    public mutating func write(_ bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= chunkSize { try flush() }
    }

    public mutating func write(_ text: String) throws {
        try write(text.utf8)
    }

    /// Hands on what is gathered so far (the server also flushes after the producer returns).
    public mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        let chunk = buffer
        buffer.removeAll(keepingCapacity: true)
        try sink(chunk)
    }
}

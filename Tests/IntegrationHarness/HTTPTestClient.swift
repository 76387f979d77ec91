import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A parsed HTTP response as a test sees it.
public struct HTTPTestResponse: Sendable {
    public let status: Int
    /// Header fields in the order received.
    public let headers: [(String, String)]
    /// The body with any chunked transfer coding removed.
    public let body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.0.lowercased() == name.lowercased() })?.1
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a test request failed, with the step that failed.
public struct HTTPTestClientError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A deliberately plain HTTP/1.1 client on POSIX sockets, so tests see exactly what goes over
/// the wire (no URLSession retries, pooling or header rewriting). One connection per request.
public struct HTTPTestClient: Sendable {
    public let host: String
    public let port: Int

    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }

    /// Sends one request with `Connection: close` (and `Content-Length` when there is a body and
    /// the caller set neither it nor `Transfer-Encoding`), and reads the whole response.
    public func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
                     timeoutSeconds: Double = 30) throws -> HTTPTestResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }
        if !body.isEmpty && !framed { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let isHead = method.uppercased() == "HEAD"
        var parsed: HTTPTestResponse?
        let received = try exchange(pieces: [Array(head.utf8) + body], pauseSeconds: 0, timeoutSeconds: timeoutSeconds) { bytes in
            if let response = try Self.parseResponse(bytes, bodyless: isHead, atEnd: false) {
                parsed = response
                return true
            }
            return false
        }
        if let parsed { return parsed }
        guard let response = try Self.parseResponse(received, bodyless: isHead, atEnd: true) else {
            throw HTTPTestClientError("\(method) \(path): the server closed the connection after \(received.count) bytes, before a complete response")
        }
        return response
    }

    /// Sends hand-made bytes and returns everything received until the server closes the
    /// connection. Throws when `timeoutSeconds` pass first.
    public func sendRaw(_ bytes: [UInt8], timeoutSeconds: Double) throws -> [UInt8] {
        try sendPieces([bytes], pauseSeconds: 0, timeoutSeconds: timeoutSeconds)
    }

    /// Like `sendRaw`, but writes the pieces one by one with a pause between them (slow clients,
    /// bodies trickling in).
    public func sendPieces(_ pieces: [[UInt8]], pauseSeconds: Double, timeoutSeconds: Double) throws -> [UInt8] {
        try exchange(pieces: pieces, pauseSeconds: pauseSeconds, timeoutSeconds: timeoutSeconds) { _ in false }
    }

    /// Parses raw bytes from `sendRaw` into a response; throws when they are not one.
    public static func parse(_ bytes: [UInt8], bodyless: Bool = false) throws -> HTTPTestResponse {
        guard let response = try parseResponse(bytes, bodyless: bodyless, atEnd: true) else {
            throw HTTPTestClientError("incomplete HTTP response (\(bytes.count) bytes)")
        }
        return response
    }

    // MARK: - Wire

    /// Writes while reading (a server may answer, e.g. 413, before the request is fully sent),
    /// until `isComplete` says so, the server closes, or the deadline passes.
    private func exchange(pieces: [[UInt8]], pauseSeconds: Double, timeoutSeconds: Double,
                          isComplete: ([UInt8]) throws -> Bool) throws -> [UInt8] {
        let fd = try connectSocket()
        defer { close(fd) }
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        var received: [UInt8] = []
        var pieceIndex = 0
        var pieceOffset = 0
        var nextWriteAt = Date()
        var writing = !pieces.isEmpty
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        while true {
            let now = Date()
            guard now < deadline else {
                throw HTTPTestClientError("no complete answer from \(host):\(port) within \(timeoutSeconds) s (received \(received.count) bytes)")
            }
            let canWrite = writing && now >= nextWriteAt
            var wait = deadline.timeIntervalSince(now)
            if writing && !canWrite { wait = min(wait, nextWriteAt.timeIntervalSince(now)) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN) | (canWrite ? Int16(POLLOUT) : 0), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, (wait * 1000).rounded(.up))))
            if ready < 0 && errno != EINTR {
                throw HTTPTestClientError("poll failed: \(String(cString: strerror(errno)))")
            }
            guard ready > 0 else { continue }

            if poller.revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 {
                    received.append(contentsOf: buffer[0..<count])
                    if try isComplete(received) { return received }
                    continue
                }
                if count == 0 { return received }  // orderly close
                if errno == EAGAIN || errno == EINTR { continue }
                if errno == ECONNRESET && !received.isEmpty { return received }
                if errno == ECONNRESET { return received }
                throw HTTPTestClientError("reading from \(host):\(port) failed: \(String(cString: strerror(errno)))")
            }
            if canWrite && poller.revents & Int16(POLLOUT) != 0 {
                let piece = pieces[pieceIndex]
                let written = piece.withUnsafeBytes { raw in
                    Glibc.send(fd, raw.baseAddress! + pieceOffset, piece.count - pieceOffset, Int32(MSG_NOSIGNAL))
                }
                if written < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    writing = false  // the server stopped reading (EPIPE, ECONNRESET): read its answer
                    continue
                }
                pieceOffset += written
                if pieceOffset == piece.count {
                    pieceIndex += 1
                    pieceOffset = 0
                    writing = pieceIndex < pieces.count
                    nextWriteAt = Date(timeIntervalSinceNow: pauseSeconds)
                }
            }
        }
    }

    private func connectSocket() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let address = results else {
            throw HTTPTestClientError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(results) }
        let fd = socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestClientError("socket() failed: \(String(cString: strerror(errno)))") }
        guard connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(fd)
            throw HTTPTestClientError("cannot connect to \(host):\(port): \(String(cString: strerror(code)))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    // MARK: - Response parsing

    /// nil while more bytes are needed; `atEnd` means the connection is closed, so a body
    /// without framing ends here.
    static func parseResponse(_ bytes: [UInt8], bodyless: Bool, atEnd: Bool) throws -> HTTPTestResponse? {
        var start = 0
        while true {
            guard let headerEnd = find([13, 10, 13, 10], in: bytes, from: start) else {
                if atEnd && !bytes.isEmpty { throw HTTPTestClientError("the response header never ended (\(bytes.count) bytes)") }
                return nil
            }
            let lines = String(decoding: bytes[start..<headerEnd], as: UTF8.self).components(separatedBy: "\r\n")
            let statusParts = lines[0].split(separator: " ", maxSplits: 2)
            guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
                throw HTTPTestClientError("not an HTTP status line: \(lines[0])")
            }
            var headers: [(String, String)] = []
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { throw HTTPTestClientError("malformed header line: \(line)") }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
            let bodyStart = headerEnd + 4
            if (100..<200).contains(status) {  // interim response such as 100 Continue
                start = bodyStart
                continue
            }
            let response = { (body: [UInt8]) in HTTPTestResponse(status: status, headers: headers, body: body) }
            func value(_ name: String) -> String? { headers.first(where: { $0.0.lowercased() == name })?.1 }
            if bodyless || status == 204 || status == 304 { return response([]) }
            if value("transfer-encoding")?.lowercased().contains("chunked") == true {
                // Decoding is linear in the body; only try once the last chunk can be there.
                if !atEnd && !bytes.suffix(5).elementsEqual([0x30, 13, 10, 13, 10]) { return nil }
                return try decodeChunked(bytes, from: bodyStart).map(response)
            }
            if let lengthText = value("content-length") {
                guard let length = Int(lengthText) else { throw HTTPTestClientError("bad Content-Length: \(lengthText)") }
                if bytes.count - bodyStart >= length { return response(Array(bytes[bodyStart..<bodyStart + length])) }
                if atEnd {
                    throw HTTPTestClientError("the body ended after \(bytes.count - bodyStart) of \(length) bytes")
                }
                return nil
            }
            return atEnd ? response(Array(bytes[bodyStart...])) : nil
        }
    }

    private static func decodeChunked(_ bytes: [UInt8], from start: Int) throws -> [UInt8]? {
        var body: [UInt8] = []
        var index = start
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: index) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self)
                .split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw HTTPTestClientError("bad chunk size line: \(sizeText)")
            }
            index = lineEnd + 2
            if size == 0 {
                // Trailer fields, then an empty line.
                while true {
                    guard let end = find([13, 10], in: bytes, from: index) else { return nil }
                    if end == index { return body }
                    index = end + 2
                }
            }
            guard bytes.count >= index + size + 2 else { return nil }
            body.append(contentsOf: bytes[index..<index + size])
            guard bytes[index + size] == 13, bytes[index + size + 1] == 10 else {
                throw HTTPTestClientError("chunk of \(size) bytes not followed by CRLF")
            }
            index += size + 2
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

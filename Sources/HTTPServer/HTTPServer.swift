import CMicroHTTPD
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server on libmicrohttpd: one thread per connection (or a fixed pool of worker
/// threads polling their connections with epoll), running the handler synchronously for
/// complete requests (body included).
///
/// Request bodies are limited per route (413 before reading when `Content-Length` is too big,
/// 413 after reading and dropping the rest of a chunked upload); idle connections are cut after
/// `connectionTimeoutSeconds`. `shutdown` stops accepting, lets running requests finish within
/// a grace period, then closes everything.
public final class HTTPServer: @unchecked Sendable {
    private enum Phase { case idle, running, stopping, stopped }

    private let configuration: HTTPServerConfiguration
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse

    // Guarded by `condition`, which also signals "a request finished" to `shutdown`.
    private let condition = NSCondition()
    private var phase = Phase.idle
    private var daemon: OpaquePointer?
    private var listenFD: Int32 = -1
    private var port: UInt16 = 0
    private var inFlight = 0

    public init(configuration: HTTPServerConfiguration, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.configuration = configuration
        self.handler = handler
    }

    deinit {
        shutdown(graceSeconds: 0)
    }

    /// The port actually listened on (the kernel's pick when configured with port 0); 0 before `start`.
    public var boundPort: UInt16 {
        condition.lock()
        defer { condition.unlock() }
        return port
    }

    /// Binds and starts the worker threads. Throws `HTTPServerError` with the reason (address in
    /// use, address not local, …) when it cannot.
    public func start() throws {
        condition.lock()
        defer { condition.unlock() }
        guard phase == .idle else { throw HTTPServerError("the HTTP server was already started; create a new one") }

        let socket = try ListeningSocket.open(host: configuration.host, port: configuration.port,
                                              backlog: Int32(clamping: max(128, configuration.connectionLimit)))
        // Thread per connection cannot use epoll (libmicrohttpd refuses the pair): it polls.
        let perConnection = configuration.threads == nil
        let flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_ITC.rawValue | MHD_USE_ERROR_LOG.rawValue
            | (perConnection ? MHD_USE_THREAD_PER_CONNECTION.rawValue | MHD_USE_POLL.rawValue : MHD_USE_EPOLL.rawValue)
        let started = zonectl_mhd_start(
            flags, socket.fd,
            UInt32(clamping: max(perConnection ? 0 : 1, configuration.threads ?? 0)),
            UInt32(clamping: max(0, configuration.connectionTimeoutSeconds)),
            UInt32(clamping: max(1, configuration.connectionLimit)),
            UInt32(clamping: max(0, configuration.perIPConnectionLimit)),
            zonectlAccessHandler, Unmanaged.passUnretained(self).toOpaque(),
            zonectlRequestCompleted, Unmanaged.passUnretained(self).toOpaque())
        guard let started else {
            close(socket.fd)
            throw HTTPServerError(
                "libmicrohttpd would not start on \(configuration.host):\(socket.port) (threads \(configuration.threads.map(String.init) ?? "one per connection"), connection limit \(configuration.connectionLimit)); see the messages above")
        }
        daemon = started
        listenFD = socket.fd
        port = socket.port
        phase = .running
    }

    /// Stops accepting connections at once (new ones are refused), waits up to `graceSeconds`
    /// for requests already received to be answered, then closes every connection and stops
    /// the threads. Safe to call more than once and from several threads.
    public func shutdown(graceSeconds: Double) {
        condition.lock()
        guard phase == .running, let daemon else {
            // Someone else is stopping it: wait until they are done so callers can rely on
            // "stopped" after this returns.
            while phase == .stopping { condition.wait() }
            condition.unlock()
            return
        }
        phase = .stopping
        condition.unlock()

        let quiesced = MHD_quiesce_daemon(daemon)
        if quiesced >= 0 {
            // libmicrohttpd says not to close it while its threads run; shutting it down makes
            // the kernel refuse new connections (and drop queued ones) while the fd stays valid.
            Glibc.shutdown(quiesced, Int32(SHUT_RDWR))
        }

        let deadline = Date(timeIntervalSinceNow: max(0, graceSeconds))
        condition.lock()
        while inFlight > 0 && condition.wait(until: deadline) {}
        condition.unlock()

        MHD_stop_daemon(daemon)
        close(listenFD)

        condition.lock()
        self.daemon = nil
        listenFD = -1
        phase = .stopped
        condition.broadcast()
        condition.unlock()
    }

    // MARK: - Request life cycle (called from MHDCallbacks on worker threads)

    /// Headers are in: decide early answers (bad path, body too large) before any body is read.
    func beginRequest(connection: OpaquePointer, method: String, rawPath: String) -> RequestContext {
        condition.lock()
        inFlight += 1
        condition.unlock()

        let path = PercentDecoding.decode(rawPath)
        let limit = path.flatMap { configuration.bodyLimit?(method, $0) } ?? configuration.maxBodyBytes
        let context = RequestContext(method: method, rawPath: rawPath, bodyLimit: limit)
        guard path != nil else {
            queue(HTTPProblem.badRequest("the request path is not valid percent-encoded UTF-8").response,
                  on: connection, context: context)
            return context
        }
        if let declared = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length"),
           let length = Int(String(cString: declared).trimmingHTTPWhitespace()) {
            context.declaredLength = length
            if length > limit {
                context.tooLarge = true
                queue(HTTPProblem.payloadTooLarge(limit: limit).response, on: connection, context: context)
            }
        }
        return context
    }

    /// One piece of body. Returns false to close the connection (endless over-limit upload).
    func receiveBody(_ chunk: UnsafeRawBufferPointer, for context: RequestContext) -> Bool {
        context.receivedBytes += chunk.count
        if context.tooLarge || context.status != nil {
            return context.receivedBytes - context.bodyLimit <= RequestContext.maximumDiscardedBytes
        }
        if context.receivedBytes > context.bodyLimit {
            context.tooLarge = true
            context.body = []
            return true
        }
        if context.body.isEmpty, let declared = context.declaredLength, declared <= context.bodyLimit {
            context.body.reserveCapacity(declared)
        }
        context.body.append(contentsOf: chunk)
        return true
    }

    /// The whole request is in: run the handler and queue its answer.
    func finishRequest(connection: OpaquePointer, context: RequestContext) {
        guard context.status == nil else { return }
        if context.tooLarge {
            queue(HTTPProblem.payloadTooLarge(limit: context.bodyLimit).response, on: connection, context: context)
            return
        }
        let request: HTTPRequest
        switch buildRequest(connection: connection, context: context) {
        case .success(let built): request = built
        case .failure(let problem):
            queue(problem.response, on: connection, context: context)
            return
        }
        context.body = []
        queue(handler(request), on: connection, context: context)
    }

    func endRequest(_ context: RequestContext, termination: MHD_RequestTerminationCode) {
        if let log = configuration.accessLog {
            let elapsed = ContinuousClock.now - context.startedAt
            // Tenths of a millisecond, formatted by hand: String(format:) cost a cheap request
            // about 6% of its CPU.
            let tenths = elapsed.components.seconds * 10_000 + elapsed.components.attoseconds / 100_000_000_000_000
            var line = "\(context.method) \(context.rawPath) \(context.status.map(String.init) ?? "-") "
                + "\(tenths / 10).\(tenths % 10)ms"
            switch termination {
            case .REQUEST_TERMINATED_COMPLETED_OK: break
            case .REQUEST_TERMINATED_TIMEOUT_REACHED: line += " (timed out)"
            case .REQUEST_TERMINATED_DAEMON_SHUTDOWN: line += " (server stopped)"
            case .REQUEST_TERMINATED_CLIENT_ABORT, .REQUEST_TERMINATED_READ_ERROR: line += " (client went away)"
            default: line += " (connection error)"
            }
            if let failure = context.stream?.failureDescription { line += " (stream failed: \(failure))" }
            log(line)
        }
        condition.lock()
        inFlight -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func buildRequest(connection: OpaquePointer, context: RequestContext) -> Result<HTTPRequest, HTTPProblem> {
        guard let path = PercentDecoding.decode(context.rawPath) else {
            return .failure(.badRequest("the request path is not valid percent-encoded UTF-8"))
        }
        let headers = collectFields(connection, kind: .HEADER_KIND)
        var queryItems: [(name: String, value: String)] = []
        // Arguments arrive undecoded (see zonectl_mhd_keep_escaped) except that MHD turned '+' into ' '.
        for (name, value) in collectFields(connection, kind: .GET_ARGUMENT_KIND) {
            guard let decodedName = PercentDecoding.decode(name), let decodedValue = PercentDecoding.decode(value) else {
                return .failure(.badRequest("the query parameter '\(name)' is not valid percent-encoded UTF-8"))
            }
            queryItems.append((decodedName, decodedValue))
        }
        var headerFields = HTTPHeaders()
        for (name, value) in headers { headerFields.add(name, value) }
        return .success(HTTPRequest(
            method: context.method, path: path, rawPath: context.rawPath, queryItems: queryItems,
            headers: headerFields, body: context.body,
            remoteAddress: ListeningSocket.describe(zonectl_mhd_client_address(connection))))
    }

    private func collectFields(_ connection: OpaquePointer, kind: MHD_ValueKind) -> [(String, String)] {
        let collector = FieldCollector()
        withExtendedLifetime(collector) {
            _ = MHD_get_connection_values_n(connection, kind, zonectlHeaderCollector,
                                            Unmanaged.passUnretained(collector).toOpaque())
        }
        return collector.fields
    }

    private func queue(_ response: HTTPResponse, on connection: OpaquePointer, context: RequestContext) {
        var response = response
        if !(200...599).contains(response.status) {
            response = HTTPProblem.internalError("the handler answered with status \(response.status), which is not a final HTTP status").response
        }
        guard let mhdResponse = makeMHDResponse(response, context: context) else {
            context.status = 500
            return  // out of memory in libmicrohttpd; it closes the connection
        }
        defer { MHD_destroy_response(mhdResponse) }
        var hasCacheControl = false
        for field in response.headers {
            if HTTPHeaders.sameName(field.name, "Content-Length") || HTTPHeaders.sameName(field.name, "Transfer-Encoding") {
                continue  // libmicrohttpd frames the body itself
            }
            // A CR or LF would let a value start a new header line.
            if field.name.utf8.contains(where: { $0 < 0x21 || $0 == UInt8(ascii: ":") })
                || field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
                continue
            }
            if HTTPHeaders.sameName(field.name, "Cache-Control") { hasCacheControl = true }
            _ = MHD_add_response_header(mhdResponse, field.name, field.value)
        }
        if !hasCacheControl {
            _ = MHD_add_response_header(mhdResponse, "Cache-Control", "no-store")
        }
        context.status = response.status
        if MHD_queue_response(connection, UInt32(response.status), mhdResponse) != .YES {
            context.status = nil
        }
    }

    private func makeMHDResponse(_ response: HTTPResponse, context: RequestContext) -> OpaquePointer? {
        switch response.body {
        case .bytes(let bytes):
            if context.method == "HEAD", bytes.isEmpty, let head = response.headOfGet {
                // libmicrohttpd never reads a HEAD body; this only sets the framing headers.
                switch head {
                case .length(let length) where length > 0:
                    return MHD_create_response_from_callback(UInt64(length), 1024, zonectlNoBodyReader, nil, nil)
                case .stream:
                    return MHD_create_response_from_callback(zonectl_mhd_size_unknown(), 1024, zonectlNoBodyReader, nil, nil)
                default:
                    break
                }
            }
            return bytes.withUnsafeBytes { raw in
                MHD_create_response_from_buffer(raw.count, UnsafeMutableRawPointer(mutating: raw.baseAddress),
                                                .RESPMEM_MUST_COPY)
            }
        case .stream(let producer):
            let stream = BodyStream(producer: producer)
            let retained = Unmanaged.passRetained(stream).toOpaque()
            guard let created = MHD_create_response_from_callback(
                zonectl_mhd_size_unknown(), 64 * 1024, zonectlStreamReader, retained, zonectlStreamFree)
            else {
                Unmanaged<BodyStream>.fromOpaque(retained).release()
                return nil
            }
            context.stream = stream
            return created
        }
    }
}

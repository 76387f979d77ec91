/// What the server remembers about one request between libmicrohttpd's calls: the body read so
/// far and whether it went over the limit. libmicrohttpd calls back for one connection on one
/// thread at a time, so this needs no lock.
final class RequestContext {
    let method: String
    /// The path as sent, still percent-encoded; also what the access log shows.
    let rawPath: String
    let bodyLimit: Int
    let startedAt = ContinuousClock.now
    var body: [UInt8] = []
    /// The Content-Length header, when sent (chunked uploads have none).
    var declaredLength: Int?
    /// Body bytes seen, including those thrown away after the limit was passed.
    var receivedBytes = 0
    var tooLarge = false
    /// The status queued, once a response is queued.
    var status: Int?
    var stream: BodyStream?

    /// An over-limit chunked upload is read and dropped so the client can be told 413; past this
    /// many dropped bytes the connection is simply closed.
    static let maximumDiscardedBytes = 8 << 20

    init(method: String, rawPath: String, bodyLimit: Int) {
        self.method = method
        self.rawPath = rawPath
        self.bodyLimit = bodyLimit
    }
}

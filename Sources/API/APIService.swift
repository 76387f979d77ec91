import Foundation
import HTTPServer
import Store

/// The REST API: every route, the authentication in front of them, and the one place where
/// errors become problem+json. Handlers run synchronously on libmicrohttpd's worker threads.
public final class APIService: Sendable {
    let pool: ConnectionPool
    let router = Router()
    let log: @Sendable (String) -> Void
    let zoneDefaults: ZoneDefaults
    let zoneCommits: ZoneCommitQueue<ZoneChange, ZoneEditor.Outcome, PostgresConnection.BehindCommit>
    /// What the last batch of each zone knew of it, for the next batch to plan from.
    let zonePlans: ZonePlans
    /// How many batches of changes may run at once (`ZoneCommitQueue` lanes). Changes of one zone
    /// (as named) always wait in the same lane, so they share transactions. One lane measured
    /// best on two cores (bench/api): the fewer lanes, the larger each batch.
    let commitLanes: Int
    let rrsetPages: ResponseCache
    let tokens: TokenCache
    let requests = RequestCounters()
    let rateLimiter: RateLimiter?
    let publicMetrics: Bool

    /// `commitBatch`: most changes committed in one transaction (1: each alone).
    /// `commitLanes`: how many such transactions may run at once.
    /// `responseCacheBytes`: memory for finished RRset pages (0: none).
    /// `tokenCacheSeconds`: how long a token row read once is reused (0: read on every request).
    /// `rateLimit`: requests a second per token and the burst allowed (nil: no limit).
    /// `publicMetrics`: whether `/metrics` answers without an operator token.
    public init(pool: ConnectionPool, zoneDefaults: ZoneDefaults = .placeholder, commitBatch: Int = 32, commitLanes: Int = 1,
                responseCacheBytes: Int = 32 << 20, tokenCacheSeconds: Double = 1,
                rateLimit: (perSecond: Double, burst: Double)? = nil, publicMetrics: Bool = true,
                log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.pool = pool
        self.zoneDefaults = zoneDefaults
        self.log = log
        let zonePlans = ZonePlans()
        self.zonePlans = zonePlans
        zoneCommits = ZoneCommitQueue(maxBatch: commitBatch,
                                      prepareBatch: { APIService.prepareFromPlans($0, pool: pool, plans: zonePlans) },
                                      commitBatch: { APIService.commitZoneChanges($0, pool: pool, plans: zonePlans) })
        self.commitLanes = max(1, commitLanes)
        rrsetPages = ResponseCache(capacityBytes: responseCacheBytes)
        tokens = TokenCache(lifetime: tokenCacheSeconds)
        rateLimiter = rateLimit.map { RateLimiter(perSecond: $0.perSecond, burst: $0.burst) }
        self.publicMetrics = publicMetrics
        registerHealthRoutes()
        registerMetricsRoutes()
        registerAccountRoutes()
        registerTokenRoutes()
        registerZoneRoutes()
        registerRRsetRoutes()
        registerZoneFileRoutes()
        registerZoneChangeRoutes()
        registerPropagationRoutes()
        registerPoolRoutes()
        registerTSIGKeyRoutes()
    }

    /// Entry point for the HTTP server.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let response = router.handle(request)
        requests.record(method: request.method, status: response.status)
        return response
    }

    /// A request that passed authentication.
    struct Call {
        let http: HTTPRequest
        let principal: Principal

        func parameter(_ name: String) -> String { http.pathParameters[name] ?? "" }
    }

    /// Registers a route whose handler needs a valid token. Read-only tokens are refused on every
    /// method but GET/HEAD here, so no handler can forget to check.
    func route(_ method: String, _ pattern: String, _ handler: @escaping @Sendable (Call) throws -> HTTPResponse) {
        router.add(method, pattern) { [self] request in
            respond(to: request) {
                let principal = try authenticate(request)
                if let rateLimiter, let wait = rateLimiter.delay(for: principal.tokenID) {
                    throw Problems.tooManyRequests(retryAfter: wait, limit: rateLimiter)
                }
                if method != "GET" && method != "HEAD" { try principal.requireWrite() }
                return try handler(Call(http: request, principal: principal))
            }
        }
    }

    /// Registers a route anyone may call (health, readiness).
    func publicRoute(_ method: String, _ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        router.add(method, pattern) { [self] request in
            respond(to: request) { try handler(request) }
        }
    }

    private func respond(to request: HTTPRequest, _ body: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            return try body()
        } catch let problem as HTTPProblem {
            return problem.response
        } catch let error as DatabaseError where error.kind == .unavailable {
            log("database unavailable during \(request.method) \(request.path): \(error)")
            return Problems.unavailable("the database is unreachable; retry shortly").response
        } catch let error as DatabaseError where error.isLockNotAvailable {
            // `serve --lock-timeout`: another transaction (a large import, a session outside
            // zonectl) held what this request needed for longer; nothing of it was written.
            log("lock timeout during \(request.method) \(request.path): \(error)")
            return Problems.unavailable("another transaction has held this resource too long (an import or maintenance); nothing was changed, retry shortly").response
        } catch {
            log("internal error during \(request.method) \(request.path): \(error)")
            return Problems.internalError().response
        }
    }

    private func authenticate(_ request: HTTPRequest) throws -> Principal {
        guard let header = request.headers["Authorization"] else {
            throw Problems.unauthorized("send a token as 'Authorization: Bearer <token>'")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problems.unauthorized("the Authorization header must be 'Bearer <token>'")
        }
        // Spaces and tabs around the token are allowed (RFC 9110 §5.5); Foundation's trimming
        // cost every request about 1% of zonectl's CPU time.
        var presented = parts[1]
        while let first = presented.first, first == " " || first == "\t" { presented.removeFirst() }
        while let last = presented.last, last == " " || last == "\t" { presented.removeLast() }
        guard let secret = TokenSecret(presented: String(presented)),
              let row = try tokens.row(id: secret.id, load: { try pool.withConnection { try TokenRepository.find(id: secret.id, on: $0) } }),
              secret.matches(storedHash: row.secretHash)
        else {
            throw Problems.unauthorized("the token is unknown or has been revoked")
        }
        let role: Principal.Role
        switch row.role {
        case .operator: role = .operator
        case .account:
            guard let accountID = row.accountID else { throw Problems.unauthorized("the token has no account") }
            role = .account(id: accountID)
        }
        return Principal(tokenID: row.id, role: role, readOnly: row.readOnly, zones: row.zones.map(Set.init))
    }
}

extension APIService {
    func registerHealthRoutes() {
        publicRoute("GET", "/v1/health") { _ in
            .json(200, .object([("status", .string("ok"))]))
        }
        publicRoute("GET", "/v1/ready") { [pool] _ in
            guard pool.ping() else { throw Problems.unavailable("the database is unreachable") }
            return .json(200, .object([("status", .string("ready"))]))
        }
    }
}

import Foundation

/// Dispatches requests to handlers by method and path pattern.
///
/// Patterns are literal segments and whole-segment parameters: "/v1/zones/{zone}/rrsets/{name}/{type}".
/// A parameter matches one non-empty segment. When several routes match, the one with a literal
/// at the leftmost place where they differ wins ("/v1/zones/export" beats "/v1/zones/{zone}").
/// Paths match exactly: a trailing slash is a different path.
public final class Router: @unchecked Sendable {
    private enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let handler: @Sendable (HTTPRequest) -> HTTPResponse
    }

    // Written only while routes are registered before serving; the lock keeps that honest. An
    // NSLock, not a Synchronization.Mutex: every request reads the routes (docs/architecture.md,
    // "Locks on the request path").
    private let lock = NSLock()
    private var routes: [Route] = []

    public init() {}

    public func add(_ method: String, _ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        let segments = Self.split(pattern).map { piece -> Segment in
            if piece.hasPrefix("{"), piece.hasSuffix("}"), piece.count > 2 {
                return .parameter(String(piece.dropFirst().dropLast()))
            }
            return .literal(piece)
        }
        let route = Route(method: method.uppercased(), segments: segments, handler: handler)
        lock.withLock { routes.append(route) }
    }

    /// Answers 404 for an unknown path and 405 (with `Allow`) for a known path and another
    /// method. HEAD is answered by the GET handler, without the body.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let segments = Self.requestSegments(request)
        let candidates = lock.withLock { routes }.compactMap { route in
            Self.match(route.segments, segments).map { (route, $0) }
        }
        guard !candidates.isEmpty else { return HTTPProblem.notFound(path: request.path).response }

        let isHead = request.method == "HEAD"
        func best(for method: String) -> (Route, [String: String])? {
            candidates.filter { $0.0.method == method }.max { Self.lessSpecific($0.0.segments, $1.0.segments) }
        }
        guard let (route, parameters) = best(for: request.method) ?? (isHead ? best(for: "GET") : nil) else {
            var allowed = Set(candidates.map(\.0.method))
            if allowed.contains("GET") { allowed.insert("HEAD") }
            return HTTPProblem.methodNotAllowed(method: request.method, path: request.path,
                                                allowed: allowed.sorted()).response
        }
        var routed = request
        routed.pathParameters = parameters
        var response = route.handler(routed)
        if isHead && route.method != "HEAD" {
            switch response.body {
            case .bytes(let bytes): response.headOfGet = .length(bytes.count)
            case .stream: response.headOfGet = .stream
            }
            response.body = .bytes([])
        }
        return response
    }

    private static func split(_ path: String) -> [String] {
        var pieces = path.split(separator: Character("/"), omittingEmptySubsequences: false).map(String.init)
        if pieces.first == "" { pieces.removeFirst() }
        return pieces
    }

    private static func requestSegments(_ request: HTTPRequest) -> [String] {
        guard let raw = request.rawPath else { return split(request.path) }
        return split(raw).map { PercentDecoding.decode($0) ?? $0 }
    }

    private static func match(_ pattern: [Segment], _ path: [String]) -> [String: String]? {
        guard pattern.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, piece) in zip(pattern, path) {
            switch segment {
            case .literal(let text):
                guard text == piece else { return nil }
            case .parameter(let name):
                guard !piece.isEmpty else { return nil }
                parameters[name] = piece
            }
        }
        return parameters
    }

    /// True when `a` loses to `b`: at the first place they differ, `a` has a parameter and `b` a literal.
    private static func lessSpecific(_ a: [Segment], _ b: [Segment]) -> Bool {
        for (left, right) in zip(a, b) {
            switch (left, right) {
            case (.parameter, .literal): return true
            case (.literal, .parameter): return false
            default: continue
            }
        }
        return false
    }
}

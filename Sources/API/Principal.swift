import HTTPServer

/// Who is calling, as proven by a token, and what that token may do.
struct Principal: Sendable {
    enum Role: Sendable, Equatable {
        case `operator`
        case account(id: Int64)
    }

    let tokenID: String
    let role: Role
    let readOnly: Bool
    /// Zone names this token is limited to (canonical, trailing dot); nil means all of its account's.
    let zones: Set<String>?

    var isOperator: Bool { role == .operator }

    var accountID: Int64? {
        if case .account(let id) = role { return id }
        return nil
    }

    /// Operator-only resources (accounts, pools, servers, TSIG keys).
    func requireOperator() throws(HTTPProblem) {
        guard isOperator else { throw Problems.forbidden("this action needs an operator token") }
    }

    /// Every method that changes state.
    func requireWrite() throws(HTTPProblem) {
        guard !readOnly else { throw Problems.forbidden("this token is read-only") }
    }

    /// Whether the token may see an account's resources. Callers answer 404, not 403, when it may
    /// not, so a customer cannot probe for other customers' ids.
    func canSee(accountID other: Int64) -> Bool {
        switch role {
        case .operator: return true
        case .account(let id): return id == other
        }
    }
}

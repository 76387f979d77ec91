/// One SQL statement and the values of its `$1…$n`, for `PostgresConnection.queries` and
/// `commit(after:)`, which send several in one round trip.
public struct PostgresStatement: Sendable {
    public var sql: String
    public var parameters: [PostgresParameter]
    /// As in `PostgresConnection.query`: plan it for the values at hand rather than prepare it.
    public var planEachCall: Bool

    public init(_ sql: String, _ parameters: [PostgresParameter] = [], planEachCall: Bool = false) {
        self.sql = sql
        self.parameters = parameters
        self.planEachCall = planEachCall
    }
}

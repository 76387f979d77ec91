/// An API token as stored: never the secret, only its SHA-256.
public struct TokenRow: Sendable, Equatable {
    public enum Role: String, Sendable { case `operator`, account }
    public var id: String
    public var secretHash: [UInt8]
    public var role: Role
    public var accountID: Int64?
    public var readOnly: Bool
    /// Zone names the token is limited to; nil means every zone of its account.
    public var zones: [String]?
    public var description: String
    public var createdAt: String
}

public struct NewToken: Sendable {
    public var id: String
    public var secretHash: [UInt8]
    public var role: TokenRow.Role
    public var accountID: Int64?
    public var readOnly: Bool
    public var zones: [String]?
    public var description: String
    public init(id: String, secretHash: [UInt8], role: TokenRow.Role, accountID: Int64?, readOnly: Bool,
                zones: [String]?, description: String) {
        self.id = id
        self.secretHash = secretHash
        self.role = role
        self.accountID = accountID
        self.readOnly = readOnly
        self.zones = zones
        self.description = description
    }
}

/// SQL for tokens. Zone lists cross the wire as newline-joined text: presentation-form domain
/// names never contain a raw newline, so the join is lossless and needs no array quoting.
public enum TokenRepository {
    static let columns = """
        id, secret_hash, role, account_id, read_only, array_to_string(zones, E'\\n') AS zones,
        zones IS NULL AS all_zones, description,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at
        """

    public static func insert(_ token: NewToken, on db: PostgresConnection) throws -> TokenRow {
        let result = try db.query(
            """
            INSERT INTO api_tokens (id, secret_hash, role, account_id, read_only, zones, description)
            VALUES ($1, $2, $3, $4, $5, string_to_array($6, E'\\n'), $7)
            RETURNING \(columns)
            """,
            [.text(token.id), .bytea(token.secretHash), .text(token.role.rawValue),
             token.accountID.map(PostgresParameter.int) ?? .null, .bool(token.readOnly),
             token.zones.map { .text($0.joined(separator: "\n")) } ?? .null, .text(token.description)])
        return try tokenRow(from: result.rows[0])
    }

    public static func find(id: String, on db: PostgresConnection) throws -> TokenRow? {
        let result = try db.query("SELECT \(columns) FROM api_tokens WHERE id = $1", [.text(id)])
        return try result.rows.first.map(tokenRow(from:))
    }

    /// Tokens in id order after `afterID`; only one account's when `accountID` is given.
    public static func list(accountID: Int64?, afterID: String, limit: Int, on db: PostgresConnection) throws -> [TokenRow] {
        let result = try db.query(
            """
            SELECT \(columns) FROM api_tokens
            WHERE id > $1 AND ($2::bigint IS NULL OR account_id = $2)
            ORDER BY id LIMIT $3
            """,
            [.text(afterID), accountID.map(PostgresParameter.int) ?? .null, .int(Int64(limit))], planEachCall: true)
        return try result.rows.map(tokenRow(from:))
    }

    public static func delete(id: String, on db: PostgresConnection) throws -> Bool {
        try db.query("DELETE FROM api_tokens WHERE id = $1", [.text(id)]).affectedRows == 1
    }

    static func tokenRow(from row: PostgresRow) throws -> TokenRow {
        let roleText = try row.string("role")
        guard let role = TokenRow.Role(rawValue: roleText) else {
            throw DatabaseError(kind: .query, sqlState: nil, message: "unknown token role \(roleText)", detail: nil, constraint: nil)
        }
        let allZones = try row.bool("all_zones")
        let zonesText = row["zones"] ?? ""
        return TokenRow(
            id: try row.string("id"), secretHash: try row.bytea("secret_hash"), role: role,
            accountID: try row.optionalInt("account_id"), readOnly: try row.bool("read_only"),
            zones: allZones ? nil : (zonesText.isEmpty ? [] : zonesText.split(separator: "\n").map(String.init)),
            description: try row.string("description"), createdAt: try row.string("created_at"))
    }
}

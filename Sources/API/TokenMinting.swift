import Store

/// Tokens made outside HTTP: `zonectl token create` bootstraps the first operator token, since
/// no request can be authenticated before one exists.
public enum TokenMinting {
    public struct Minted: Sendable {
        public let id: String
        public let token: String
    }

    public static func mint(pool: ConnectionPool, accountID: Int64?, readOnly: Bool, description: String) throws -> Minted {
        let secret = TokenSecret.generate()
        let row = try pool.withConnection { db in
            try TokenRepository.insert(NewToken(
                id: secret.id, secretHash: secret.secretHash, role: accountID == nil ? .operator : .account,
                accountID: accountID, readOnly: readOnly, zones: nil, description: description), on: db)
        }
        return Minted(id: row.id, token: secret.presented)
    }

    /// Whether the presented token is one this database would accept.
    public static func isValid(pool: ConnectionPool, presented: String) throws -> Bool {
        guard let secret = TokenSecret(presented: presented),
              let row = try pool.withConnection({ try TokenRepository.find(id: secret.id, on: $0) })
        else { return false }
        return secret.matches(storedHash: row.secretHash)
    }
}

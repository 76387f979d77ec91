import Crypto

/// The bearer token a client presents: `zct_<id>_<secret>`.
///
/// The id (64 random bits, hex) finds the stored row; the secret (256 random bits, base64url)
/// is checked against its stored SHA-256 in constant time. The secret itself is never stored.
struct TokenSecret: Sendable {
    static let prefix = "zct_"
    let id: String
    let secret: String

    var presented: String { "\(Self.prefix)\(id)_\(secret)" }
    var secretHash: [UInt8] { Self.hash(secret) }

    static func generate() -> TokenSecret {
        var rng = SystemRandomNumberGenerator()
        let idBytes = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return TokenSecret(id: idBytes.map { hexDigits[Int($0 >> 4)] + hexDigits[Int($0 & 0xF)] }.joined(),
                           secret: base64URL(secretBytes))
    }

    /// Parses a presented token; nil for anything not of our shape (answered 401 like an unknown token).
    init?(presented: String) {
        guard presented.hasPrefix(Self.prefix) else { return nil }
        let rest = presented.dropFirst(Self.prefix.count)
        let parts = rest.split(separator: "_", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 16, parts[0].allSatisfy(\.isHexDigit),
              parts[1].count == 43, parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        self.init(id: parts[0].lowercased(), secret: String(parts[1]))
    }

    private init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// Compares in time independent of where the hashes differ, so response timing tells an
    /// attacker nothing about how close a guess was.
    func matches(storedHash: [UInt8]) -> Bool {
        let candidate = secretHash
        guard candidate.count == storedHash.count else { return false }
        var difference: UInt8 = 0
        for index in candidate.indices { difference |= candidate[index] ^ storedHash[index] }
        return difference == 0
    }

    static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    private static let hexDigits = (0..<16).map { String($0, radix: 16) }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var out = ""
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[(buffer >> bits) & 0x3F])
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (6 - bits)) & 0x3F]) }
        return out
    }
}

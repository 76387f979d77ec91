import Crypto
import DNSModel

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
        return TokenSecret(id: Base16.encode(idBytes),
                           secret: base64URL(secretBytes))
    }

    /// Parses a presented token; nil for anything not of our shape (answered 401 like an unknown
    /// token). Every request does this, so it works on the UTF-8 bytes: `zct_`, 16 hex digits,
    /// `_`, 43 base64url characters.
    init?(presented: String) {
        let bytes = Array(presented.utf8)
        let prefix = Array(Self.prefix.utf8)
        let idStart = prefix.count, secretStart = prefix.count + 17
        guard bytes.count == secretStart + 43, bytes.starts(with: prefix), bytes[idStart + 16] == UInt8(ascii: "_") else { return nil }
        let id = bytes[idStart..<idStart + 16], secret = bytes[secretStart...]
        func isHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
        }
        func isBase64URL(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        guard id.allSatisfy(isHex), secret.allSatisfy(isBase64URL) else { return nil }
        self.init(id: String(decoding: id, as: UTF8.self).lowercased(), secret: String(decoding: secret, as: UTF8.self))
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

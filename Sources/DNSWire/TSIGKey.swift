import Crypto
import DNSModel
import Foundation

/// The HMAC algorithms TSIG keys can use (RFC 8945 §6). HMAC-MD5 is left out: it is deprecated
/// and nothing zonectl talks to needs it.
public enum TSIGAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    case hmacSHA1 = "hmac-sha1"
    case hmacSHA256 = "hmac-sha256"
    case hmacSHA384 = "hmac-sha384"
    case hmacSHA512 = "hmac-sha512"

    /// The name that identifies the algorithm in the TSIG record ("hmac-sha256.").
    public var name: DomainName {
        try! DomainName(presentation: rawValue + ".", origin: nil)
    }

    public init?(name: DomainName) {
        guard let algorithm = TSIGAlgorithm.allCases.first(where: { $0.name == name }) else { return nil }
        self = algorithm
    }

    /// Octets of a full MAC.
    public var macLength: Int {
        switch self {
        case .hmacSHA1: 20
        case .hmacSHA256: 32
        case .hmacSHA384: 48
        case .hmacSHA512: 64
        }
    }

    public var description: String { rawValue }
}

/// A shared secret for TSIG (RFC 8945): the key's name, its algorithm and the secret octets.
/// The description leaves the secret out, so a key can be logged.
public struct TSIGKey: Hashable, Sendable, CustomStringConvertible {
    public let name: DomainName
    public let algorithm: TSIGAlgorithm
    public let secret: [UInt8]

    public init(name: DomainName, algorithm: TSIGAlgorithm, secret: [UInt8]) {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
    }

    /// A key as BIND's `key` statement and `dig -y` write the secret: base64.
    public init(name: DomainName, algorithm: TSIGAlgorithm, base64Secret: String) throws(DNSWireError) {
        guard let data = Data(base64Encoded: base64Secret), !data.isEmpty else {
            throw DNSWireError("the secret of TSIG key \(name) is not base64 (as tsig-keygen prints it)")
        }
        self.init(name: name, algorithm: algorithm, secret: Array(data))
    }

    public var base64Secret: String { Data(secret).base64EncodedString() }

    /// The most a TSIG record signed with this key adds to a message (with room for the 6
    /// octets of Other Data a BADTIME answer carries), to keep under a size limit.
    public var signatureSize: Int {
        name.wire.count + 10 + algorithm.name.wire.count + 16 + algorithm.macLength + 6
    }

    public var description: String { "\(name) (\(algorithm))" }

    /// HMAC over the parts in order, as if they were one buffer.
    func authenticationCode(over parts: [ArraySlice<UInt8>]) -> [UInt8] {
        let key = SymmetricKey(data: secret)
        switch algorithm {
        case .hmacSHA1: return Self.hmac(Insecure.SHA1.self, key: key, parts: parts)
        case .hmacSHA256: return Self.hmac(SHA256.self, key: key, parts: parts)
        case .hmacSHA384: return Self.hmac(SHA384.self, key: key, parts: parts)
        case .hmacSHA512: return Self.hmac(SHA512.self, key: key, parts: parts)
        }
    }

    private static func hmac<Hash: HashFunction>(_: Hash.Type, key: SymmetricKey, parts: [ArraySlice<UInt8>]) -> [UInt8] {
        var code = HMAC<Hash>(key: key)
        for part in parts { code.update(data: part) }
        return Array(code.finalize())
    }
}

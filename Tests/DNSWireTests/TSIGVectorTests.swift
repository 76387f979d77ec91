import DNSModel
import DNSWire
import Testing

/// Signed queries byte for byte as another implementation writes them. The vectors were made
/// with dnspython 2.9.2 (`dns.message.make_query("example.com.", "SOA", use_edns=False)`, id
/// 0x1234, flags 0, `use_tsig` with key `vector-key.` = octets 0…31, fudge 300, time
/// 1,700,000,000), independent of this project's code.
@Suite("TSIG known vectors (dnspython)")
struct TSIGVectorTests {
    struct Vector: Sendable, CustomStringConvertible {
        let algorithm: TSIGAlgorithm
        let signedHex: String
        let macHex: String
        var description: String { algorithm.rawValue }
    }

    static let vectors = [
        Vector(
            algorithm: .hmacSHA256,
            signedHex: "123400000001000000000001076578616d706c6503636f6d00000600010a766563746f722d6b65790000fa00ff00000000003d0b686d61632d7368613235360000006553f100012c00207d4eee51b578535374ee105fd16194e4060207e962158cecc021ecc3da47bc9f123400000000",
            macHex: "7d4eee51b578535374ee105fd16194e4060207e962158cecc021ecc3da47bc9f"),
        Vector(
            algorithm: .hmacSHA512,
            signedHex: "123400000001000000000001076578616d706c6503636f6d00000600010a766563746f722d6b65790000fa00ff00000000005d0b686d61632d7368613531320000006553f100012c0040ec346b6a6397ec33594255599502e315ef62fe954014285858b53b0aa29da3a253d02bb81b9a00bd409474a0a6d41784761ec2f93d75867a61959b3e7be11074123400000000",
            macHex: "ec346b6a6397ec33594255599502e315ef62fe954014285858b53b0aa29da3a253d02bb81b9a00bd409474a0a6d41784761ec2f93d75867a61959b3e7be11074"),
    ]

    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }

    static func key(_ algorithm: TSIGAlgorithm) throws -> TSIGKey {
        TSIGKey(name: try DomainName(presentation: "vector-key.", origin: .root), algorithm: algorithm, secret: Array(0..<32))
    }

    @Test("our signature of the same query is dnspython's, octet for octet", arguments: vectors)
    func signsLikeDnspython(vector: Vector) throws {
        let query = DNSMessage.query(id: 0x1234, name: try DomainName(presentation: "example.com.", origin: .root), type: .soa).encode()
        let signed = try TSIG.signRequest(query, key: Self.key(vector.algorithm), clock: .fixed(1_700_000_000))
        #expect(signed.bytes == Self.bytes(vector.signedHex))
        #expect(signed.mac == Self.bytes(vector.macHex))
    }

    @Test("dnspython's signed query verifies here; one changed octet does not", arguments: vectors)
    func verifiesDnspython(vector: Vector) throws {
        let wire = Self.bytes(vector.signedHex)
        guard case .verified(let message, let request) = TSIG.verifyRequest(wire, keys: [try Self.key(vector.algorithm)], clock: .fixed(1_700_000_100)) else {
            Issue.record("dnspython's \(vector.algorithm) query did not verify")
            return
        }
        #expect(message.id == 0x1234 && request.requestMAC == Self.bytes(vector.macHex))
        var changed = wire
        changed[14] ^= 0x20
        if case .verified = TSIG.verifyRequest(changed, keys: [try Self.key(vector.algorithm)], clock: .fixed(1_700_000_100)) {
            Issue.record("a changed query verified")
        }
    }
}

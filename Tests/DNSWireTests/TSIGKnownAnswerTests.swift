import DNSModel
import DNSWire
import Foundation
import Testing

/// Requests signed by other implementations, captured once from `dig -y` (BIND 9.18) and
/// `kdig -y` (Knot 3.2) sent to a listening socket. zonectl must accept them at the time they
/// were signed and, signing the same message at the same time, produce the same octets.
@Suite("TSIG known answers from dig and kdig")
struct TSIGKnownAnswerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let tool: String
        let key: TSIGKey
        let hex: String
        let timeSigned: UInt64

        var testDescription: String { "\(tool) \(key.algorithm)" }
        var bytes: [UInt8] { hexOctets(hex) }
    }

    static let vectors: [Vector] = [
        // dig -y hmac-sha256:zonectl-test:AAECAw…Hh8= example.com SOA (with EDNS and a cookie)
        Vector(
            tool: "dig",
            key: try! TSIGKey(name: name("zonectl-test."), algorithm: .hmacSHA256, base64Secret: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
            hex: "bdff01200001000000000002076578616d706c6503636f6d000006000100002904d000000000000c000a0008ed15b9b8d13d5f930c7a6f6e6563746c2d746573740000fa00ff00000000003d0b686d61632d7368613235360000006b069fbe012c0020dfb2c3ccf89b8799b4a7a515c5daced6c6e38d52b283e01849cd63adafc34082bdff00000000",
            timeSigned: 0x6B06_9FBE),
        // kdig -y hmac-sha512:zonectl-512:AAECAw…Pz8= example.com SOA
        Vector(
            tool: "kdig",
            key: TSIGKey(name: name("zonectl-512."), algorithm: .hmacSHA512, secret: Array(0..<64)),
            hex: "9c9601200001000000000001076578616d706c6503636f6d00000600010b7a6f6e6563746c2d3531320000fa00ff00000000005d0b686d61632d7368613531320000006b069fd1012c004084750b75843b82bdcad3e2c83632dcd0af617b709620d4074316c598fa4f65b546d721211c9c03f99ed192354ae2295df7a3f751fb6e25abd037a91fb3d2d13d9c9600000000",
            timeSigned: 0x6B06_9FD1),
    ]

    @Test("accepted at the time it was signed, BADTIME an hour later", arguments: vectors)
    func verifies(vector: Vector) throws {
        guard case .verified(let message, let request) = TSIG.verifyRequest(vector.bytes, keys: [vector.key], clock: .fixed(vector.timeSigned + 10)) else {
            Issue.record("\(vector.tool)'s request did not verify")
            return
        }
        #expect(message.question == DNSQuestion(name: name("example.com."), type: .soa))
        #expect(request.key == vector.key)
        #expect(request.record.timeSigned == vector.timeSigned)
        guard case .rejected(let error, _) = TSIG.verifyRequest(vector.bytes, keys: [vector.key], clock: .fixed(vector.timeSigned + 3600)) else {
            Issue.record("an hour later must be BADTIME")
            return
        }
        #expect(error.code == .badTime)
    }

    @Test("signing the same message at the same time gives the same octets", arguments: vectors)
    func reproduces(vector: Vector) throws {
        var message = try DNSMessage.decode(vector.bytes)
        message.tsig = nil
        let unsigned = message.encode()
        let signed = try TSIG.signRequest(unsigned, key: vector.key, clock: .fixed(vector.timeSigned))
        #expect(signed.bytes == vector.bytes)
        #expect(signed.mac.count == vector.key.algorithm.macLength)
    }
}

func hexOctets(_ text: String) -> [UInt8] {
    var octets: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        octets.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return octets
}

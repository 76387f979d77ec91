import DNSModel
import DNSWire
import Foundation
import IntegrationHarness
import Synchronization
import Testing

/// zonectl's code as the server, dig and kdig as clients: our verifier accepts what they sign
/// and refuses a wrong secret; they accept what we sign, one answer or a multi-message AXFR.
@Suite("Interop with dig and kdig as TSIG clients", .serialized)
struct DigInteropTests {
    static let key256 = NamedInteropTests.key256
    static let key512 = NamedInteropTests.key512
    static let zone = InteropZone.origin

    /// What the server saw: one line a request ("verified", "unsigned" or the TSIG error).
    final class Outcomes: Sendable {
        private let lines = Mutex<[String]>([])
        func record(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    static func transferRecords() throws -> [DNSRecord] {
        let zoneRecords = try InteropZone.records().map(DNSRecord.init)
        let soa = zoneRecords[0]
        let filler = (0..<2000).map { index in
            DNSRecord(owner: name("f\(index).example.com."), type: .txt, ttl: 300, rdata: [40] + Array(repeating: UInt8(ascii: "y"), count: 40))
        }
        return zoneRecords + filler + [soa]
    }

    /// Answers SOA queries and AXFR for example.com., signing when the request was signed.
    /// `signEvery` > 1 leaves messages of a transfer unsigned in between (never the last).
    /// `forgeAnswers` signs answers with the right key name but another secret, to show the
    /// clients do check.
    func withServer<T>(signEvery: Int = 1, forgeAnswers: Bool = false, _ body: (UInt16, Outcomes) throws -> T) throws -> T {
        let outcomes = Outcomes()
        let records = try Self.transferRecords()
        let keys = [Self.key256, Self.key512]
        let server = try LoopbackDNSServer(port: FreePort.tcpAndUDP()) { request, overTCP in
            switch TSIG.verifyRequest(request, keys: keys) {
            case .unsigned(let message):
                outcomes.record("unsigned")
                return [DNSMessage.response(to: message, rcode: .refused).encode()]
            case .rejected(let error, let reply):
                outcomes.record("\(error.code)")
                return reply.map { [$0] } ?? []
            case .verified(let message, let verified):
                outcomes.record("verified \(verified.key.algorithm)")
                var answer = DNSMessage.response(to: message)
                answer.isAuthoritative = true
                if message.question?.type == .axfr && overTCP {
                    answer.edns = nil
                    let parts = (try? answer.encodeSplittingAnswers(records, maxSize: 16000 - verified.key.signatureSize)) ?? []
                    var signer = verified.responseSigner()
                    return parts.enumerated().compactMap { index, part in
                        let sign = index % signEvery == 0 || index == parts.count - 1
                        return sign ? try? signer.sign(part) : try? signer.passUnsigned(part)
                    }
                }
                answer.answers = [records[0]]
                if forgeAnswers {
                    let forged = TSIGKey(name: verified.key.name, algorithm: verified.key.algorithm, secret: Array(repeating: 9, count: 32))
                    var signer = TSIGResponseSigner(key: forged, requestMAC: verified.requestMAC)
                    return [(try? signer.sign(answer.encode())) ?? []]
                }
                return [(try? verified.signResponse(answer.encode())) ?? []]
            }
        }
        defer { server.stop() }
        return try body(server.port, outcomes)
    }

    func yOption(_ key: TSIGKey, secret: String? = nil) -> String {
        "\(key.algorithm.rawValue):\(key.name.description.dropLast()):\(secret ?? key.base64Secret)"
    }

    func run(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(tool, arguments, timeoutSeconds: 60)
        return result.output + result.error
    }

    @Test("dig -y: we verify its query, it verifies our answer", arguments: [key256, key512])
    func digQuery(key: TSIGKey) throws {
        try withServer { port, outcomes in
            let output = try run("dig", ["-y", yOption(key), "@127.0.0.1", "-p", "\(port)", "+tries=1", "+time=5", "+norec", "example.com.", "SOA"])
            #expect(outcomes.all == ["verified \(key.algorithm)"])
            #expect(output.contains("status: NOERROR"), "\(output)")
            #expect(output.contains("2024010101"))
            #expect(output.contains("TSIG PSEUDOSECTION"))
            #expect(!output.contains("Couldn't verify") && !output.contains("WARNING"), "\(output)")
        }
    }

    @Test("dig and kdig notice an answer signed with another secret")
    func forgedAnswers() throws {
        try withServer(forgeAnswers: true) { port, outcomes in
            let dig = try run("dig", ["-y", yOption(Self.key256), "@127.0.0.1", "-p", "\(port)", "+tries=1", "+time=5", "+norec", "example.com.", "SOA"])
            #expect(dig.contains("Couldn't verify") || dig.contains("could not be validated"), "\(dig)")
            let kdig = try run("kdig", ["-y", yOption(Self.key256), "@127.0.0.1", "-p", "\(port)", "+retry=0", "+timeout=5", "example.com.", "SOA"])
            #expect(kdig.contains("failed to verify") || kdig.contains("WARNING"), "\(kdig)")
            #expect(outcomes.all.count == 2 && outcomes.all.allSatisfy { $0.hasPrefix("verified") })
        }
    }

    @Test("kdig -y: we verify its query, it verifies our answer", arguments: [key256, key512])
    func kdigQuery(key: TSIGKey) throws {
        try withServer { port, outcomes in
            let output = try run("kdig", ["-y", yOption(key), "@127.0.0.1", "-p", "\(port)", "+retry=0", "+timeout=5", "example.com.", "SOA"])
            #expect(outcomes.all == ["verified \(key.algorithm)"])
            #expect(output.contains("status: NOERROR"), "\(output)")
            #expect(output.contains("2024010101"))
            #expect(!output.contains("WARNING") && !output.contains("failed"), "\(output)")
        }
    }

    @Test("a wrong secret from dig is BADSIG here, and dig sees NOTAUTH/BADSIG")
    func digWrongSecret() throws {
        try withServer { port, outcomes in
            let wrong = Data(repeating: 0x42, count: 32).base64EncodedString()
            let output = try run("dig", ["-y", yOption(Self.key256, secret: wrong), "@127.0.0.1", "-p", "\(port)", "+tries=1", "+time=5", "example.com.", "SOA"])
            #expect(outcomes.all == ["\(DNSRcode.badSignature)"])
            #expect(output.contains("status: NOTAUTH"), "\(output)")
            #expect(output.contains("BADSIG"), "\(output)")
            // A key we do not have at all.
            let stranger = TSIGKey(name: name("stranger."), algorithm: .hmacSHA256, secret: Self.key256.secret)
            let second = try run("dig", ["-y", yOption(stranger), "@127.0.0.1", "-p", "\(port)", "+tries=1", "+time=5", "example.com.", "SOA"])
            #expect(outcomes.all.last == "\(DNSRcode.badKey)")
            #expect(second.contains("BADKEY"), "\(second)")
        }
    }

    @Test("dig -y AXFR: our multi-message signed transfer verifies", arguments: [1, 3])
    func digTransfer(signEvery: Int) throws {
        try withServer(signEvery: signEvery) { port, outcomes in
            let output = try run("dig", ["-y", yOption(Self.key256), "@127.0.0.1", "-p", "\(port)", "+tries=1", "+time=10", "example.com.", "AXFR"])
            #expect(outcomes.all == ["verified \(TSIGAlgorithm.hmacSHA256)"])
            let expected = try Self.transferRecords().count
            #expect(output.contains("XFR size: \(expected) records"), "\(output.suffix(500))")
            #expect(!output.contains("Couldn't verify") && !output.contains("WARNING") && !output.contains("failed"), "\(output.suffix(500))")
            let messages = output.split(separator: "\n").first { $0.contains("XFR size") }
            #expect(messages.map { !$0.contains("messages 1,") } == true)
        }
    }

    @Test("kdig -y AXFR: our multi-message signed transfer verifies")
    func kdigTransfer() throws {
        try withServer { port, outcomes in
            let output = try run("kdig", ["-y", yOption(Self.key512), "@127.0.0.1", "-p", "\(port)", "+retry=0", "+timeout=10", "example.com.", "AXFR"])
            #expect(outcomes.all == ["verified \(TSIGAlgorithm.hmacSHA512)"])
            let expected = try Self.transferRecords().count
            #expect(output.contains("\(expected) records"), "\(output.suffix(500))")
            #expect(!output.contains("WARNING") && !output.contains("failed"), "\(output.suffix(500))")
        }
    }
}

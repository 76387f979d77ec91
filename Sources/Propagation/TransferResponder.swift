import DNSModel
import DNSWire
import Store
import ZoneData

/// Answers what secondaries ask their primary: SOA, AXFR and IXFR for hosted zones, to the
/// servers of each zone's pool only. Everything else is refused: this is a hidden primary,
/// not a public name server.
struct TransferResponder: Sendable {
    let pool: ConnectionPool
    let log: @Sendable (String) -> Void
    /// Largest message of a transfer over TCP. Well under 65535, so a lost TCP segment costs
    /// little and a TSIG record always fits.
    var transferMessageSize = 16384

    /// The messages to send back (none when the datagram deserves no answer).
    func respond(to bytes: [UInt8], from client: String, overTCP: Bool) -> [[UInt8]] {
        let signed = (try? DNSMessage.decode(bytes))?.tsig != nil
        let keys: [TSIGKey]
        do {
            keys = signed ? try pool.withConnection { try TransferRepository.keys(on: $0) }.compactMap(Self.key) : []
        } catch {
            log("transfer: cannot read TSIG keys: \(error)")
            return failure(bytes, rcode: .serverFailure)
        }
        let request: DNSMessage
        var verified: TSIGVerifiedRequest?
        switch TSIG.verifyRequest(bytes, keys: keys) {
        case .rejected(let error, let reply):
            log("transfer: refused a request from \(client): \(error)")
            return reply.map { [$0] } ?? []
        case .unsigned(let message):
            request = message
        case .verified(let message, let verification):
            request = message
            verified = verification
        }
        guard !request.isResponse else { return [] }

        var reply = DNSMessage.response(to: request)
        func answer(_ rcode: DNSRcode) -> [[UInt8]] {
            reply.rcode = rcode
            return sign([reply.encode()], with: verified)
        }
        guard request.opcode == .query else { return answer(.notImplemented) }
        guard request.questions.count == 1, let question = request.question else { return answer(.formatError) }
        guard question.questionClass == DNSClass.internet, [RRType.soa, .axfr, .ixfr].contains(question.type) else {
            return answer(.refused)
        }
        if question.type == .axfr && !overTCP { return answer(.formatError) }

        do {
            return try pool.withConnection { db in
                // A SOA answer is one statement; a transfer reads several, from one snapshot
                // (its BEGIN travels with the first of them).
                let isTransfer = question.type != .soa && overTCP
                func read(_ body: (PostgresConnection) throws -> [[UInt8]]) throws -> [[UInt8]] {
                    isTransfer ? try db.transaction(isolation: .repeatableRead, body) : try body(db)
                }
                return try read { db in
                    guard let found = try TransferRepository.zone(named: question.name.description, askedFrom: client, on: db) else {
                        return answer(.refused)
                    }
                    let zone = try HostedZone(found.zone)
                    guard Self.allowed(found.serverKeys, verified: verified) else {
                        log("transfer: refused \(question.type) of \(zone.name) to \(client)\(verified.map { " (key \($0.key.name))" } ?? ""): not a server of the zone's pool, or not with its key")
                        return answer(.refused)
                    }
                    reply.isAuthoritative = true
                    let records: [DNSRecord]
                    switch question.type {
                    case .soa:
                        records = [try ZoneTransferContent.soaRecord(zone)]
                    case .ixfr:
                        records = try incremental(request, zone: zone, overTCP: overTCP, on: db)
                    default:
                        records = try ZoneTransferContent.fullTransfer(zone, on: db)
                    }
                    let room = transferMessageSize - (verified?.key.signatureSize ?? 0)
                    let messages = try reply.encodeSplittingAnswers(records, maxSize: overTCP ? room : 512 - (verified?.key.signatureSize ?? 0))
                    return sign(messages, with: verified)
                }
            }
        } catch {
            log("transfer: \(question) from \(client) failed: \(error)")
            return answer(.serverFailure)
        }
    }

    /// IXFR: nothing newer (one SOA), the journal's differences, or the whole zone. Over UDP
    /// only the SOA, which tells the client to come back over TCP (RFC 1995 §2).
    private func incremental(_ request: DNSMessage, zone: HostedZone, overTCP: Bool, on db: PostgresConnection) throws -> [DNSRecord] {
        let current = try ZoneTransferContent.soaRecord(zone)
        guard let clientRecord = request.authority.first(where: { $0.type == .soa }),
              let clientData = try? RData(type: .soa, wire: clientRecord.rdata),
              let clientSOA = try? SOAData(clientData) else {
            // No SOA to start from: RFC 1995 leaves it to the server; the whole zone is right.
            return overTCP ? try ZoneTransferContent.fullTransfer(zone, on: db) : [current]
        }
        if clientSOA.serial == zone.serial || clientSOA.serial.isNewer(than: zone.serial) || !overTCP {
            return [current]
        }
        if let difference = try ZoneTransferContent.incrementalTransfer(zone, from: clientSOA.serial, on: db) {
            return difference
        }
        return try ZoneTransferContent.fullTransfer(zone, on: db)
    }

    /// A server of the pool at this address, with the key the request was signed with, or
    /// without a key when the request is unsigned (a keyed server must sign).
    static func allowed(_ serverKeys: [String?], verified: TSIGVerifiedRequest?) -> Bool {
        if let verified {
            return serverKeys.contains { $0 == nil || $0 == verified.key.name.description }
        }
        return serverKeys.contains { $0 == nil }
    }

    private func sign(_ messages: [[UInt8]], with verified: TSIGVerifiedRequest?) -> [[UInt8]] {
        guard let verified else { return messages }
        var signer = verified.responseSigner()
        do {
            return try messages.map { try signer.sign($0) }
        } catch {
            log("transfer: cannot sign the answer with \(verified.key.name): \(error)")
            return []
        }
    }

    private func failure(_ bytes: [UInt8], rcode: DNSRcode) -> [[UInt8]] {
        guard let request = try? DNSMessage.decode(bytes), !request.isResponse else { return [] }
        return [DNSMessage.response(to: request, rcode: rcode).encode()]
    }

    static func key(_ row: TSIGKeyRow) -> TSIGKey? {
        guard let name = try? DomainName(presentation: row.name, origin: .root),
              let algorithm = TSIGAlgorithm(rawValue: row.algorithm) else { return nil }
        return TSIGKey(name: name, algorithm: algorithm, secret: row.secret)
    }
}

import DNSModel
import DNSWire

/// Sends one NOTIFY (RFC 1996) to one secondary and waits for its acknowledgement.
///
/// The NOTIFY carries the new SOA in its answer section, so a secondary that already has the
/// serial can skip its refresh query. Replies are matched on id, opcode and question, not on AA:
/// Knot answers without it. A keyed server's reply must carry a valid signature.
struct NotifySender {
    var client = DNSDatagramClient()

    func notify(zone: DomainName, soa: SOAData, ttl: UInt32, to server: SecondaryEndpoint) throws(PropagationError) {
        let message = DNSMessage.notify(id: UInt16.random(in: 0...UInt16.max), zone: zone, soa: soa, ttl: ttl)
        let reply = try DNSSignedExchange(client: client).exchange(message, with: server)
        guard reply.rcode == .noError else {
            throw PropagationError("\(server) answered the NOTIFY with \(reply.rcode)\(hint(for: reply.rcode))")
        }
    }

    private func hint(for rcode: DNSRcode) -> String {
        switch rcode {
        case .refused, .notAuthoritative:
            return ": it does not accept NOTIFY for this zone from zonectl's address (check its allow-notify / acl and that the zone is configured there)"
        case .notImplemented:
            return ": it does not take NOTIFY at all"
        default:
            return ""
        }
    }
}

/// Asks a secondary which serial of a zone it serves, as any resolver would ask it.
struct SerialProbe {
    var client = DNSDatagramClient()

    enum Answer {
        case serial(ZoneSerial)
        /// REFUSED, NOTAUTH, SERVFAIL…: the zone is not loaded there, or (Knot, for a catalog it
        /// reads) not answered for.
        case notServed(String)
    }

    func answer(for zone: DomainName, at server: SecondaryEndpoint) throws(PropagationError) -> Answer {
        let message = DNSMessage.query(id: UInt16.random(in: 0...UInt16.max), name: zone, type: .soa)
        let reply = try DNSSignedExchange(client: client).exchange(message, with: server)
        guard reply.rcode == .noError else {
            return .notServed("\(server) answers the SOA query for \(zone) with \(reply.rcode): it does not serve the zone (yet)")
        }
        guard let soa = reply.answerSOA(for: zone) else {
            throw PropagationError("\(server) answers the SOA query for \(zone) without its SOA record")
        }
        guard reply.isAuthoritative else {
            return .notServed("\(server) answers for \(zone) but not authoritatively: it does not have the zone loaded")
        }
        return .serial(soa.serial)
    }
}

/// One request and its reply over UDP, signed and checked with the server's key when it has one.
struct DNSSignedExchange {
    let client: DNSDatagramClient

    func exchange(_ message: DNSMessage, with server: SecondaryEndpoint) throws(PropagationError) -> DNSMessage {
        var bytes = message.encode()
        var verifier: TSIGResponseVerifier?
        if let key = server.key {
            do {
                let signed = try TSIG.signRequest(bytes, key: key)
                bytes = signed.bytes
                verifier = TSIGResponseVerifier(key: key, requestMAC: signed.mac)
            } catch {
                throw PropagationError("cannot sign for \(server): \(error)")
            }
        }
        var accepted: DNSMessage?
        var signatureError: TSIGError?
        do throws(PropagationError) {
            _ = try client.exchange(bytes, with: server.address) { reply in
            guard let decoded = try? DNSMessage.decode(reply), decoded.isReply(to: message) else { return false }
            if var check = verifier {
                do throws(TSIGError) {
                    accepted = try check.verify(reply)
                } catch {
                    // A reply with a bad signature is not the reply; keep waiting, remember why.
                    signatureError = error
                    return false
                }
            } else {
                accepted = decoded
            }
            return true
            }
        } catch {
            if let signatureError { throw PropagationError("\(server): its reply failed the TSIG check: \(signatureError)") }
            throw error
        }
        guard let accepted else { throw PropagationError("\(server): no valid reply") }
        return accepted
    }
}

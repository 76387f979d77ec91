import DNSModel

/// A DNS message (RFC 1035 §4.1). OPT and TSIG are kept out of `additional`: OPT as `edns`,
/// the TSIG record raw in `tsig` for the TSIG layer, which signs and checks the message octets.
public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    /// QR: this is a response.
    public var isResponse: Bool
    public var opcode: DNSOpcode
    /// AA
    public var isAuthoritative: Bool
    /// TC
    public var isTruncated: Bool
    /// RD
    public var recursionDesired: Bool
    /// RA
    public var recursionAvailable: Bool
    /// AD (RFC 4035 §3.2.3)
    public var authenticData: Bool
    /// CD (RFC 4035 §3.2.2)
    public var checkingDisabled: Bool
    /// The whole 12-bit code: the header's 4 bits plus, with EDNS, the OPT record's upper 8.
    public var rcode: DNSRcode
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]
    /// Additional records other than OPT and TSIG.
    public var additional: [DNSRecord]
    public var edns: EDNS?
    /// The TSIG record, always last in the additional section on the wire.
    public var tsig: DNSRecord?

    public init(
        id: UInt16, isResponse: Bool = false, opcode: DNSOpcode = .query, isAuthoritative: Bool = false,
        isTruncated: Bool = false, recursionDesired: Bool = false, recursionAvailable: Bool = false,
        authenticData: Bool = false, checkingDisabled: Bool = false, rcode: DNSRcode = .noError,
        questions: [DNSQuestion] = [], answers: [DNSRecord] = [], authority: [DNSRecord] = [],
        additional: [DNSRecord] = [], edns: EDNS? = nil, tsig: DNSRecord? = nil
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.rcode = rcode
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
        self.edns = edns
        self.tsig = tsig
    }

    /// The first question; DNS in practice has exactly one.
    public var question: DNSQuestion? { questions.first }

    // MARK: Messages zonectl sends

    /// A query without recursion (zonectl only asks authoritative servers).
    public static func query(id: UInt16, name: DomainName, type: RRType, recursionDesired: Bool = false) -> DNSMessage {
        DNSMessage(id: id, recursionDesired: recursionDesired, questions: [DNSQuestion(name: name, type: type)])
    }

    /// An IXFR request (RFC 1995 §3): the SOA the client has goes in the authority section.
    public static func incrementalTransferQuery(id: UInt16, zone: DomainName, currentSOA: SOAData) -> DNSMessage {
        DNSMessage(
            id: id, questions: [DNSQuestion(name: zone, type: .ixfr)],
            authority: [DNSRecord(owner: zone, type: .soa, ttl: 0, rdata: currentSOA.rdata.wire)])
    }

    /// A NOTIFY (RFC 1996 §3): opcode NOTIFY, AA set, the zone's SOA as the question and, when
    /// given, the new SOA in the answer section so the secondary can skip the refresh query if
    /// it already has that serial.
    public static func notify(id: UInt16, zone: DomainName, soa: SOAData? = nil, ttl: UInt32 = 0) -> DNSMessage {
        var message = DNSMessage(
            id: id, opcode: .notify, isAuthoritative: true, questions: [DNSQuestion(name: zone, type: .soa)])
        if let soa {
            message.answers = [DNSRecord(owner: zone, type: .soa, ttl: ttl, rdata: soa.rdata.wire)]
        }
        return message
    }

    /// The frame of an answer to `request`: same id, opcode, question and RD/CD bits, QR set,
    /// EDNS answered with EDNS (RFC 6891 §7). Records and AA are the caller's to add.
    public static func response(to request: DNSMessage, rcode: DNSRcode = .noError) -> DNSMessage {
        DNSMessage(
            id: request.id, isResponse: true, opcode: request.opcode,
            recursionDesired: request.recursionDesired, checkingDisabled: request.checkingDisabled,
            rcode: rcode, questions: request.questions,
            edns: request.edns.map { _ in EDNS() })
    }

    /// Whether this is the reply to `request`: a response with its id, opcode and question.
    /// AA is not required: Knot answers NOTIFY without it.
    public func isReply(to request: DNSMessage) -> Bool {
        isResponse && id == request.id && opcode == request.opcode && questions == request.questions
    }

    /// The SOA data in the answer section for `zone`, if there is one that parses.
    public func answerSOA(for zone: DomainName) -> SOAData? {
        for record in answers where record.type == .soa && record.owner == zone {
            if let data = try? RData(type: .soa, wire: record.rdata), let soa = try? SOAData(data) {
                return soa
            }
        }
        return nil
    }
}

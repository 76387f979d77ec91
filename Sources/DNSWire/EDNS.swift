/// The OPT pseudo-record's contents (RFC 6891 §6.1). The extended RCODE bits live in
/// `DNSMessage.rcode`, which is the whole 12-bit code.
public struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can take; values under 512 mean 512 (RFC 6891 §6.2.3).
    public var udpPayloadSize: UInt16
    public var version: UInt8
    /// The DO bit (RFC 3225).
    public var dnssecOK: Bool
    public var options: [EDNSOption]

    /// 1232 octets avoids IP fragmentation on the common paths (DNS flag day 2020).
    public init(udpPayloadSize: UInt16 = 1232, version: UInt8 = 0, dnssecOK: Bool = false, options: [EDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    /// Octets the OPT record takes in a message.
    var wireSize: Int {
        11 + options.reduce(0) { $0 + 4 + $1.data.count }
    }
}

/// One option of an OPT record, kept as code and octets.
public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]

    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }
}

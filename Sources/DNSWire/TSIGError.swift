/// Why a TSIG check failed. `code` is what goes in the TSIG error field of an answer (BADSIG,
/// BADKEY, BADTIME, BADTRUNC), or FORMERR when the message or its TSIG record is malformed.
public struct TSIGError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: DNSRcode
    public let message: String

    public init(_ code: DNSRcode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

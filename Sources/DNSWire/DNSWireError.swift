/// Why bytes are not a DNS message zonectl can use, or why a message cannot be built.
/// The message names the offset and the rule, so a capture can be checked by hand.
public struct DNSWireError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

import DNSModel

/// One entry of the question section (RFC 1035 §4.1.2).
public struct DNSQuestion: Hashable, Sendable, CustomStringConvertible {
    public var name: DomainName
    public var type: RRType
    public var questionClass: UInt16

    public init(name: DomainName, type: RRType, questionClass: UInt16 = DNSClass.internet) {
        self.name = name
        self.type = type
        self.questionClass = questionClass
    }

    public var description: String { "\(name) \(questionClass == DNSClass.internet ? "IN" : "CLASS\(questionClass)") \(type)" }
}

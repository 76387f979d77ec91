import DNSModel
import DNSWire
import Store
#if canImport(Glibc)
import Glibc
#endif

/// A secondary as zonectl talks to it: where it listens and the key its messages are signed with.
struct SecondaryEndpoint: Sendable, CustomStringConvertible {
    let address: SocketAddress
    let key: TSIGKey?

    init(host: String, port: Int64, key: TSIGKeyRow?) throws(PropagationError) {
        guard let port = UInt16(exactly: port) else { throw PropagationError("port \(port) is out of range") }
        address = try SocketAddress(host: host, port: port)
        if let key {
            guard let name = try? DomainName(presentation: key.name, origin: .root),
                  let algorithm = TSIGAlgorithm(rawValue: key.algorithm) else {
                throw PropagationError("TSIG key \(key.name) (\(key.algorithm)) is not usable")
            }
            self.key = TSIGKey(name: name, algorithm: algorithm, secret: key.secret)
        } else {
            self.key = nil
        }
    }

    var description: String {
        let where_ = address.family == AF_INET6 ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
        return key.map { "\(where_) (key \($0.name))" } ?? where_
    }
}

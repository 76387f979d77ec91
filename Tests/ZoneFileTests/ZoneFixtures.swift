import DNSModel
import Foundation

/// The shared test zones, copied into Tests/Fixtures/zones so the tests run wherever the
/// repository is cloned, and a zone holding every record type zonectl supports.
enum ZoneFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/zones")

    /// Valid zones: file name and the zone's origin (the name before ".zone").
    static var validZones: [String] {
        files(in: directory)
    }

    static var invalidZones: [String] {
        files(in: directory.appendingPathComponent("invalid")).map { "invalid/\($0)" }
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// The origin of a fixture: the file's own `$ORIGIN` line (the invalid ones are named for
    /// their fault, not their zone).
    static func origin(of name: String) throws -> DomainName {
        let text = String(decoding: try bytes(name), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("$ORIGIN ") {
            return try DomainName(presentation: String(line.dropFirst(8)).trimmingCharacters(in: .whitespaces), origin: .root)
        }
        return try DomainName(presentation: String(name.split(separator: "/").last!.dropLast(5)) + ".", origin: .root)
    }

    private static func files(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".zone") }.sorted()
    }

    /// One of every type, written the way people write them, with the in-zone targets that
    /// `named-checkzone -i local` wants to find addresses for.
    static let everyTypeOrigin = try! DomainName(presentation: "alltypes.example.", origin: nil)
    static let everyType = """
        $ORIGIN alltypes.example.
        $TTL 3600
        @        IN SOA   ns1 hostmaster ( 2024060100 7200 3600 1209600 300 )
        @        IN NS    ns1
        @        IN NS    ns2.example.net.
        @        IN A     192.0.2.1
        @        IN AAAA  2001:DB8:0:0::1
        @        IN MX    10 mail
        @        IN TXT   "v=spf1 mx -all"
        @        IN CAA   0 issue "ca.example.net"
        @        IN CAA   0 iodef "mailto:security@alltypes.example"
        @        IN HTTPS 1 . alpn="h2,h3" ipv4hint=192.0.2.1 ipv6hint=2001:db8::1
        ns1      IN A     192.0.2.2
        mail     IN A     192.0.2.3
        mail     IN AAAA  2001:db8::3
        www      IN CNAME @
        _sip._tcp IN SRV  10 60 5060 sip
        sip      IN A     192.0.2.4
        ptr      IN PTR   www.alltypes.example.
        sub      IN NS    ns.sub
        sub      IN DS    60485 8 2 D4B7D520E7BB5F0F67674A0CCEB1E3E0614B93C4F9E99B8383F6A1E4469DA50A
        ns.sub   IN A     192.0.2.53
        _443._tcp.www IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
        host     IN A     192.0.2.5
        host     IN SSHFP 4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789
        host     IN SSHFP 1 1 0123456789abcdef0123456789abcdef01234567
        naptr    IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.alltypes.example.
        naptr    IN NAPTR 100 50 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .
        svc      IN SVCB  1 svc-host port=8443 alpn=h2 mandatory=alpn
        alias    IN SVCB  0 svc-host
        svc2     IN HTTPS 2 svc-host alpn="h2,h3\\\\,x" no-default-alpn ech=AEX+DQBBpQAgACB/RRp5 port=443 key65000="x y" key7="/dns{?dns}"
        svc3     IN SVCB  3 svc-host mandatory=alpn,ipv4hint alpn=dot ipv4hint=192.0.2.7,192.0.2.8
        svc-host IN A     192.0.2.6
        old      IN DNAME new.example.net.
        loc      IN LOC   52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m
        uri      IN URI   10 1 "https://www.example.com/"
        txt      IN TXT   "with \\"quotes\\" and \\\\ backslash" "semi\\059colon" "caf\\195\\169" ""
        unknown  IN TYPE65280 \\# 4 0A000001
        hinfo    IN HINFO "PC" "Linux"
        *.wild   IN A     192.0.2.7
        esc\\.dot IN TXT  "a dot inside a label"
        ttl      300 IN A 192.0.2.9

        """
}

import DNSModel
import DNSWire

/// Record data of every type DNSModel knows, as an API user would write it.
enum RecordExamples {
    static let origin = try! DomainName(presentation: "example.com.", origin: nil)

    static let texts: [(RRType, String)] = [
        (.a, "192.0.2.1"),
        (.aaaa, "2001:db8::1"),
        (.ns, "ns1.example.com."),
        (.cname, "www.example.com."),
        (.dname, "example.net."),
        (.ptr, "host.example.com."),
        (.mx, "10 mail.example.com."),
        (.kx, "10 kx.example.com."),
        (.afsdb, "1 afs.example.com."),
        (.rp, "admin.example.com. txt.example.com."),
        (.txt, "\"v=spf1 -all\" \"second string\""),
        (.spf, "\"v=spf1 -all\""),
        (.hinfo, "\"PC\" \"Linux\""),
        (.soa, "ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300"),
        (.srv, "10 60 5060 sip.example.com."),
        (.caa, "0 issue \"letsencrypt.org\""),
        (.ds, "60485 8 2 \(String(repeating: "AB", count: 32))"),
        (.cds, "60485 8 2 \(String(repeating: "CD", count: 32))"),
        (.tlsa, "3 1 1 \(String(repeating: "0C", count: 32))"),
        (.smimea, "3 1 1 \(String(repeating: "0D", count: 32))"),
        (.sshfp, "4 2 \(String(repeating: "EF", count: 32))"),
        (.naptr, "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."),
        (.uri, "10 1 \"https://www.example.com/\""),
        (.loc, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
        (.svcb, "1 svc-host.example.com. alpn=\"h2\" port=8443"),
        (.https, "1 . alpn=\"h2,h3\" ipv4hint=192.0.2.10"),
        (.openpgpkey, "\\# 3 ABCDEF"),
        (.dnskey, "\\# 6 010003080102"),
        (RRType(rawValue: 65280), "\\# 4 0A000001"),
        (RRType(rawValue: 65281), "\\# 0"),
    ]

    /// One record a type, owners spread over a few names so compression has work to do.
    static func records() throws -> [ResourceRecord] {
        var records: [ResourceRecord] = []
        for (index, (type, text)) in texts.enumerated() {
            let owner = try DomainName(presentation: index % 3 == 0 ? "@" : "host\(index % 4)", origin: origin)
            let data = try RData.parse(type: type, text: text, origin: origin, mode: .api)
            records.append(ResourceRecord(owner: owner, type: type, ttl: UInt32(300 + index), rdata: data))
        }
        return records
    }
}

func name(_ text: String) -> DomainName {
    try! DomainName(presentation: text, origin: nil)
}

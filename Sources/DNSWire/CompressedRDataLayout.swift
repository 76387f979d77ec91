import DNSModel

/// Where the names are in the RDATA of the types whose names other servers compress, so a
/// decoder can expand them. RFC 3597 §4: the RFC 1035 types may be compressed; RP, AFSDB, RT,
/// PX, NAPTR and SRV must be decompressed too because older specifications or servers
/// compressed them (SRV under RFC 2052). Every newer type's names (RRSIG, NSEC, SVCB, …) are
/// never compressed, so their RDATA is taken as it is.
enum CompressedRDataLayout {
    enum Field {
        case name
        case fixed(Int)
        case characterString
    }

    static func fields(of type: RRType) -> [Field]? {
        switch type.rawValue {
        case RRType.ns.rawValue, RRType.cname.rawValue, RRType.ptr.rawValue, RRType.dname.rawValue,
             3, 4, 7, 8, 9:  // MD, MF, MB, MG, MR
            return [.name]
        case RRType.soa.rawValue:
            return [.name, .name, .fixed(20)]
        case RRType.mx.rawValue, RRType.afsdb.rawValue, RRType.kx.rawValue, 21:  // RT
            return [.fixed(2), .name]
        case RRType.rp.rawValue, 14:  // MINFO
            return [.name, .name]
        case 26:  // PX
            return [.fixed(2), .name, .name]
        case RRType.srv.rawValue:
            return [.fixed(6), .name]
        case RRType.naptr.rawValue:
            return [.fixed(4), .characterString, .characterString, .characterString, .name]
        default:
            return nil
        }
    }
}

// swift-tools-version:6.0
// zonectl: a control plane for hosted DNS. Targets follow docs/architecture.md; dependencies point
// one way (DNSModel ← ZoneFile ← API ← zonectl; CPostgres ← Store; CMicroHTTPD ← HTTPServer).
import PackageDescription

let package = Package(
    name: "zonectl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "zonectl", targets: ["zonectl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C libraries the user chose, through thin shims.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .systemLibrary(
            name: "CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),

        // Pure DNS knowledge: names, record types, RDATA, RRsets, serials. Foundation only.
        .target(name: "DNSModel"),
        // RFC 1035 zone file text: streaming renderer and import parser.
        .target(name: "ZoneFile", dependencies: ["DNSModel"]),
        // PostgreSQL access: connections, pool, transactions, LISTEN, migrations.
        .target(name: "Store", dependencies: ["CPostgres"]),
        // Zones as stored, read back into DNS types (SOA and apex NS from the zone row); shared by
        // the API, which writes zones, and Propagation, which serves them.
        .target(name: "ZoneData", dependencies: ["DNSModel", "ZoneFile", "Store"]),
        // HTTP on libmicrohttpd: requests, responses, limits, routing, shutdown.
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD"]),
        // The REST API: auth, JSON shapes, problem+json, handlers.
        .target(
            name: "API",
            dependencies: [
                "DNSModel", "ZoneFile", "Store", "ZoneData", "HTTPServer",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // DNS messages on the wire: encode/decode with compression, TCP framing, TSIG.
        .target(
            name: "DNSWire",
            dependencies: ["DNSModel", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // zonectl as hidden primary: transfer server (SOA/AXFR/IXFR), NOTIFY sender, serial checks.
        .target(name: "Propagation", dependencies: ["DNSModel", "DNSWire", "ZoneFile", "Store", "ZoneData"]),
        .executableTarget(
            name: "zonectl",
            dependencies: [
                "API", "Store", "Propagation", "HTTPServer", "DNSModel", "ZoneFile",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Starts the real parts tests need (PostgreSQL clusters, free ports, child processes).
        .target(name: "IntegrationHarness", path: "Tests/IntegrationHarness"),

        .testTarget(name: "DNSModelTests", dependencies: ["DNSModel"]),
        .testTarget(name: "ZoneFileTests", dependencies: ["ZoneFile", "DNSModel", "IntegrationHarness"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "IntegrationHarness"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "IntegrationHarness"]),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire", "DNSModel", "IntegrationHarness"]),
        .testTarget(name: "APITests", dependencies: ["API", "Store", "HTTPServer", "IntegrationHarness"]),
        .testTarget(
            name: "PropagationTests",
            dependencies: ["Propagation", "DNSWire", "DNSModel", "ZoneFile", "Store", "HTTPServer", "IntegrationHarness"]
        ),
    ]
)

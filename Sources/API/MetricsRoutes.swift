import HTTPServer
import Store

/// `GET /metrics`: Prometheus text format (version 0.0.4). Gauges come from the database, so
/// every process reports the whole service; request counts are this process's own.
extension APIService {
    func registerMetricsRoutes() {
        if publicMetrics {
            publicRoute("GET", "/metrics") { [self] _ in try metricsResponse() }
        } else {
            route("GET", "/metrics") { [self] call in
                try call.principal.requireOperator()
                return try metricsResponse()
            }
        }
    }

    func metricsResponse() throws -> HTTPResponse {
        let gauges = try pool.withConnection { try ServiceGaugeRepository.read(on: $0) }
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int64)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                text += name + (sample.labels.isEmpty ? "" : "{\(sample.labels)}") + " \(sample.value)\n"
            }
        }
        metric("zonectl_zones", "gauge", "Zones, by kind (customer zones and pool catalogs).",
               [("kind=\"primary\"", gauges.zones), ("kind=\"catalog\"", gauges.catalogZones)])
        metric("zonectl_records", "gauge", "Customer records in all zones (SOA and apex NS not counted).", [("", gauges.records)])
        metric("zonectl_accounts", "gauge", "Customer accounts.", [("", gauges.accounts)])
        metric("zonectl_pool_servers", "gauge", "Secondaries in all pools.", [("", gauges.poolServers)])
        metric("zonectl_propagation_pairs", "gauge", "Zone x server pairs zonectl keeps in sync.", [("", gauges.propagationPairs)])
        metric("zonectl_propagation_notify_owed", "gauge", "Pairs whose NOTIFY for the zone's current serial is not acknowledged yet.",
               [("", gauges.notifiesOwed)])
        metric("zonectl_propagation_behind", "gauge", "Pairs whose server did not answer the zone's current serial (catalogs not counted).",
               [("", gauges.serversBehind)])
        metric("zonectl_propagation_failing", "gauge", "Pairs whose last NOTIFY or serial check failed.", [("", gauges.propagationFailing)])
        metric("zonectl_zone_files_owed", "gauge", "Zone files (--zone-dir) not yet holding the zone's current serial.",
               [("", gauges.zoneFilesOwed)])
        metric("zonectl_zone_file_hook_failures", "gauge", "Zones whose last --after-write command failed.", [("", gauges.hookFailures)])
        metric("zonectl_http_requests_total", "counter", "Requests this process answered, by method and status.",
               requests.snapshot().map { ("method=\"\($0.0.method)\",status=\"\($0.0.status)\"", Int64($0.1)) })
        metric("zonectl_database_connections", "gauge", "This process's API database connections, by state.",
               [("state=\"open\"", Int64(pool.openConnectionCount)), ("state=\"idle\"", Int64(pool.idleConnectionCount))])
        let plans = zonePlans.counts
        metric("zonectl_commit_plans_total", "counter",
               "Batches of zone changes this process committed in one round trip from what the zones' previous batch knew (hit), and such plans found stale and committed the usual way (miss).",
               [("outcome=\"hit\"", Int64(plans.hits)), ("outcome=\"miss\"", Int64(plans.misses))])
        var headers = HTTPHeaders()
        headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        return HTTPResponse(status: 200, headers: headers, body: Array(text.utf8))
    }
}

-- wrk script: GET of one zone's RRsets. Environment: SYSTEM, ZONES (one zone), TOKEN.
local system = os.getenv("SYSTEM")
local zone = string.match(os.getenv("ZONES"), "[^,]+")
local token = os.getenv("TOKEN")
local non2xx = 0
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function request()
    if system == "zonectl" then
        return wrk.format("GET", "/v1/zones/" .. zone .. "/rrsets?limit=1000", { ["Authorization"] = "Bearer " .. token })
    else
        return wrk.format("GET", "/api/v1/servers/localhost/zones/" .. zone .. ".", { ["X-API-Key"] = token })
    end
end

function response(status, headers, body)
    if status < 200 or status >= 300 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
    local errors = 0
    for _, thread in ipairs(threads) do errors = errors + (thread:get("non2xx") or 0) end
    io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        errors, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

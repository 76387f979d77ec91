-- wrk script for bench/api/run.sh. Environment: MODE (change: one-rrset changes, each to a
-- different name so every request is a real change; read: GET of the first zone's RRsets),
-- SYSTEM (zonectl|pdns), ZONES (comma-separated zone names, no trailing dot), TOKEN (zonectl
-- bearer token or PowerDNS API key).
local mode = os.getenv("MODE")
local system = os.getenv("SYSTEM")
local zones = {}
for zone in string.gmatch(os.getenv("ZONES"), "[^,]+") do zones[#zones + 1] = zone end
local token = os.getenv("TOKEN")
local counter = 0
local thread_id = 0
local non2xx = 0
local threads = {}

function setup(thread)
    thread_id = thread_id + 1
    thread:set("id", thread_id)
    table.insert(threads, thread)
end

function init(args)
    non2xx = 0
end

local function read_request()
    if system == "zonectl" then
        return wrk.format("GET", "/v1/zones/" .. zones[1] .. "/rrsets?limit=1000", { ["Authorization"] = "Bearer " .. token })
    end
    return wrk.format("GET", "/api/v1/servers/localhost/zones/" .. zones[1] .. ".", { ["X-API-Key"] = token })
end

function request()
    if mode == "read" then return read_request() end
    counter = counter + 1
    local zone = zones[(counter % #zones) + 1]
    local name = string.format("t%d-%d.%s", id, counter, zone)
    local address = string.format("10.%d.%d.%d", id % 256, math.floor(counter / 256) % 256, counter % 256)
    if system == "zonectl" then
        local body = string.format(
            '{"changes":[{"action":"replace","name":"%s","type":"A","ttl":300,"records":["%s"]}]}', name, address)
        return wrk.format("PATCH", "/v1/zones/" .. zone .. "/rrsets",
            { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
    else
        local body = string.format(
            '{"rrsets":[{"name":"%s.","type":"A","ttl":300,"changetype":"REPLACE","records":[{"content":"%s","disabled":false}]}]}',
            name, address)
        return wrk.format("PATCH", "/api/v1/servers/localhost/zones/" .. zone .. ".",
            { ["X-API-Key"] = token, ["Content-Type"] = "application/json" }, body)
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

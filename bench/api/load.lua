-- wrk script for bench/api/run.sh. Environment:
--   MODE    change: one-rrset changes, each replacing the A RRset of a name no request used
--           before, so every request is a real change; read: GET of the first zone's RRsets
--   SYSTEM  zonectl | pdns
--   ZONES   comma-separated zone names without the trailing dot; changes go round-robin
--   TOKEN   zonectl bearer token or PowerDNS API key
--   PREFIX  first letter of the names changes use (default "t"; a warm-up on the zones of a
--           measured run uses another, so the measured run's names are new to the zones)
-- Prints one "RESULT key=value ..." line; non2xx counts answers outside 200-299, because a
-- benchmark whose errors are fast would otherwise look good.
local mode = os.getenv("MODE")
local system = os.getenv("SYSTEM")
local zones = {}
for zone in string.gmatch(os.getenv("ZONES"), "[^,]+") do zones[#zones + 1] = zone end
local token = os.getenv("TOKEN")
local prefix = os.getenv("PREFIX") or "t"

-- Per-thread state (each wrk thread runs its own copy of this script). The counts are globals
-- on purpose: thread:get() in done() reads a thread's globals and cannot see its locals.
local counter = 0
non2xx = 0
last_bad_status = 0

-- Only the setup/done copy sees this: the threads, to collect their counts at the end.
local threads = {}
local thread_count = 0

function setup(thread)
    thread_count = thread_count + 1
    thread:set("id", thread_count)
    table.insert(threads, thread)
end

local function read_request()
    if system == "zonectl" then
        return wrk.format("GET", "/v1/zones/" .. zones[1] .. "/rrsets?limit=1000",
            { ["Authorization"] = "Bearer " .. token })
    end
    return wrk.format("GET", "/api/v1/servers/localhost/zones/" .. zones[1] .. ".", { ["X-API-Key"] = token })
end

local function change_request()
    counter = counter + 1
    local zone = zones[(counter % #zones) + 1]
    -- "<prefix><thread>-<n>" is unique within a wrk run; zone_audit.py counts the "t" names.
    local name = string.format("%s%d-%d.%s", prefix, id, counter, zone)
    local address = string.format("10.%d.%d.%d", id % 256, math.floor(counter / 256) % 256, counter % 256)
    if system == "zonectl" then
        local body = string.format(
            '{"changes":[{"action":"replace","name":"%s","type":"A","ttl":300,"records":["%s"]}]}', name, address)
        return wrk.format("PATCH", "/v1/zones/" .. zone .. "/rrsets",
            { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
    end
    local body = string.format(
        '{"rrsets":[{"name":"%s.","type":"A","ttl":300,"changetype":"REPLACE","records":[{"content":"%s","disabled":false}]}]}',
        name, address)
    return wrk.format("PATCH", "/api/v1/servers/localhost/zones/" .. zone .. ".",
        { ["X-API-Key"] = token, ["Content-Type"] = "application/json" }, body)
end

function request()
    if mode == "read" then return read_request() end
    return change_request()
end

function response(status, headers, body)
    if status < 200 or status >= 300 then
        non2xx = non2xx + 1
        last_bad_status = status
    end
end

function done(summary, latency, requests)
    local bad, bad_status = 0, 0
    for _, thread in ipairs(threads) do
        bad = bad + (thread:get("non2xx") or 0)
        local status = thread:get("last_bad_status") or 0
        if status ~= 0 then bad_status = status end
    end
    local errors = summary.errors
    io.write(string.format(
        "RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx=%d last_bad_status=%d socket_errors=%d bytes_per_response=%.0f\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        bad, bad_status, errors.connect + errors.read + errors.write + errors.timeout,
        summary.requests > 0 and summary.bytes / summary.requests or 0))
end

-- wrk script for the throughput part of bench/propagation/run.sh: one-rrset changes to
-- zonectl, round-robin over ZONES. Several wrk instances run at once (one per zonectl process),
-- so each names its own RRset per zone, w<INSTANCE>-<thread>.<zone>, and gives it a new address
-- every time: every request is a real change, and the zones stay small (one RRset per instance
-- and thread), so what the secondaries transfer afterwards does not grow with the load.
-- Environment: ZONES (comma-separated, no trailing dot), TOKEN (bearer), INSTANCE (1, 2, …).
-- Prints one "RESULT key=value ..." line; non2xx counts answers outside 200-299.
local zones = {}
for zone in string.gmatch(os.getenv("ZONES"), "[^,]+") do zones[#zones + 1] = zone end
local token = os.getenv("TOKEN")
local instance = tonumber(os.getenv("INSTANCE") or "1")

-- Globals on purpose: done() reads each thread's through thread:get(), which sees no locals.
counter = 0
non2xx = 0
last_bad_status = 0

local threads = {}
local thread_count = 0

function setup(thread)
    thread_count = thread_count + 1
    thread:set("id", thread_count)
    table.insert(threads, thread)
end

function request()
    counter = counter + 1
    local zone = zones[((counter + instance) % #zones) + 1]
    local name = string.format("w%d-%d.%s", instance, id, zone)
    local address = string.format("10.%d.%d.%d", instance % 256, math.floor(counter / 256) % 256, counter % 256)
    local body = string.format(
        '{"changes":[{"action":"replace","name":"%s","type":"A","ttl":300,"records":["%s"]}]}', name, address)
    return wrk.format("PATCH", "/v1/zones/" .. zone .. "/rrsets",
        { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
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
        "RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx=%d last_bad_status=%d socket_errors=%d\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        bad, bad_status, errors.connect + errors.read + errors.write + errors.timeout))
end

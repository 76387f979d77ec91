#!/usr/bin/env bash
# Propagation benchmark (issue 5, "Speed"): how long from an API change until every secondary
# serves it, with zonectl as the hidden primary and, in the same run, PowerDNS 4.7 (Debian
# pdns-server, gpgsql backend, HTTP API) as the primary to compare with.
#
# One private PostgreSQL 15 holds both primaries' databases. BIND 9, Knot DNS and NSD each run as
# a secondary of both: zone zonectl.prop.test from zonectl's transfer server, zone pdns.prop.test
# from PowerDNS, NOTIFY accepted from 127.0.0.1. For each primary, COUNT changes one after
# another (the next starts only when the previous one is served everywhere): each is timed from
# just before its HTTP request until the last secondary answers the new serial to a SOA query
# (each secondary asked over UDP every millisecond, propagation.py). PowerDNS's API does not send
# NOTIFY by itself, so its change is the PATCH and then PUT …/notify, as its users do.
# Results go to docs/benchmarks.md between the bench/propagation markers; everything started here
# is stopped on exit, failure or interrupt. Only 127.0.0.1 and kernel-chosen ports are used.
#
# Environment:
#   ZONECTL   zonectl binary (default <repo>/.build/release/zonectl, built if missing)
#   COUNT     measured changes per primary (100)
#   WARMUP    unmeasured changes per primary before them (5)
#   TIMEOUT   seconds one change may take before it counts as timed out (30)
#   KEEP=1    keep the work directory (configurations, logs, per-change figures) and say where
#   TRACE=1   also log the DNS traffic on lo with microsecond times (trace.py → trace.log; with
#             KEEP=1, to see where a change's time goes; it costs CPU, so not for the figures)
#   NO_DOCS=1 print the section only, leave docs/benchmarks.md alone
# Needs root: apt-get for PowerDNS if missing, runuser for PostgreSQL.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/bench/propagation"
zonectl="${ZONECTL:-$repo/.build/release/zonectl}"
count="${COUNT:-100}"
warmup="${WARMUP:-5}"
timeout="${TIMEOUT:-30}"
pg_bin=/usr/lib/postgresql/15/bin
pdns_schema=/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql
zc_zone=zonectl.prop.test
pd_zone=pdns.prop.test

die() { echo "bench/propagation: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root (runuser for PostgreSQL, apt-get for PowerDNS)"
for tool in named named-checkconf knotd knotc nsd nsd-checkconf; do
    command -v "$tool" >/dev/null || die "$tool is missing: apt-get install -y bind9 bind9-utils knot nsd"
done

if [[ ! -x "$zonectl" ]]; then
    echo "building zonectl (release)…"
    (cd "$repo" && swift build -c release --product zonectl >/dev/null)
fi

if ! command -v pdns_server >/dev/null || [[ ! -f "$pdns_schema" ]]; then
    echo "installing PowerDNS (pdns-server, pdns-backend-pgsql)…"
    # The package would start its own pdns on 0.0.0.0:53; a policy-rc.d that refuses every
    # start keeps it down during the install (only if the system has none of its own).
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        pdns-server pdns-backend-pgsql >/dev/null || { [[ $own_policy == 1 ]] && rm -f "$policy"; die "apt-get install failed"; }
    [[ $own_policy == 1 ]] && rm -f "$policy"
    systemctl disable --now pdns >/dev/null 2>&1 || service pdns stop >/dev/null 2>&1 || true
    [[ -f "$pdns_schema" ]] || die "no PowerDNS schema at $pdns_schema"
fi

free_port() {
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [[ $port != 53 ]] || die "the kernel offered port 53"
    echo "$port"
}

work="$(mktemp -d /tmp/zonectl-bench-propagation.XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
    local status=$?
    trap - EXIT INT TERM HUP
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ -f "$work/pg/postmaster.pid" ]]; then
        runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [[ $status != 0 ]]; then
        for log in "$work/zonectl.log" "$work/pdns.log" "$work/named.log" "$work/named.out" \
            "$work/knot.log" "$work/nsd.log" "$work/nsd.out" "$work/pg/server.log"; do
            [[ -s $log ]] && { echo "--- last lines of $log" >&2; tail -n 15 "$log" >&2; }
        done
    fi
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "kept $work (configurations, logs, changes-*.jsonl)" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'echo "bench/propagation: line $LINENO failed: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM HUP

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

pg_port=$(free_port)
zc_http_port=$(free_port)
zc_dns_port=$(free_port)
pd_api_port=$(free_port)
pd_dns_port=$(free_port)
bind_port=$(free_port)
knot_port=$(free_port)
nsd_port=$(free_port)
secondaries="bind=127.0.0.1:$bind_port,knot=127.0.0.1:$knot_port,nsd=127.0.0.1:$nsd_port"

echo "starting PostgreSQL…"
mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres -A trust -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
psql_as() { runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
for db in zonectl pdns; do runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"; done
psql_as -d pdns -f "$pdns_schema" >/dev/null

wait_http() {
    for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
    die "no answer from $1"
}

echo "starting zonectl…"
export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/zonectl"
"$zonectl" migrate >/dev/null
"$zonectl" serve --host 127.0.0.1 --port "$zc_http_port" --dns-host 127.0.0.1 --dns-port "$zc_dns_port" --rate-limit 0 \
    >"$work/zonectl.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$zc_http_port/v1/health"
token=$("$zonectl" token create --operator --description bench-propagation)

echo "starting PowerDNS…"
pd_key=bench-$RANDOM$RANDOM
mkdir -p "$work/pdns"
# primary=yes with also-notify: the three secondaries get PowerDNS's NOTIFYs (PUT …/notify
# queues them). The packet and query caches are off, so a SOA query always reads the database,
# as zonectl's transfer server does. security-poll-suffix= : no status lookup over the internet.
# A kernel-chosen port is free when asked, not when PowerDNS binds it: on a shared machine
# another process may take it first (seen). Then PowerDNS runs without its web server, so it is
# stopped and started again on other ports.
start_pdns() {
    local attempt pid
    for attempt in 1 2 3; do
        cat >"$work/pdns/pdns.conf" <<CONF
launch=gpgsql
gpgsql-host=127.0.0.1
gpgsql-port=$pg_port
gpgsql-dbname=pdns
gpgsql-user=postgres
api=yes
api-key=$pd_key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$pd_api_port
webserver-allow-from=127.0.0.0/8
local-address=127.0.0.1
local-port=$pd_dns_port
primary=yes
also-notify=127.0.0.1:$bind_port,127.0.0.1:$knot_port,127.0.0.1:$nsd_port
only-notify=127.0.0.1/32
allow-axfr-ips=127.0.0.0/8
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
socket-dir=$work/pdns
security-poll-suffix=
guardian=no
daemon=no
loglevel=6
log-timestamp=yes
CONF
        pdns_server --config-dir="$work/pdns" >"$work/pdns.log" 2>&1 &
        pid=$!
        pids+=($pid)
        for _ in $(seq 1 100); do
            curl -s -o /dev/null "http://127.0.0.1:$pd_api_port/" && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        unset 'pids[-1]'
        echo "PowerDNS did not answer on port $pd_api_port (try $attempt): $(grep -m1 -i 'fail' "$work/pdns.log" || true)" >&2
        pd_api_port=$(free_port)
        pd_dns_port=$(free_port)
    done
    die "PowerDNS did not start: $(tail -n 5 "$work/pdns.log")"
}
start_pdns

zc() { curl -sSf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
pd() { curl -sSf -H "X-API-Key: $pd_key" -H 'Content-Type: application/json' "$@"; }
zurl="http://127.0.0.1:$zc_http_port"
purl="http://127.0.0.1:$pd_api_port/api/v1/servers/localhost"

echo "creating $zc_zone on zonectl and $pd_zone on PowerDNS…"
zc -d '{"name": "bench", "nameservers": ["ns1.bench.test.", "ns2.bench.test."], "soa_mname": "ns1.bench.test.", "soa_rname": "hostmaster.bench.test."}' \
    "$zurl/v1/pools" >/dev/null
for port in $bind_port $knot_port $nsd_port; do
    zc -d "{\"address\": \"127.0.0.1\", \"port\": $port}" "$zurl/v1/pools/bench/servers" >/dev/null
done
account=$(zc -d '{"name": "bench"}' "$zurl/v1/accounts" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
zc -d "{\"name\": \"$zc_zone.\", \"account_id\": $account, \"pool\": \"bench\"}" "$zurl/v1/zones" >/dev/null
pd -d "{\"name\": \"$pd_zone.\", \"kind\": \"Master\", \"soa_edit_api\": \"INCREASE\",
        \"nameservers\": [\"ns1.bench.test.\", \"ns2.bench.test.\"],
        \"rrsets\": [{\"name\": \"$pd_zone.\", \"type\": \"SOA\", \"ttl\": 3600, \"records\": [{\"content\":
            \"ns1.bench.test. hostmaster.bench.test. 1 3600 600 604800 300\", \"disabled\": false}]}]}" \
    "$purl/zones" >/dev/null

echo "starting BIND, Knot and NSD as secondaries of both…"
# BIND 9.18. notify no: a secondary here tells no one. serial-query-rate (default 20/s) paces
# BIND's SOA queries, NOTIFY-triggered ones included; raised so that pacing never holds a
# refresh back. min-refresh-time/min-retry-time only bound the SOA timers, not NOTIFY.
mkdir -p "$work/bind"
cat >"$work/bind/named.conf" <<CONF
options {
    directory "$work/bind";
    pid-file "$work/bind/named.pid";
    session-keyfile "$work/bind/session.key";
    managed-keys-directory "$work/bind";
    listen-on port $bind_port { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
    allow-notify { 127.0.0.1; };
    serial-query-rate 1000;
};
controls { };
logging {
    channel to_file { file "$work/named.log"; print-time iso8601; severity info; };
    category default { to_file; };
    category notify { to_file; };
    category xfer-in { to_file; };
};
zone "$zc_zone" { type secondary; primaries { 127.0.0.1 port $zc_dns_port; }; file "$zc_zone.db"; };
zone "$pd_zone" { type secondary; primaries { 127.0.0.1 port $pd_dns_port; }; file "$pd_zone.db"; };
CONF
named-checkconf "$work/bind/named.conf" || die "named-checkconf refused $work/bind/named.conf"
named -c "$work/bind/named.conf" -f -u root >"$work/named.out" 2>&1 &
pids+=($!)

# Knot 3.2: refresh-min-interval and retry-min-interval bound the SOA timers (minimum 2 s and
# 1 s); a NOTIFY starts a refresh at once regardless.
mkdir -p "$work/knot"
cat >"$work/knot/knot.conf" <<CONF
server:
    rundir: "$work/knot"
    listen: 127.0.0.1@$knot_port
log:
  - target: "$work/knot.log"
    any: info
database:
    storage: "$work/knot"
remote:
  - id: zonectl
    address: 127.0.0.1@$zc_dns_port
  - id: pdns
    address: 127.0.0.1@$pd_dns_port
acl:
  - id: notify_from_primaries
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "$work/knot"
    acl: notify_from_primaries
zone:
  - domain: $zc_zone
    master: zonectl
  - domain: $pd_zone
    master: pdns
CONF
knotc -c "$work/knot/knot.conf" conf-check >/dev/null || die "knotc conf-check refused $work/knot/knot.conf"
knotd -c "$work/knot/knot.conf" >"$work/knot.out" 2>&1 &
pids+=($!)

# NSD 4.6: xfrd-reload-timeout 0. Its default (1 s) lets the server load at most one transfer a
# second, which would make every change after the first in a second wait for the next one.
# rrl-ratelimit 0: NSD's response rate limiting (on by default, 200 answers/s per /24) would
# otherwise drop or truncate this benchmark's SOA polls from 127.0.0.1.
mkdir -p "$work/nsd/xfr"
cat >"$work/nsd/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$nsd_port
    do-ip6: no
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$work/nsd"
    zonelistfile: "$work/nsd/zone.list"
    xfrdfile: "$work/nsd/xfrd.state"
    xfrdir: "$work/nsd/xfr"
    pidfile: "$work/nsd/nsd.pid"
    logfile: "$work/nsd.log"
    verbosity: 2
    xfrd-reload-timeout: 0
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $zc_zone
    zonefile: "$zc_zone.zone"
    allow-notify: 127.0.0.1 NOKEY
    request-xfr: 127.0.0.1@$zc_dns_port NOKEY
zone:
    name: $pd_zone
    zonefile: "$pd_zone.zone"
    allow-notify: 127.0.0.1 NOKEY
    request-xfr: 127.0.0.1@$pd_dns_port NOKEY
CONF
nsd-checkconf "$work/nsd/nsd.conf" || die "nsd-checkconf refused $work/nsd/nsd.conf"
nsd -c "$work/nsd/nsd.conf" -d >"$work/nsd.out" 2>&1 &
pids+=($!)

echo "waiting until each secondary serves both zones…"
zc_serial=$(python3 "$here/propagation.py" wait "$zc_zone" "$secondaries" 60) || die "the secondaries do not serve $zc_zone"
pd_serial=$(python3 "$here/propagation.py" wait "$pd_zone" "$secondaries" 60) || die "the secondaries do not serve $pd_zone"
echo "served everywhere: $zc_zone serial $zc_serial, $pd_zone serial $pd_serial"

if [[ ${TRACE:-0} == 1 ]]; then
    python3 "$here/trace.py" "$work/trace.log" "$zc_dns_port:zonectl" "$pd_dns_port:pdns" \
        "$bind_port:bind" "$knot_port:knot" "$nsd_port:nsd" &
    pids+=($!)
fi

# The processes whose CPU time is this benchmark's (propagation.py's others_cpu is the rest).
our_pids="${pids[*]} $(head -1 "$work/pg/postmaster.pid")"

# measure SYSTEM URL SECRET ZONE PRIMARY_DNS_PORT → RESULT line in $work/result-SYSTEM
measure() {
    local out="$work/measure-$1.out"
    OUR_PIDS=$our_pids python3 "$here/propagation.py" measure "$1" "$2" "$3" "$4" "127.0.0.1:$5" "$secondaries" \
        "$count" "$warmup" "$timeout" "$work/changes-$1.jsonl" >"$out" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait "$pid" || die "measuring $1 failed: $(cat "$out")"
    grep '^RESULT' "$out" >"$work/result-$1" || die "no RESULT from propagation.py: $(cat "$out")"
}
echo "zonectl: $count changes (after $warmup unmeasured)…"
measure zonectl "$zurl" "$token" "$zc_zone" "$zc_dns_port"
echo "PowerDNS: $count changes (after $warmup unmeasured)…"
measure pdns "$purl" "$pd_key" "$pd_zone" "$pd_dns_port"

field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" "$2"; }
goal() { # p50 p99 → met / NOT met
    awk -v a="$1" -v b="$2" 'BEGIN { print ((a !~ />/ && b !~ />/ && a <= 20 && b <= 50) ? "met" : "NOT met") }'
}
row() { # SYSTEM LABEL COLUMN
    local f="$work/result-$1"
    echo "| $2 | $(field "${3}_p50" "$f") | $(field "${3}_p90" "$f") | $(field "${3}_p99" "$f") | $(field "${3}_max" "$f") |"
}

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
pdns_version=$(dpkg-query -W -f='${Version}' pdns-server 2>/dev/null || echo unknown)
bind_version=$(named -v | awk '{ print $2 }')
knot_version=$(knotd -V | awk '{ print $NF }')
nsd_version=$(nsd -v 2>&1 | awk 'NR == 1 { print $3 }')
pg_version=$("$pg_bin/postgres" --version | awk '{ print $3 }')
zonectl_commit=$(git -C "$repo" rev-parse --short HEAD)
[[ -z $(git -C "$repo" status --porcelain -- bench/propagation) ]] || zonectl_commit="$zonectl_commit (bench/propagation modified)"
zonectl_built=$(date -u -r "$zonectl" +%Y-%m-%dT%H:%MZ)
zonectl_shown=${zonectl#"$repo"/}
zc_result="$work/result-zonectl"
pd_result="$work/result-pdns"

section="<!-- bench/propagation:start -->
## Propagation (bench/propagation/run.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -srm), $(nproc) CPUs ($cpu); load average $load_start
before it started and $load_end at the end (the machine may be shared with builds).
Versions: zonectl \`$zonectl_shown\` built $zonectl_built, repo at $zonectl_commit (release build);
PowerDNS $pdns_version (gpgsql, api=yes, primary=yes, caches off); PostgreSQL $pg_version (one private
cluster for both primaries); secondaries BIND $bind_version, Knot $knot_version, NSD $nsd_version.

Each primary makes $count changes (after $warmup that are not counted), one after another: a change
replaces one A RRset and is timed from just before its HTTP request until BIND, Knot and NSD all
answer its serial to a SOA query (each asked over UDP every millisecond). Its zone is a secondary
zone on all three, transferred from that primary after its NOTIFY. zonectl: \`PATCH
/v1/zones/{zone}/rrsets\`, then zonectl's own NOTIFY to its pool's servers. PowerDNS: \`PATCH
/api/v1/servers/localhost/zones/{zone}.\` (soa_edit_api INCREASE) and then \`PUT …/notify\`, since
its API sends no NOTIFY by itself (left to itself, it notices a changed serial only every
xfr-cycle-interval, 60 s). Secondary settings that keep a NOTIFY from waiting: BIND
\`serial-query-rate 1000\`, NSD \`xfrd-reload-timeout: 0\` (and \`rrl-ratelimit: 0\`, or NSD's rate
limiting drops the millisecond polls); Knot's defaults. A change not everywhere after ${timeout}s
is a timeout (counted as slower than any other).

Milliseconds from the request until served everywhere, and until each secondary serves it (the
last column of \"API\" is the HTTP request alone; for PowerDNS the PATCH and the PUT):

| zonectl | p50 | p90 | p99 | max |
| --- | --- | --- | --- | --- |
$(row zonectl "all three" all)
$(row zonectl BIND bind)
$(row zonectl Knot knot)
$(row zonectl NSD nsd)
$(row zonectl API api)

| PowerDNS | p50 | p90 | p99 | max |
| --- | --- | --- | --- | --- |
$(row pdns "all three" all)
$(row pdns BIND bind)
$(row pdns Knot knot)
$(row pdns NSD nsd)
$(row pdns API api)

Changes slower than 500 ms at BIND / Knot / NSD: zonectl $(field bind_over500 "$zc_result") / $(field knot_over500 "$zc_result") / $(field nsd_over500 "$zc_result"),
PowerDNS $(field bind_over500 "$pd_result") / $(field knot_over500 "$pd_result") / $(field nsd_over500 "$pd_result"). Seen with Knot 3.2.6: when a NOTIFY comes within some tens of
ms after a whole second and Knot's previous transfer of the zone ended in the second before, Knot
starts the refresh only at the next whole second (about 1 s late); a second NOTIFY 100 ms later
does not move it. Such changes are zonectl's slow ones at Knot.

Timeouts: zonectl $(field timeouts "$zc_result") of $count, PowerDNS $(field timeouts "$pd_result") of $count. Share of all CPU
time used by processes not this benchmark's (another helper's build, say) while each primary was
measured: zonectl $(field others_cpu "$zc_result"), PowerDNS $(field others_cpu "$pd_result"); well above 0% means
the figures were held back by other work (2 CPUs run both primaries, PostgreSQL, three secondaries
and the poller).
Goal (issue 5): zonectl p50 ≤ 20 ms and p99 ≤ 50 ms until served everywhere: $(goal "$(field all_p50 "$zc_result")" "$(field all_p99 "$zc_result")").
<!-- bench/propagation:end -->"

if [[ ${TRACE:-0} == 1 ]]; then
    sleep 0.5  # the tracer's last lines
    python3 "$here/timeline.py" "$work/trace.log" "$work/changes-zonectl.jsonl" zonectl || true
    python3 "$here/timeline.py" "$work/trace.log" "$work/changes-pdns.jsonl" pdns || true
fi

printf '\n%s\n' "$section"
if [[ "${NO_DOCS:-0}" != 1 ]]; then
    docs="$repo/docs/benchmarks.md"
    [[ -f "$docs" ]] || printf '# Benchmarks\n\nFigures from the scripts under bench/, newest run of each section.\n\n' >"$docs"
    python3 - "$docs" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
pattern = re.compile(r"<!-- bench/propagation:start -->.*?<!-- bench/propagation:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
    echo "wrote the propagation section of $docs"
fi

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
#
# Issue 6, in the same run: (1) catalog provisioning. zonectl's pool has an RFC 9432 catalog zone
# and BIND and Knot are also consumers of it (NSD 4.6 has no catalogs: it is in the pool with
# "catalog": false and keeps its explicit zones). CATALOG_COUNT zones are created one after
# another, each timed from just before its POST /v1/zones until BIND and Knot both answer its
# SOA. The same with PowerDNS 4.7 as a catalog producer (a zone of kind Producer, members created
# with "catalog"), in a second PowerDNS on its own database with xfr-cycle-interval=1, because
# PowerDNS bumps a producer's serial and NOTIFYs it only in its xfr-cycle-interval check (default
# 60 s); the first PowerDNS, measured above, keeps its defaults. (2) Throughput with several
# processes: LOAD_ZONES zones of the pool (served by BIND and Knot through the catalog, by NSD
# explicitly) get LOAD_SECONDS of one-rrset PATCHes from 16 connections (three wrk instances,
# changes.lua), first all against one zonectl and then spread over three zonectl processes on
# the same database; measured: changes/s acknowledged, and the time from the end of the load
# until every secondary serves every zone's final serial (propagation.py converge).
#
# Results go to docs/benchmarks.md between the bench/propagation markers; everything started here
# is stopped on exit, failure or interrupt. Only 127.0.0.1 and kernel-chosen ports are used.
#
# Environment:
#   ZONECTL   zonectl binary (default <repo>/.build/release/zonectl, built if missing)
#   COUNT     measured changes per primary (100)
#   WARMUP    unmeasured changes per primary before them (5)
#   TIMEOUT   seconds one change may take before it counts as timed out (30)
#   CATALOG_COUNT  measured zone creations per catalog producer (COUNT)
#   CATALOG_NSD_COUNT  the same for zonectl with NSD in the pool (30: each takes seconds there)
#   LOAD_SECONDS   seconds of each measured throughput load (10; 2 s of unmeasured load before)
#   LOAD_ZONES     zones the throughput load is spread over (20)
#   CATZ_MIN_UPDATE  BIND's catalog min-update-interval in seconds (1; BIND's default is 5)
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
catalog_count="${CATALOG_COUNT:-$count}"
catalog_nsd_count="${CATALOG_NSD_COUNT:-30}"
load_seconds="${LOAD_SECONDS:-10}"
load_zone_count="${LOAD_ZONES:-20}"
catz_min_update="${CATZ_MIN_UPDATE:-1}"
zc_catalog=catalog.bench.test
pc_catalog=catalog.pdns.test
load_zones=$(for i in $(seq 0 $((load_zone_count - 1))); do printf 'load%d.prop.test,' "$i"; done)
load_zones=${load_zones%,}
pg_bin=/usr/lib/postgresql/15/bin
pdns_schema=/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql
zc_zone=zonectl.prop.test
pd_zone=pdns.prop.test

die() { echo "bench/propagation: $*" >&2; exit 1; }
source "$repo/bench/common.sh"
[[ $(id -u) == 0 ]] || die "run as root (runuser for PostgreSQL, apt-get for PowerDNS)"
install_wrk
for tool in named named-checkconf knotd knotc nsd nsd-checkconf; do
    command -v "$tool" >/dev/null || die "$tool is missing: make deps installs it"
done

build_zonectl "$zonectl"

install_powerdns "$pdns_schema"

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
        for log in "$work/zonectl.log" "$work/zonectl-2.log" "$work/zonectl-3.log" "$work/pdns.log" \
            "$work/pdnscat.log" "$work/named.log" "$work/named.out" \
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
pc_api_port=$(free_port)
pc_dns_port=$(free_port)
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
for db in zonectl pdns pdnscat; do runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"; done
psql_as -d pdns -f "$pdns_schema" >/dev/null
psql_as -d pdnscat -f "$pdns_schema" >/dev/null

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

echo "starting PowerDNS (twice: one as the primary measured above, one as catalog producer)…"
pd_key=bench-$RANDOM$RANDOM
# primary=yes with also-notify: the three secondaries get PowerDNS's NOTIFYs (PUT …/notify
# queues them). The packet and query caches are off, so a SOA query always reads the database,
# as zonectl's transfer server does. security-poll-suffix= : no status lookup over the internet.
# A kernel-chosen port is free when asked, not when PowerDNS binds it: on a shared machine
# another process may take it first (seen). Then PowerDNS runs without its web server, so it is
# stopped and started again on other ports.
# start_pdns NAME DATABASE API_PORT_VARIABLE DNS_PORT_VARIABLE ALSO_NOTIFY [EXTRA_SETTING…]
start_pdns() {
    local name=$1 database=$2 also_notify=$5 attempt pid
    local -n api_port=$3 dns_port=$4
    local extra=("${@:6}")
    mkdir -p "$work/$name"
    for attempt in 1 2 3; do
        cat >"$work/$name/pdns.conf" <<CONF
launch=gpgsql
gpgsql-host=127.0.0.1
gpgsql-port=$pg_port
gpgsql-dbname=$database
gpgsql-user=postgres
api=yes
api-key=$pd_key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$api_port
webserver-allow-from=127.0.0.0/8
local-address=127.0.0.1
local-port=$dns_port
primary=yes
also-notify=$also_notify
only-notify=127.0.0.1/32
allow-axfr-ips=127.0.0.0/8
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
socket-dir=$work/$name
security-poll-suffix=
guardian=no
daemon=no
loglevel=6
log-timestamp=yes
CONF
        printf '%s\n' "${extra[@]}" >>"$work/$name/pdns.conf"
        pdns_server --config-dir="$work/$name" >"$work/$name.log" 2>&1 &
        pid=$!
        pids+=($pid)
        for _ in $(seq 1 100); do
            curl -s -o /dev/null "http://127.0.0.1:$api_port/" && return 0
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        unset 'pids[-1]'
        echo "PowerDNS $name did not answer on port $api_port (try $attempt): $(grep -m1 -i 'fail' "$work/$name.log" || true)" >&2
        api_port=$(free_port)
        dns_port=$(free_port)
    done
    die "PowerDNS $name did not start: $(tail -n 5 "$work/$name.log")"
}
start_pdns pdns pdns pd_api_port pd_dns_port "127.0.0.1:$bind_port,127.0.0.1:$knot_port,127.0.0.1:$nsd_port"
# The producer: its catalog's consumers are BIND and Knot. xfr-cycle-interval=1 (default 60):
# only that periodic check notices a changed member list, bumps the catalog's serial and
# NOTIFYs it, so it bounds how soon a new zone can be provisioned (see the header).
start_pdns pdnscat pdnscat pc_api_port pc_dns_port "127.0.0.1:$bind_port,127.0.0.1:$knot_port" \
    xfr-cycle-interval=1

zc() { curl -sSf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
pd() { curl -sSf -H "X-API-Key: $pd_key" -H 'Content-Type: application/json' "$@"; }
zurl="http://127.0.0.1:$zc_http_port"
purl="http://127.0.0.1:$pd_api_port/api/v1/servers/localhost"
pcurl="http://127.0.0.1:$pc_api_port/api/v1/servers/localhost"

echo "creating $zc_zone on zonectl and $pd_zone on PowerDNS…"
zc -d "{\"name\": \"bench\", \"nameservers\": [\"ns1.bench.test.\", \"ns2.bench.test.\"], \"soa_mname\": \"ns1.bench.test.\",
        \"soa_rname\": \"hostmaster.bench.test.\", \"catalog_zone\": \"$zc_catalog.\"}" "$zurl/v1/pools" >/dev/null
add_server() { # PORT CATALOG → the server's id
    zc -d "{\"address\": \"127.0.0.1\", \"port\": $1, \"catalog\": $2}" "$zurl/v1/pools/bench/servers" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
add_server "$bind_port" true >/dev/null
add_server "$knot_port" true >/dev/null
nsd_server=$(add_server "$nsd_port" false)
account=$(zc -d '{"name": "bench", "max_zones": 1000}' "$zurl/v1/accounts" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
for zone in $zc_zone ${load_zones//,/ }; do
    zc -d "{\"name\": \"$zone.\", \"account_id\": $account, \"pool\": \"bench\"}" "$zurl/v1/zones" >/dev/null
done
pd -d "{\"name\": \"$pd_zone.\", \"kind\": \"Master\", \"soa_edit_api\": \"INCREASE\",
        \"nameservers\": [\"ns1.bench.test.\", \"ns2.bench.test.\"],
        \"rrsets\": [{\"name\": \"$pd_zone.\", \"type\": \"SOA\", \"ttl\": 3600, \"records\": [{\"content\":
            \"ns1.bench.test. hostmaster.bench.test. 1 3600 600 604800 300\", \"disabled\": false}]}]}" \
    "$purl/zones" >/dev/null
# soa_edit_api "": the serial stays 1. PowerDNS sets a producer's serial to the current Unix
# time on each member change, so it must start below that; with the API's default (a
# YYYYMMDDnn serial on creation) every later serial is older than the first, and Knot refuses
# them ("remote is outdated"; seen).
curl -sSf -H "X-API-Key: $pd_key" -H 'Content-Type: application/json' -d "{\"name\": \"$pc_catalog.\", \"kind\": \"Producer\",
        \"soa_edit_api\": \"\",
        \"nameservers\": [\"invalid.\"],
        \"rrsets\": [{\"name\": \"$pc_catalog.\", \"type\": \"SOA\", \"ttl\": 3600, \"records\": [{\"content\":
            \"invalid. hostmaster.invalid. 1 3600 600 604800 300\", \"disabled\": false}]}]}" \
    "$pcurl/zones" >/dev/null

echo "starting BIND, Knot and NSD as secondaries of both…"
# BIND 9.18. notify no: a secondary here tells no one. serial-query-rate (default 20/s) paces
# BIND's SOA queries, NOTIFY-triggered ones included; raised so that pacing never holds a
# refresh back. min-refresh-time/min-retry-time only bound the SOA timers, not NOTIFY.
# catalog-zones: both catalogs' members are added with the catalog's primary; min-update-interval
# 1 (default 5 s, which would hold back a catalog change within 5 s of the previous one); members
# take allow-notify and serial-query-rate from options.
mkdir -p "$work/bind/catz"
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
    catalog-zones {
        zone "$zc_catalog." default-primaries { 127.0.0.1 port $zc_dns_port; } zone-directory "$work/bind/catz" in-memory no min-update-interval $catz_min_update;
        zone "$pc_catalog." default-primaries { 127.0.0.1 port $pc_dns_port; } zone-directory "$work/bind/catz" in-memory no min-update-interval $catz_min_update;
    };
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
zone "$zc_catalog" { type secondary; primaries { 127.0.0.1 port $zc_dns_port; }; file "$zc_catalog.db"; };
zone "$pc_catalog" { type secondary; primaries { 127.0.0.1 port $pc_dns_port; }; file "$pc_catalog.db"; };
CONF
named-checkconf "$work/bind/named.conf" || die "named-checkconf refused $work/bind/named.conf"
named -c "$work/bind/named.conf" -f -u root >"$work/named.out" 2>&1 &
pids+=($!)

# Knot 3.2: refresh-min-interval and retry-min-interval bound the SOA timers (minimum 2 s and
# 1 s); a NOTIFY starts a refresh at once regardless. Each catalog's members get a template with
# that catalog's primary.
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
  - id: pdnscat
    address: 127.0.0.1@$pc_dns_port
acl:
  - id: notify_from_primaries
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: "$work/knot"
    acl: notify_from_primaries
  - id: zonectl_member
    storage: "$work/knot"
    acl: notify_from_primaries
    master: zonectl
  - id: pdnscat_member
    storage: "$work/knot"
    acl: notify_from_primaries
    master: pdnscat
zone:
  - domain: $zc_zone
    master: zonectl
  - domain: $pd_zone
    master: pdns
  - domain: $zc_catalog
    master: zonectl
    catalog-role: interpret
    catalog-template: zonectl_member
  - domain: $pc_catalog
    master: pdnscat
    catalog-role: interpret
    catalog-template: pdnscat_member
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
$(for zone in ${load_zones//,/ }; do printf 'zone:\n    name: %s\n    zonefile: "%s.zone"\n    allow-notify: 127.0.0.1 NOKEY\n    request-xfr: 127.0.0.1@%s NOKEY\n' "$zone" "$zone" "$zc_dns_port"; done)
CONF
nsd-checkconf "$work/nsd/nsd.conf" || die "nsd-checkconf refused $work/nsd/nsd.conf"
nsd -c "$work/nsd/nsd.conf" -d >"$work/nsd.out" 2>&1 &
pids+=($!)

echo "waiting until each secondary serves both zones…"
zc_serial=$(python3 "$here/propagation.py" wait "$zc_zone" "$secondaries" 60) || die "the secondaries do not serve $zc_zone"
pd_serial=$(python3 "$here/propagation.py" wait "$pd_zone" "$secondaries" 60) || die "the secondaries do not serve $pd_zone"
echo "served everywhere: $zc_zone serial $zc_serial, $pd_zone serial $pd_serial"
for zone in ${load_zones//,/ }; do
    python3 "$here/propagation.py" wait "$zone" "$secondaries" 60 >/dev/null || die "the secondaries do not serve $zone (BIND and Knot through the catalog $zc_catalog)"
done
echo "the $load_zone_count load zones are served everywhere"

if [[ ${TRACE:-0} == 1 ]]; then
    python3 "$here/trace.py" "$work/trace.log" "$zc_dns_port:zonectl" "$pd_dns_port:pdns" "$pc_dns_port:pdnscat" \
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

# provision LABEL SYSTEM URL SECRET PARENT SUFFIX [COUNT] → RESULT line in $work/result-catalog-LABEL
catalog_secondaries="bind=127.0.0.1:$bind_port,knot=127.0.0.1:$knot_port"
provision() {
    local out="$work/provision-$1.out"
    OUR_PIDS=$our_pids python3 "$here/propagation.py" provision "$2" "$3" "$4" "$5" "$6" "$catalog_secondaries" \
        "${7:-$catalog_count}" "$warmup" "$timeout" "$work/catalog-$1.jsonl" >"$out" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait "$pid" || die "catalog provisioning ($1) failed: $(cat "$out")"
    grep '^RESULT' "$out" >"$work/result-catalog-$1" || die "no RESULT from propagation.py: $(cat "$out")"
}
# delete_zones SUFFIX [COUNT]: the zones provision made in zonectl, so that no later part works around
# them (NSD has none of them, and each NOTIFY it leaves unanswered holds a zonectl worker).
delete_zones() {
    local i
    for i in $(seq 0 $((warmup + ${2:-$catalog_count} - 1))); do
        zc -X DELETE "$zurl/v1/zones/$([[ $i -lt $warmup ]] && echo w || echo n)$i.$1." >/dev/null
    done
}
# BIND logs each catalog update it holds back for min-update-interval; counted per producer.
catz_deferred() { grep -c "catz: $1: new zone version came too soon" "$work/named.log" || true; }
# zonectl twice: first with NSD in the pool ("catalog": false, and no configuration for the new
# zones, so it leaves their NOTIFYs unanswered), then with BIND and Knot alone in the pool.
echo "zonectl catalog, NSD in the pool: $catalog_nsd_count new zones (after $warmup unmeasured)…"
provision zonectl-nsd zonectl "$zurl" "$token" "account=$account,pool=bench" catn.prop.test "$catalog_nsd_count"
delete_zones catn.prop.test "$catalog_nsd_count"
zc -X DELETE "$zurl/v1/pools/bench/servers/$nsd_server" >/dev/null
sleep 2
echo "zonectl catalog, BIND and Knot only in the pool: $catalog_count new zones (after $warmup unmeasured)…"
deferred_before=$(catz_deferred "$zc_catalog")
provision zonectl zonectl "$zurl" "$token" "account=$account,pool=bench" catz.prop.test
zc_deferred=$(($(catz_deferred "$zc_catalog") - deferred_before))
delete_zones catz.prop.test
nsd_server=$(add_server "$nsd_port" false)
echo "PowerDNS catalog: $catalog_count new zones (after $warmup unmeasured)…"
deferred_before=$(catz_deferred "$pc_catalog")
provision pdns pdns "$pcurl" "$pd_key" "catalog=$pc_catalog." catp.prop.test
pc_deferred=$(($(catz_deferred "$pc_catalog") - deferred_before))

# Throughput. postmaster: PostgreSQL and its backends; $$: this shell, whose reaped children
# (wrk) and live ones (the servers) are the benchmark's.
postmaster=$(head -1 "$work/pg/postmaster.pid")
cpu_mark() { OUR_PIDS="$$ $postmaster" python3 "$here/propagation.py" cpu-mark; }
other_cpu() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y); all = y[1] - x[1]
    other = (y[2] - x[2]) - (y[3] - x[3]); if (other < 0) other = 0; printf "%.0f%%", (all > 0 ? 100 * other / all : 0) }'; }
# load LABEL SECONDS PORT PORT PORT: 16 connections in three wrk instances (6, 5, 5), one per
# port, then waits until every secondary serves every load zone's newest serial. Leaves
# "changes/s p50 p99 errors all_ms bind_ms knot_ms nsd_ms moved timeouts others_cpu" in
# $work/load-LABEL (p50/p99: the slowest instance's).
load() {
    local label=$1 seconds=$2 instance connections wrk_pids=() before after end
    shift 2
    psql_as -d zonectl -c "VACUUM ANALYZE" >/dev/null
    before=$(cpu_mark)
    instance=0
    for connections in 6 5 5; do
        instance=$((instance + 1))
        ZONES=$load_zones TOKEN=$token INSTANCE=$instance wrk -t1 -c"$connections" -d"${seconds}s" --timeout 10s \
            -s "$here/changes.lua" "http://127.0.0.1:$1" >"$work/wrk-$label-$instance.out" 2>&1 &
        wrk_pids+=($!)
        pids+=($!)
        shift
    done
    for pid in "${wrk_pids[@]}"; do wait "$pid" || die "wrk failed: $(cat "$work"/wrk-"$label"-*.out)"; done
    end=$(date +%s.%N)
    after=$(cpu_mark)
    python3 "$here/propagation.py" converge "$zurl" "$token" "$load_zones" "$secondaries" "$end" "$timeout" \
        >"$work/converge-$label.out" 2>&1 &
    pids+=($!)
    wait $! || die "waiting for the secondaries after the load failed: $(cat "$work/converge-$label.out")"
    local converged
    converged=$(grep '^RESULT' "$work/converge-$label.out") || die "no RESULT from converge: $(cat "$work/converge-$label.out")"
    cat "$work"/wrk-"$label"-*.out | awk -v other="$(other_cpu "$before" "$after")" -v c="$converged" '/^RESULT/ {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            acked += v["requests"] - v["non2xx"]; seconds += v["seconds"]; n++
            bad += v["non2xx"] + v["socket_errors"]
            if (v["p50_ms"] > p50) p50 = v["p50_ms"]; if (v["p99_ms"] > p99) p99 = v["p99_ms"] }
         END { if (n != 3) exit 1
            split(c, f, " "); for (i = 2; i in f; i++) { split(f[i], kv, "="); w[kv[1]] = kv[2] }
            printf "%.0f %s %s %d %s %s %s %s %s %s %s\n", acked / (seconds / n), p50, p99, bad,
                w["all_ms"], w["bind_ms"], w["knot_ms"], w["nsd_ms"], w["moved"], w["timeouts"], other }' \
        >"$work/load-$label" || die "no RESULT line from wrk: $(cat "$work"/wrk-"$label"-*.out)"
}
echo "throughput, one zonectl process: ${load_seconds}s of changes over $load_zone_count zones…"
load warm-1 2 "$zc_http_port" "$zc_http_port" "$zc_http_port"
load one "$load_seconds" "$zc_http_port" "$zc_http_port" "$zc_http_port"

echo "starting two more zonectl processes on the same database…"
extra_ports=()
for n in 2 3; do
    http_port=$(free_port)
    dns_port=$(free_port)
    "$zonectl" serve --host 127.0.0.1 --port "$http_port" --dns-host 127.0.0.1 --dns-port "$dns_port" --rate-limit 0 \
        >"$work/zonectl-$n.log" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$http_port/v1/health"
    extra_ports+=("$http_port")
done
echo "throughput, three zonectl processes: ${load_seconds}s of changes over $load_zone_count zones…"
load warm-3 2 "$zc_http_port" "${extra_ports[@]}"
load three "$load_seconds" "$zc_http_port" "${extra_ports[@]}"

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
zcat_result="$work/result-catalog-zonectl"
zncat_result="$work/result-catalog-zonectl-nsd"
pcat_result="$work/result-catalog-pdns"
catalog_row() { # SYSTEM LABEL COLUMN
    local f="$work/result-catalog-$1"
    echo "| $2 | $(field "${3}_p50" "$f") | $(field "${3}_p90" "$f") | $(field "${3}_p99" "$f") | $(field "${3}_max" "$f") |"
}
load_row() { # LABEL PROCESSES
    local rate p50 p99 bad all bind knot nsd moved timeouts other
    read -r rate p50 p99 bad all bind knot nsd moved timeouts other <"$work/load-$1"
    echo "| $2 | $rate | $p50 / $p99 | $bad | $all | $bind / $knot / $nsd | $timeouts | $moved | $other |"
}

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

### Catalog provisioning (issue 6)

BIND and Knot are also consumers of a catalog zone (RFC 9432) of each primary: zonectl's pool
catalog \`$zc_catalog.\` (BIND \`catalog-zones { zone … default-primaries { zonectl } min-update-interval $catz_min_update; }\`,
Knot \`catalog-role: interpret\` with a template naming zonectl) and PowerDNS's producer zone
\`$pc_catalog.\`. NSD 4.6 has no catalog support and is left out of these timings. Each primary
creates $catalog_count zones (after $warmup not counted), one after
another: each is timed from just before its create request until BIND and Knot both answer the
new zone's SOA (asked over UDP every millisecond); neither has any configuration for the zone but
the catalog. zonectl: \`POST /v1/zones\` with the pool; the zone and its catalog entry are one
transaction, then zonectl NOTIFYs the catalog (and the zone) to the pool's servers. zonectl is
measured twice: with BIND and Knot alone in the pool, and before that ($catalog_nsd_count zones) with
NSD in the pool too (\`\"catalog\": false\`, as a server without catalogs is added) but with no
configuration for the new zones, so NSD leaves their NOTIFYs unanswered: each holds one of
zonectl's 8 propagation workers for 1.75 s (0.25 + 0.5 + 1 s of waiting) and is tried again
after 1, 2, 4 … s; workers take new serials before such retries, so the catalog's NOTIFYs wait
only when every worker is busy with one. Each run's zones are
deleted after it. The zone \`$zc_zone\`, explicitly configured on both, is also in the catalog;
BIND and Knot keep the explicit one (\"member zone already configured, ignoring\"). PowerDNS 4.7
can be a catalog producer (members are zones with \`catalog\` set, created with \`POST
/api/v1/servers/localhost/zones\`), but it bumps the producer zone's serial and NOTIFYs it only
in its periodic primary check, every \`xfr-cycle-interval\` (default 60 s); measured here with
the smallest, 1 s, in a second PowerDNS on its own database (the one above keeps its defaults).
A zone not served by both after ${timeout}s is a timeout.

| zonectl catalog (pool: BIND, Knot) | p50 | p90 | p99 | max |
| --- | --- | --- | --- | --- |
$(catalog_row zonectl "both" all)
$(catalog_row zonectl BIND bind)
$(catalog_row zonectl Knot knot)
$(catalog_row zonectl API api)

| zonectl catalog (pool: BIND, Knot, NSD without the zones) | p50 | p90 | p99 | max |
| --- | --- | --- | --- | --- |
$(catalog_row zonectl-nsd "both" all)
$(catalog_row zonectl-nsd BIND bind)
$(catalog_row zonectl-nsd Knot knot)
$(catalog_row zonectl-nsd API api)

| PowerDNS catalog | p50 | p90 | p99 | max |
| --- | --- | --- | --- | --- |
$(catalog_row pdns "both" all)
$(catalog_row pdns BIND bind)
$(catalog_row pdns Knot knot)
$(catalog_row pdns API api)

BIND processes a catalog at most once per min-update-interval ($catz_min_update s here): a catalog
transferred sooner after the previous update waits out the rest (its log: \"new zone version came
too soon, deferring update\"); as these zones are created back to back, that is most of BIND's
time. Held back this way during the measurement: zonectl's catalog $zc_deferred times, PowerDNS's $pc_deferred.
Timeouts: zonectl $(field timeouts "$zcat_result") of $catalog_count (with NSD: $(field timeouts "$zncat_result") of $catalog_nsd_count), PowerDNS $(field timeouts "$pcat_result") of $catalog_count. Others' CPU
share while measured: zonectl $(field others_cpu "$zcat_result") (with NSD: $(field others_cpu "$zncat_result")), PowerDNS $(field others_cpu "$pcat_result"). Issue 6 sets no goal for this.

### Several zonectl processes (issue 6)

$load_zone_count zones of zonectl's pool (BIND and Knot serve them through the catalog, NSD by its
own configuration) get ${load_seconds}s of one-rrset changes (\`PATCH /v1/zones/{zone}/rrsets\`,
each replacing the A RRset of a name of its own with a new address, round-robin over the zones)
from 16 connections in three wrk instances (6, 5, 5 connections, \`bench/propagation/changes.lua\`),
after 2 s of the same load not counted. \"one\": all three instances against one \`zonectl serve\`;
\"three\": each against its own of three \`zonectl serve\` processes on the same database (each
\`--threads $(nproc)\`, its own HTTP and DNS port; the secondaries keep the first one's DNS port,
as all share the data). Then, from the moment the last wrk instance ended, each secondary is
asked every 10 ms for every zone's SOA until it answers the zone's serial read from the API after
the load (\"moved\": zones whose serial still changed after that read, from changes in flight;
they are waited for at their newest serial). Latencies in ms; p50 / p99 of the slowest wrk
instance. Errors: answers outside 2xx and socket errors.

| processes | changes/s acknowledged | p50 / p99 | errors | ms until every secondary serves every zone | BIND / Knot / NSD (ms) | timeouts (zone × server) | moved | others' CPU |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
$(load_row one one)
$(load_row three three)

Issue 6 sets no goal for these (issue 4's ≥ 2,500 changes/s over 16 zones is bench/api's, with
one process and no secondaries).
<!-- bench/propagation:end -->"

if [[ ${TRACE:-0} == 1 ]]; then
    sleep 0.5  # the tracer's last lines
    python3 "$here/timeline.py" "$work/trace.log" "$work/changes-zonectl.jsonl" zonectl || true
    python3 "$here/timeline.py" "$work/trace.log" "$work/changes-pdns.jsonl" pdns || true
    python3 "$here/timeline.py" "$work/trace.log" "$work/catalog-zonectl-nsd.jsonl" zonectl "$zc_catalog" || true
    python3 "$here/timeline.py" "$work/trace.log" "$work/catalog-zonectl.jsonl" zonectl "$zc_catalog" || true
    python3 "$here/timeline.py" "$work/trace.log" "$work/catalog-pdns.jsonl" pdnscat "$pc_catalog" || true
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

#!/usr/bin/env bash
# API benchmark (issue 4): the same wrk load against zonectl and against PowerDNS 4.7's HTTP API
# (Debian pdns-server with the gpgsql backend), both on one private PostgreSQL, in one run:
#   (a) one-rrset changes on one zone, (b) the same spread over 16 zones,
#   (c) GET of a zone with 1,000 RRsets; plus pgbench -N on the same PostgreSQL as the ceiling.
# After (a) it also counts, for each system, how many serial changes the zone got for the
# changes it acknowledged: under concurrency that is where hosted DNS goes wrong.
# Results go to docs/benchmarks.md between the bench:api markers.
#
# Environment: ZONECTL (binary; default <repo>/.build/release/zonectl, built if missing),
# DURATION (seconds per run, 15), CONNECTIONS (16), THREADS (zonectl --threads, nproc),
# NO_DOCS=1 (print only). Needs root (apt-get for PowerDNS, runuser for PostgreSQL).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/bench/api"
zonectl="${ZONECTL:-$repo/.build/release/zonectl}"
duration="${DURATION:-15}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-$(nproc)}"
pg_bin=/usr/lib/postgresql/15/bin

if [[ ! -x "$zonectl" ]]; then
    echo "building zonectl (release)…"
    (cd "$repo" && swift build -c release --product zonectl >/dev/null)
fi
if ! command -v pdns_server >/dev/null || [[ ! -d /usr/share/pdns-backend-pgsql ]]; then
    echo "installing PowerDNS (pdns-server, pdns-backend-pgsql)…"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pdns-server pdns-backend-pgsql >/dev/null
    systemctl disable --now pdns >/dev/null 2>&1 || service pdns stop >/dev/null 2>&1 || true
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work="$(mktemp -d /tmp/zonectl-bench-api.XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "starting PostgreSQL…"
pg_port=$(free_port)
mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres -A trust -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
psql_as() { runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
for db in zonectl pdns pgbench; do runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"; done
psql_as -d pdns -f /usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql >/dev/null

echo "starting zonectl…"
export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/zonectl"
"$zonectl" migrate >/dev/null
zonectl_port=$(free_port)
"$zonectl" serve --port "$zonectl_port" --threads "$threads" 2>"$work/zonectl.log" &
pids+=($!)
token=$("$zonectl" token create --operator --description bench)

echo "starting PowerDNS…"
pdns_api_port=$(free_port)
pdns_dns_port=$(free_port)
pdns_key=bench-$(date +%s)
mkdir -p "$work/pdns"
cat >"$work/pdns/pdns.conf" <<CONF
launch=gpgsql
gpgsql-host=127.0.0.1
gpgsql-port=$pg_port
gpgsql-dbname=pdns
gpgsql-user=postgres
api=yes
api-key=$pdns_key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$pdns_api_port
webserver-allow-from=127.0.0.0/8
local-address=127.0.0.1
local-port=$pdns_dns_port
socket-dir=$work/pdns
guardian=no
daemon=no
loglevel=3
CONF
pdns_server --config-dir="$work/pdns" >"$work/pdns.log" 2>&1 &
pids+=($!)

wait_http() {
    for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
    echo "no answer from $1" >&2
    exit 1
}
wait_http "http://127.0.0.1:$zonectl_port/v1/health"
wait_http "http://127.0.0.1:$pdns_api_port/"

zc() { curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
pd() { curl -sf -H "X-API-Key: $pdns_key" -H 'Content-Type: application/json' "$@"; }
zurl="http://127.0.0.1:$zonectl_port"
purl="http://127.0.0.1:$pdns_api_port/api/v1/servers/localhost"

account=$(zc -d '{"name": "bench", "max_zones": 1000, "max_records_per_zone": 10000000}' "$zurl/v1/accounts" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
make_zone() {
    zc -d "{\"name\": \"$1\", \"account_id\": $account, \"serial_policy\": \"increment\"}" "$zurl/v1/zones" >/dev/null
    pd -d "{\"name\": \"$1.\", \"kind\": \"Native\", \"nameservers\": [\"ns1.example.net.\", \"ns2.example.net.\"], \"soa_edit_api\": \"INCREASE\"}" \
        "$purl/zones" >/dev/null
}
one=one.bench.example
many=$(for i in $(seq 0 15); do printf 'm%d.bench.example,' "$i"; done)
many=${many%,}
read_zone=read.bench.example
echo "creating zones…"
for zone in $one ${many//,/ } $read_zone; do make_zone "$zone"; done

echo "filling $read_zone with 1,000 RRsets…"
python3 - "$read_zone" >"$work/zonectl-fill.json" 3>"$work/pdns-fill.json" <<'PY'
import json, os, sys
zone = sys.argv[1]
names = [f"r{i}.{zone}" for i in range(1000)]
json.dump({"changes": [{"action": "replace", "name": n, "type": "A", "ttl": 300, "records": [f"192.0.2.{i % 250}"]}
                       for i, n in enumerate(names)]}, sys.stdout)
with os.fdopen(3, "w") as pdns:
    json.dump({"rrsets": [{"name": n + ".", "type": "A", "ttl": 300, "changetype": "REPLACE",
                           "records": [{"content": f"192.0.2.{i % 250}", "disabled": False}]} for i, n in enumerate(names)]}, pdns)
PY
zc -X PATCH --data-binary @"$work/zonectl-fill.json" "$zurl/v1/zones/$read_zone/rrsets" >/dev/null
pd -X PATCH --data-binary @"$work/pdns-fill.json" "$purl/zones/$read_zone." >/dev/null

# run_wrk SYSTEM MODE ZONES URL → "requests/s p50 p99 errors requests"
run_wrk() {
    local system=$1 mode=$2 zones=$3 url=$4 secret
    if [[ $system == zonectl ]]; then secret=$token; else secret=$pdns_key; fi
    MODE=$mode SYSTEM=$system ZONES=$zones TOKEN=$secret wrk -t2 -c"$connections" -d"${duration}s" --timeout 10s \
        -s "$here/load.lua" "$url" 2>&1 | awk '/^RESULT/ {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            printf "%.0f %s %s %d %d\n", v["requests"] / v["seconds"], v["p50_ms"], v["p99_ms"], v["non2xx"] + v["socket_errors"], v["requests"] }'
}

zone_serial_zonectl() { zc "$zurl/v1/zones/$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["serial"])'; }
zone_serial_pdns() { pd "$purl/zones/$1." | python3 -c 'import json, sys; print(json.load(sys.stdin)["serial"])'; }

echo "(a) one zone, $connections connections, ${duration}s each…"
zs0=$(zone_serial_zonectl $one); ps0=$(zone_serial_pdns $one)
read -r a_z a_z50 a_z99 a_zerr a_zreq <<<"$(run_wrk zonectl change $one "$zurl")"
read -r a_p a_p50 a_p99 a_perr a_preq <<<"$(run_wrk pdns change $one "$purl")"
zs1=$(zone_serial_zonectl $one); ps1=$(zone_serial_pdns $one)
zonectl_journal=$(psql_as -d zonectl -c "SELECT count(*) FROM zone_changes c JOIN zones z ON z.id = c.zone_id WHERE z.name = '$one.' AND c.kind = 'rrsets'")
pdns_soas=$(psql_as -d pdns -c "SELECT count(*) FROM records r JOIN domains d ON d.id = r.domain_id WHERE d.name = '$one' AND r.type = 'SOA'")

echo "(b) 16 zones…"
read -r b_z b_z50 b_z99 b_zerr b_zreq <<<"$(run_wrk zonectl change "$many" "$zurl")"
read -r b_p b_p50 b_p99 b_perr b_preq <<<"$(run_wrk pdns change "$many" "$purl")"

echo "(c) GET of a 1,000-RRset zone…"
read -r c_z c_z50 c_z99 c_zerr c_zreq <<<"$(run_wrk zonectl read $read_zone "$zurl")"
read -r c_p c_p50 c_p99 c_perr c_preq <<<"$(run_wrk pdns read $read_zone "$purl")"

echo "pgbench -N (ceiling)…"
runuser -u postgres -- "$pg_bin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s 1 pgbench >/dev/null 2>&1
pgbench_tps=$(runuser -u postgres -- "$pg_bin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -N -c "$connections" -j 2 \
    -T "$duration" pgbench 2>/dev/null | awk '/^tps/ { printf "%.0f", $3; exit }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }
goal() { awk -v v="$1" -v g="$2" 'BEGIN { print (v >= g ? "met" : "not met") }'; }
ok_a=$(goal "$(awk -v a="$a_z" -v b="$a_p" 'BEGIN { print (b > 0 ? a / b : 0) }')" 10)
ok_a2=$(goal "$(awk -v a="$a_z" -v b="$pgbench_tps" 'BEGIN { print (b > 0 ? a / b : 0) }')" 0.35)
ok_b=$(goal "$b_z" 2500)
ok_c=$(goal "$(awk -v a="$c_z" -v b="$c_p" 'BEGIN { print (b > 0 ? a / b : 0) }')" 20)

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
pdns_version=$(dpkg-query -W -f='${Version}' pdns-server 2>/dev/null || echo unknown)
section="<!-- bench:api:start -->
## API (bench/api/run.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs ($cpu); zonectl $(git -C "$repo" rev-parse --short HEAD) release build
with --threads $threads; PowerDNS $pdns_version (gpgsql, api=yes); PostgreSQL 15 shared by both, fsync on.
wrk -t2 -c$connections -d${duration}s with bench/api/load.lua; each change request replaces the A RRset of a new name.
Latencies in ms. \"errors\" counts non-2xx answers and socket errors.

| run | system | requests/s | p50 | p99 | errors | vs PowerDNS | goal |
| --- | --- | --- | --- | --- | --- | --- | --- |
| (a) changes, 1 zone | zonectl | $a_z | $a_z50 | $a_z99 | $a_zerr | $(ratio "$a_z" "$a_p") | ≥10x PowerDNS: $ok_a; ≥35% of pgbench ($(percent "$a_z" "$pgbench_tps")): $ok_a2 |
| (a) changes, 1 zone | PowerDNS | $a_p | $a_p50 | $a_p99 | $a_perr | | |
| (b) changes, 16 zones | zonectl | $b_z | $b_z50 | $b_z99 | $b_zerr | $(ratio "$b_z" "$b_p") | ≥2,500/s: $ok_b |
| (b) changes, 16 zones | PowerDNS | $b_p | $b_p50 | $b_p99 | $b_perr | | |
| (c) GET 1,000 RRsets | zonectl | $c_z | $c_z50 | $c_z99 | $c_zerr | $(ratio "$c_z" "$c_p") | ≥20x PowerDNS: $ok_c |
| (c) GET 1,000 RRsets | PowerDNS | $c_p | $c_p50 | $c_p99 | $c_perr | | |
| pgbench -N -c$connections | PostgreSQL | $pgbench_tps | | | | | ceiling |

Serials after run (a): zonectl went from $zs0 to $zs1 ($((zs1 - zs0)) serials) for $((a_zreq - a_zerr)) acknowledged
changes, with $zonectl_journal journal entries (changes still in flight when wrk stopped commit but are not
counted by wrk, hence a few more serials than acknowledgements); PowerDNS went from $ps0 to $ps1 ($((ps1 - ps0)) serials) for
$((a_preq - a_perr)) acknowledged changes, and its zone holds $pdns_soas SOA record(s).
<!-- bench:api:end -->"

printf '%s\n' "$section"
if [[ "${NO_DOCS:-0}" != 1 ]]; then
    docs="$repo/docs/benchmarks.md"
    [[ -f "$docs" ]] || printf '# Benchmarks\n\nFigures from the scripts under bench/, newest run of each section.\n\n' >"$docs"
    python3 - "$docs" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
pattern = re.compile(r"<!-- bench:api:start -->.*?<!-- bench:api:end -->", re.S)
text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
    echo "wrote the API section of $docs"
fi

#!/usr/bin/env bash
# API benchmark (issue 4, "Speed"): the same wrk load against zonectl and against PowerDNS 4.7's
# HTTP API (Debian pdns-server with the gpgsql backend), both on one private PostgreSQL 15, in
# one run:
#   (a) one-rrset changes on one zone, (b) the same spread over 16 zones,
#   (c) GET of a zone of 1,000 RRsets; plus pgbench -N on the same PostgreSQL as the ceiling,
#   with CONNECTIONS clients and with as many as zonectl may hold (DB_CONNECTIONS).
# After (a) it reads each zone back through its system's API (zone_audit.py): serials gone
# through, benchmark RRsets stored, SOA records, and for zonectl the journal's serial chain.
# Under concurrency that is where hosted DNS goes wrong, so speed is shown beside it.
# Results go to docs/benchmarks.md between the bench/api markers; everything started here is
# stopped on exit, failure or interrupt. Only 127.0.0.1 and kernel-chosen ports are used.
#
# Environment:
#   ZONECTL      zonectl binary (default <repo>/.build/release/zonectl, built if missing)
#   DURATION     seconds of each measured run (15)
#   WARMUP       seconds of unmeasured load before each measured run (3)
#   CONNECTIONS  wrk connections and pgbench clients (16)
#   THREADS      zonectl serve --threads (0: a thread per connection, zonectl's default)
#   DB_CONNECTIONS  zonectl serve --database-connections (16, zonectl's default)
#   NO_DOCS=1    print the section only, leave docs/benchmarks.md alone
# Needs root: apt-get for PowerDNS if missing, runuser for PostgreSQL.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$repo/bench/api"
zonectl="${ZONECTL:-$repo/.build/release/zonectl}"
duration="${DURATION:-15}"
warmup="${WARMUP:-3}"
connections="${CONNECTIONS:-16}"
threads="${THREADS:-0}"
db_connections="${DB_CONNECTIONS:-16}"
wrk_threads=$((connections < 2 ? connections : 2))
pg_bin=/usr/lib/postgresql/15/bin
pdns_schema=/usr/share/pdns-backend-pgsql/schema/schema.pgsql.sql

die() { echo "bench/api: $*" >&2; exit 1; }
source "$repo/bench/common.sh"
[[ $(id -u) == 0 ]] || die "run as root (runuser for PostgreSQL, apt-get for PowerDNS)"
install_wrk

build_zonectl "$zonectl"

install_powerdns "$pdns_schema"

work="$(mktemp -d /tmp/zonectl-bench-api.XXXXXX)"
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
        for log in "$work/zonectl.log" "$work/pdns.log" "$work/pg/server.log"; do
            [[ -s $log ]] && { echo "--- last lines of $log" >&2; tail -n 15 "$log" >&2; }
        done
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'echo "bench/api: line $LINENO failed: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM HUP

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

echo "starting PostgreSQL…"
pg_port=$(free_port)
mkdir -p "$work/pg" && chown postgres:postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres -A trust -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
psql_as() { runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
for db in zonectl pdns pgbench; do runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db"; done
psql_as -d pdns -f "$pdns_schema" >/dev/null

wait_http() {
    for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done
    die "no answer from $1"
}

echo "starting zonectl…"
export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/zonectl"
"$zonectl" migrate >/dev/null
zonectl_port=$(free_port)
"$zonectl" serve --host 127.0.0.1 --port "$zonectl_port" --dns-port 0 --rate-limit 0 --threads "$threads" \
    --database-connections "$db_connections" >"$work/zonectl.log" 2>&1 &
zonectl_pid=$!
pids+=($zonectl_pid)
wait_http "http://127.0.0.1:$zonectl_port/v1/health"
token=$("$zonectl" token create --operator --description bench)

echo "starting PowerDNS…"
pdns_api_port=$(free_port)
pdns_dns_port=$(free_port)
pdns_key=bench-$RANDOM$RANDOM
mkdir -p "$work/pdns"
# security-poll-suffix= : no status lookup over the internet; everything else stays local.
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
security-poll-suffix=
guardian=no
daemon=no
loglevel=3
CONF
pdns_server --config-dir="$work/pdns" >"$work/pdns.log" 2>&1 &
pdns_pid=$!
pids+=($pdns_pid)
wait_http "http://127.0.0.1:$pdns_api_port/"

zc() { curl -sSf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
pd() { curl -sSf -H "X-API-Key: $pdns_key" -H 'Content-Type: application/json' "$@"; }
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
warm_zone=warm.bench.example
echo "creating zones…"
for zone in $one ${many//,/ } $read_zone $warm_zone; do make_zone "$zone"; done

# The read zone gets 1,000 A RRsets: one zonectl page (limit=1000, which leaves out the
# service-owned SOA and apex NS) and one PowerDNS zone document (1,000 + SOA + NS) both carry
# the whole zone, checked below before anything is measured.
echo "filling $read_zone with 1,000 RRsets…"
python3 - "$read_zone" 1000 >"$work/zonectl-fill.json" 3>"$work/pdns-fill.json" <<'PY'
import json, os, sys
zone, count = sys.argv[1], int(sys.argv[2])
names = [f"r{i}.{zone}" for i in range(count)]
json.dump({"changes": [{"action": "replace", "name": n, "type": "A", "ttl": 300, "records": [f"192.0.2.{i % 250}"]}
                       for i, n in enumerate(names)]}, sys.stdout)
with os.fdopen(3, "w") as pdns:
    json.dump({"rrsets": [{"name": n + ".", "type": "A", "ttl": 300, "changetype": "REPLACE",
                           "records": [{"content": f"192.0.2.{i % 250}", "disabled": False}]} for i, n in enumerate(names)]}, pdns)
PY
zc -X PATCH --data-binary @"$work/zonectl-fill.json" "$zurl/v1/zones/$read_zone/rrsets" >/dev/null
pd -X PATCH --data-binary @"$work/pdns-fill.json" "$purl/zones/$read_zone." >/dev/null
read_counts=$(
    zc "$zurl/v1/zones/$read_zone/rrsets?limit=1000" |
        python3 -c 'import json, sys; print(sum(1 for r in json.load(sys.stdin)["items"] if r["type"] == "A"))'
    pd "$purl/zones/$read_zone." | python3 -c 'import json, sys; print(sum(1 for r in json.load(sys.stdin)["rrsets"] if r["type"] == "A"))'
)
[[ $(echo $read_counts) == "1000 1000" ]] ||
    die "the read zone should answer 1,000 A RRsets in one response on both; got (zonectl, PowerDNS): $(echo $read_counts)"

# cpu_mark FILE: CPU ticks now (cpu_ticks.py), for other_cpu. `times` runs in this shell, not in
# a $(...), because a subshell would report its own (empty) children.
cpu_mark() {
    local children
    times >"$work/times"
    children=$(awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } printf "%d", s * 100 }' "$work/times")
    python3 "$here/cpu_ticks.py" "$children" "$zonectl_pid" "$pdns_pid" "$(head -1 "$work/pg/postmaster.pid")" >"$1"
}
# other_cpu BEFORE AFTER → share of all CPU time between the marks used by processes not ours
other_cpu() {
    awk 'NR == FNR { a = $1; b = $2; o = $3; next }
         { all = $1 - a; other = ($2 - b) - ($3 - o); if (other < 0) other = 0
           printf "%.0f%%", (all > 0 ? 100 * other / all : 0) }' "$1" "$2"
}

# thread_mark FILE: "tid ticks" for each of zonectl's threads. zonectl hands each connection to
# one worker thread for its whole life, so a run whose connections all landed on one worker
# runs at half speed on two; busy_threads says how many did the work.
thread_mark() {
    local task
    for task in /proc/"$zonectl_pid"/task/*; do
        awk -v tid="${task##*/}" '{ sub(/^.*\) /, ""); split($0, f, " "); print tid, f[12] + f[13] }' "$task/stat" 2>/dev/null || true
    done | sort >"$1"
}
# busy_threads BEFORE AFTER → "N" threads that each did at least a tenth of zonectl's CPU work
busy_threads() {
    join "$1" "$2" | awk '{ d[$1] = $3 - $2; total += $3 - $2 }
        END { for (t in d) if (total > 0 && d[t] >= total / 10) n++; print n + 0 }'
}

# run_wrk SYSTEM MODE ZONES URL SECONDS: runs wrk and leaves in $work/result
# "requests/s p50 p99 non2xx last_bad_status socket_errors requests bytes_per_response other_cpu
#  busy_zonectl_threads" (the last is "-" for PowerDNS).
# wrk runs in the background of this shell (never inside $(...)), so that an interrupt is
# handled at once and cleanup can stop it.
run_wrk() {
    local system=$1 mode=$2 zones=$3 url=$4 seconds=$5 secret out="$work/wrk.out"
    if [[ $system == zonectl ]]; then secret=$token; else secret=$pdns_key; fi
    cpu_mark "$work/cpu.before"
    thread_mark "$work/threads.before"
    MODE=$mode SYSTEM=$system ZONES=$zones TOKEN=$secret PREFIX=${PREFIX:-t} \
        wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" --timeout 10s -s "$here/load.lua" "$url" >"$out" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait "$pid" || die "wrk failed: $(cat "$out")"
    cpu_mark "$work/cpu.after"
    thread_mark "$work/threads.after"
    local busy=-
    [[ $system == zonectl ]] && busy=$(busy_threads "$work/threads.before" "$work/threads.after")
    awk -v other="$(other_cpu "$work/cpu.before" "$work/cpu.after")" -v busy="$busy" '/^RESULT/ {
            for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            printf "%.0f %s %s %d %d %d %d %d %s %s\n", v["requests"] / v["seconds"], v["p50_ms"], v["p99_ms"],
                v["non2xx"], v["last_bad_status"], v["socket_errors"], v["requests"], v["bytes_per_response"], other, busy
            found = 1 }
         END { if (!found) exit 1 }' "$out" >"$work/result" || die "no RESULT line from wrk: $(cat "$out")"
}
# Warm-ups name their changes w<thread>-<n>: a measured run on the same zones then still
# changes names nothing has used.
warm() { if ((warmup > 0)); then PREFIX=w run_wrk "$@" "$warmup"; fi; }
wrk_command="wrk -t$wrk_threads -c$connections -d${duration}s --timeout 10s -s bench/api/load.lua"

# Before each of (a), (b), (c): VACUUM ANALYZE both databases, so that no figure depends on
# whether autovacuum happened to come by after the previous run's thousands of writes (seen:
# zonectl's GET of (c) at 181/s on stale statistics and 390/s after VACUUM ANALYZE).
settle() { psql_as -d zonectl -c "VACUUM ANALYZE"; psql_as -d pdns -c "VACUUM ANALYZE"; }
audit() { python3 "$here/zone_audit.py" "$@"; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }

echo "(a) changes on one zone, $connections connections, ${duration}s each…"
settle
warm zonectl change $warm_zone "$zurl"
before_z=$(audit zonectl "$zurl" "$token" $one)
run_wrk zonectl change $one "$zurl" "$duration"
read -r a_z a_z50 a_z99 a_zbad a_zstatus a_zsock a_zreq _ a_zcpu a_zbusy <"$work/result"
after_z=$(audit zonectl "$zurl" "$token" $one)
warm pdns change $warm_zone "$purl"
before_p=$(audit pdns "$purl" "$pdns_key" $one)
run_wrk pdns change $one "$purl" "$duration"
read -r a_p a_p50 a_p99 a_pbad a_pstatus a_psock a_preq _ a_pcpu a_pbusy <"$work/result"
after_p=$(audit pdns "$purl" "$pdns_key" $one)
pdns_soa_rows=$(psql_as -d pdns -c "SELECT count(*) FROM records r JOIN domains d ON d.id = r.domain_id WHERE d.name = '$one' AND r.type = 'SOA'")

audit_many() { # SYSTEM URL SECRET → "serial_sum bench_rrsets_sum soa_records_sum"
    local zone line serials=0 stored=0 soas=0
    for zone in ${many//,/ }; do
        line=$(audit "$1" "$2" "$3" "$zone")
        serials=$((serials + $(field serial "$line")))
        stored=$((stored + $(field bench_rrsets "$line")))
        soas=$((soas + $(field soa_records "$line")))
    done
    echo "$serials $stored $soas"
}

echo "(b) changes spread over 16 zones…"
settle
# Warmed on the same 16 zones, before the read-back that the audit counts from.
warm zonectl change "$many" "$zurl"
read -r bz_serials0 bz_stored0 _ <<<"$(audit_many zonectl "$zurl" "$token")"
run_wrk zonectl change "$many" "$zurl" "$duration"
read -r b_z b_z50 b_z99 b_zbad b_zstatus b_zsock b_zreq _ b_zcpu b_zbusy <"$work/result"
warm pdns change "$many" "$purl"
read -r bp_serials0 bp_stored0 _ <<<"$(audit_many pdns "$purl" "$pdns_key")"
run_wrk pdns change "$many" "$purl" "$duration"
read -r b_p b_p50 b_p99 b_pbad b_pstatus b_psock b_preq _ b_pcpu b_pbusy <"$work/result"
read -r bz_serials1 bz_stored1 bz_soas <<<"$(audit_many zonectl "$zurl" "$token")"
read -r bp_serials1 bp_stored1 bp_soas <<<"$(audit_many pdns "$purl" "$pdns_key")"
[[ -n $bz_soas && -n $bp_soas ]] || die "could not read the 16 zones back"

echo "(c) GET of a 1,000-RRset zone…"
settle
warm zonectl read $read_zone "$zurl"
run_wrk zonectl read $read_zone "$zurl" "$duration"
read -r c_z c_z50 c_z99 c_zbad c_zstatus c_zsock c_zreq c_zbytes c_zcpu c_zbusy <"$work/result"
warm pdns read $read_zone "$purl"
run_wrk pdns read $read_zone "$purl" "$duration"
read -r c_p c_p50 c_p99 c_pbad c_pstatus c_psock c_preq c_pbytes c_pcpu c_pbusy <"$work/result"

echo "pgbench -N (the ceiling)…"
pgbench_init="pgbench -i -q -s 1 pgbench"
runuser -u postgres -- "$pg_bin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -i -q -s 1 pgbench >/dev/null 2>&1
# run_pgbench CLIENTS → "tps latency_average_ms others_cpu"
run_pgbench() {
    local out="$work/pgbench.out"
    cpu_mark "$work/cpu.before"
    runuser -u postgres -- "$pg_bin/pgbench" -h 127.0.0.1 -p "$pg_port" -U postgres -N -c "$1" -j "$(($1 < 2 ? $1 : 2))" \
        -T "$duration" pgbench >"$out" 2>&1 || die "pgbench failed: $(cat "$out")"
    cpu_mark "$work/cpu.after"
    awk -v other="$(other_cpu "$work/cpu.before" "$work/cpu.after")" '
        /^tps/ { tps = $3 } /^latency average/ { latency = $4 }
        END { if (tps == "") exit 1; printf "%.0f %s %s\n", tps, latency, other }' "$out" >"$work/result" ||
        die "no tps from pgbench: $(cat "$out")"
}
run_pgbench "$connections"
read -r pgbench_tps pgbench_latency pgbench_cpu <"$work/result"
# The same -N load from as many connections as zonectl may hold (--database-connections): with
# fsync on, what that many connections can commit bounds zonectl's change rate, whatever the
# HTTP side does. The same run as above when the counts agree.
if [[ $db_connections == "$connections" ]]; then
    read -r pgbench_few_tps pgbench_few_latency pgbench_few_cpu <<<"$pgbench_tps $pgbench_latency $pgbench_cpu"
else
    run_pgbench "$db_connections"
    read -r pgbench_few_tps pgbench_few_latency pgbench_few_cpu <"$work/result"
fi


ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }
at_least() { awk -v v="$1" -v g="$2" 'BEGIN { print (v >= g ? "met" : "NOT met") }'; }
quotient() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 ? a / b : 0) }'; }
errors() { # non2xx last_status socket_errors → "0" or "12 (503) + 3 socket"
    local text=$1
    [[ $1 != 0 ]] && text="$1 (last $2)"
    [[ $3 != 0 ]] && text="$text + $3 socket"
    echo "$text"
}
goal_a1=$(at_least "$(quotient "$a_z" "$a_p")" 10)
goal_a2=$(at_least "$(quotient "$a_z" "$pgbench_tps")" 0.35)
goal_b=$(at_least "$b_z" 2500)
goal_c=$(at_least "$(quotient "$c_z" "$c_p")" 20)
# A goal reached with errors is not reached.
[[ $a_zbad$a_zsock == 00 ]] || { goal_a1="NOT met (errors)"; goal_a2="NOT met (errors)"; }
[[ $b_zbad$b_zsock == 00 ]] || goal_b="NOT met (errors)"
[[ $c_zbad$c_zsock == 00 ]] || goal_c="NOT met (errors)"

z_serials=$(($(field serial "$after_z") - $(field serial "$before_z")))
z_changes=$(($(field journal_changes "$after_z") - $(field journal_changes "$before_z")))
z_stored=$(($(field bench_rrsets "$after_z") - $(field bench_rrsets "$before_z")))
p_serials=$(($(field serial "$after_p") - $(field serial "$before_p")))
p_stored=$(($(field bench_rrsets "$after_p") - $(field bench_rrsets "$before_p")))
z_acked=$((a_zreq - a_zbad))
p_acked=$((a_preq - a_pbad))

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
pdns_version=$(dpkg-query -W -f='${Version}' pdns-server 2>/dev/null || echo unknown)
pg_version=$("$pg_bin/postgres" --version | awk '{ print $3 }')
wrk_version=$({ wrk -v 2>&1 || true; } | awk 'NR == 1 { print $2 }')  # wrk -v exits 1
zonectl_commit=$(git -C "$repo" rev-parse --short HEAD)
[[ -z $(git -C "$repo" status --porcelain -- bench/api) ]] || zonectl_commit="$zonectl_commit (bench/api modified)"
zonectl_built=$(date -u -r "$zonectl" +%Y-%m-%dT%H:%MZ)
zonectl_shown=${ZONECTL:+$zonectl}
if [[ $threads == 0 ]]; then
    # Every connection has its own thread: "busy threads" would only count connections.
    threading="a thread per connection"; busy_of=""; a_zbusy=-; b_zbusy=-; c_zbusy=-
else
    threading="a pool of $threads threads"; busy_of=" of $threads"
fi
few_row="| pgbench -N -c$db_connections | PostgreSQL | $pgbench_few_tps | | | | $pgbench_few_cpu | | | zonectl's $db_connections connections' ceiling (latency average $pgbench_few_latency ms) |"
[[ $db_connections == "$connections" ]] && few_row=""
zonectl_shown=${zonectl_shown:-.build/release/zonectl}

section="<!-- bench/api:start -->
## API (bench/api/run.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -srm), $(nproc) CPUs ($cpu); load average $load_start before
it started (the machine may be shared with builds: compare runs with that in mind).
Versions: zonectl \`$zonectl_shown\` built $zonectl_built, repo at $zonectl_commit (release build,
\`--threads $threads --database-connections $db_connections\`, $threading); PowerDNS $pdns_version (gpgsql, api=yes); PostgreSQL $pg_version (one private
cluster shared by both, default settings, fsync and synchronous_commit on); wrk $wrk_version.

Commands (each measured run follows ${warmup}s of the same load that is not counted, on
\`$warm_zone\` for (a) and on the same zones for (b) and (c); changes name a new
\`t<thread>-<n>\` A RRset every time (warm-ups \`w<thread>-<n>\`), so each request is a real change; before each
of (a), (b) and (c) both databases get \`VACUUM ANALYZE\`, so no figure hangs on autovacuum's timing):

\`\`\`
zonectl migrate && zonectl serve --host 127.0.0.1 --port <free> --threads $threads --database-connections $db_connections   # DATABASE_URL=…/zonectl
pdns_server --config-dir=<tmp>   # launch=gpgsql (database pdns), api=yes, webserver and DNS on 127.0.0.1:<free>
(a) MODE=change SYSTEM=zonectl|pdns ZONES=$one $wrk_command URL
(b) MODE=change SYSTEM=zonectl|pdns ZONES=m0.bench.example,…,m15.bench.example $wrk_command URL
(c) MODE=read   SYSTEM=zonectl|pdns ZONES=$read_zone $wrk_command URL
    zonectl: PATCH /v1/zones/{zone}/rrsets, GET /v1/zones/{zone}/rrsets?limit=1000
    PowerDNS: PATCH /api/v1/servers/localhost/zones/{zone}. (changetype REPLACE, soa_edit_api INCREASE),
              GET /api/v1/servers/localhost/zones/{zone}.
$pgbench_init && pgbench -N -c $connections -j 2 -T $duration pgbench
pgbench -N -c $db_connections -j $((db_connections < 2 ? db_connections : 2)) -T $duration pgbench   # as many connections as zonectl's --database-connections
\`\`\`

Latencies in ms. Errors are answers outside 2xx (counted in wrk's response hook) and socket errors.
\"Others' CPU\" is the share of all CPU time during that run used by processes that are not this
benchmark's (another helper's build, say): well above 0% means that figure was held down by other work.
\"zonectl threads busy\" counts zonectl's threads that each did at least a tenth of its CPU work in
that run: with a fixed pool (--threads N) zonectl keeps a connection on one worker thread, and
when all of wrk's connections land on the same one, the run goes at the speed of one thread
whatever --threads says; with a thread per connection (--threads 0) each connection has its own.

| run | system | requests/s | p50 | p99 | errors | others' CPU | zonectl threads busy | vs PowerDNS | goal |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| (a) changes, 1 zone | zonectl | $a_z | $a_z50 | $a_z99 | $(errors "$a_zbad" "$a_zstatus" "$a_zsock") | $a_zcpu | $a_zbusy$busy_of | $(ratio "$a_z" "$a_p") | ≥10x PowerDNS: $goal_a1; ≥35% of pgbench ($(percent "$a_z" "$pgbench_tps")): $goal_a2 |
| (a) changes, 1 zone | PowerDNS | $a_p | $a_p50 | $a_p99 | $(errors "$a_pbad" "$a_pstatus" "$a_psock") | $a_pcpu | | | |
| (b) changes, 16 zones | zonectl | $b_z | $b_z50 | $b_z99 | $(errors "$b_zbad" "$b_zstatus" "$b_zsock") | $b_zcpu | $b_zbusy$busy_of | $(ratio "$b_z" "$b_p") | ≥2,500/s: $goal_b |
| (b) changes, 16 zones | PowerDNS | $b_p | $b_p50 | $b_p99 | $(errors "$b_pbad" "$b_pstatus" "$b_psock") | $b_pcpu | | | |
| (c) GET 1,000 RRsets | zonectl | $c_z | $c_z50 | $c_z99 | $(errors "$c_zbad" "$c_zstatus" "$c_zsock") | $c_zcpu | $c_zbusy$busy_of | $(ratio "$c_z" "$c_p") | ≥20x PowerDNS: $goal_c |
| (c) GET 1,000 RRsets | PowerDNS | $c_p | $c_p50 | $c_p99 | $(errors "$c_pbad" "$c_pstatus" "$c_psock") | $c_pcpu | | | |
| pgbench -N -c$connections | PostgreSQL | $pgbench_tps | | | | $pgbench_cpu | | | ceiling (latency average $pgbench_latency ms) |
$few_row

One response in (c) is $c_zbytes bytes from zonectl and $c_pbytes bytes from PowerDNS.

Correctness of (a), read back through each API afterwards. A change in flight when wrk stops
still commits but is not counted as acknowledged, so up to $connections more changes than
acknowledgements is expected; fewer serials or stored RRsets than acknowledged changes is not.

| system | acknowledged changes | serial bumps | RRsets stored | other |
| --- | --- | --- | --- | --- |
| zonectl | $z_acked | $z_serials ($(field serial "$before_z") → $(field serial "$after_z")) | $z_stored | $z_changes journal entries; $(field journal_breaks "$after_z") breaks in the serial chain, $(field journal_duplicate_serials "$after_z") duplicate serials; $(field soa_records "$after_z") SOA record(s) |
| PowerDNS | $p_acked | $p_serials ($(field serial "$before_p") → $(field serial "$after_p")) | $p_stored | $(field soa_records "$after_p") SOA record(s) in the API's answer, $pdns_soa_rows SOA row(s) in its database |

The same for (b), summed over the 16 zones: zonectl $((b_zreq - b_zbad)) acknowledged, $((bz_serials1 - bz_serials0)) serial bumps,
$((bz_stored1 - bz_stored0)) RRsets stored, $bz_soas SOA records in 16 zones; PowerDNS $((b_preq - b_pbad)) acknowledged,
$((bp_serials1 - bp_serials0)) serial bumps, $((bp_stored1 - bp_stored0)) RRsets stored, $bp_soas SOA records in 16 zones.
<!-- bench/api:end -->"

printf '\n%s\n' "$section"
if [[ "${NO_DOCS:-0}" != 1 ]]; then
    docs="$repo/docs/benchmarks.md"
    [[ -f "$docs" ]] || printf '# Benchmarks\n\nFigures from the scripts under bench/, newest run of each section.\n\n' >"$docs"
    # Replaces this script's own section only (also the one an earlier version wrote under
    # bench:api markers); bench/zonefile/run.sh's section is left as it is.
    python3 - "$docs" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
for start, end in (("bench/api:start", "bench/api:end"), ("bench:api:start", "bench:api:end")):
    pattern = re.compile(rf"<!-- {re.escape(start)} -->.*?<!-- {re.escape(end)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
        break
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
    echo "wrote the API section of $docs"
fi

#!/usr/bin/env bash
# Where a batch of zone changes spends its time on the database side, under bench/api's load (b):
# changes spread over 16 zones by 16 connections. Prints the change rate, the mean batch size,
# PostgreSQL's mean execution time per call of the statements that took longest
# (pg_stat_statements), the WAL flushes and their mean duration (pg_stat_wal with
# track_wal_io_timing), and the CPU time per change of zonectl and of PostgreSQL. The figures in
# docs/architecture.md, "Where a batch's time goes", came from this kind of run. Writes no docs.
#
# Environment:
#   ZONECTL      zonectl binary (default <repo>/.build/release/zonectl; build it first)
#   DURATION     seconds of measured load (10), after 3 s of warm-up on another zone
#   CONNECTIONS  wrk connections (16)
#   PG_SETTINGS  extra PostgreSQL settings, e.g. "-c synchronous_commit=off" to see what the
#                WAL flush costs (never what bench/api measures)
# Needs root (runuser for PostgreSQL) and wrk. Only 127.0.0.1 and kernel-chosen ports are used.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
zonectl="${ZONECTL:-$repo/.build/release/zonectl}"
duration="${DURATION:-10}"
connections="${CONNECTIONS:-16}"
pg_settings="-c shared_preload_libraries=pg_stat_statements -c track_wal_io_timing=on ${PG_SETTINGS:-}"
source "$repo/bench/api/local_stack.sh"
sql "CREATE EXTENSION pg_stat_statements"
api() { curl -sSf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
account="$(api -d '{"name": "bench", "max_zones": 100, "max_records_per_zone": 10000000}' "$url/v1/accounts" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')"
zones=""
for zone in warm $(seq -f 'm%g' 0 15); do
    api -d "{\"name\": \"$zone.bench.example\", \"account_id\": $account}" "$url/v1/zones" >/dev/null
    [[ $zone == warm ]] || zones="$zones,$zone.bench.example"
done
zones="${zones#,}"

load() { # ZONES SECONDS → wrk's RESULT line
    MODE=change SYSTEM=zonectl ZONES="$1" TOKEN="$token" \
        wrk -t2 -c"$connections" -d"${2}s" -s "$repo/bench/api/load.lua" "$url" | grep '^RESULT'
}
echo "warm-up: $(load warm.bench.example 3)"
# As bench/api does before each measured run: plans and statistics from a filled table.
sql "VACUUM ANALYZE"
sql "SELECT pg_stat_statements_reset(), pg_stat_reset_shared('wal')" >/dev/null

# zonectl's CPU ticks, then zonectl's and the PostgreSQL cluster's together (cpu_ticks.py, which
# also counts backends and autovacuum workers that exited meanwhile).
postmaster="$(head -1 "$work/pg/postmaster.pid")"
cpu_marks() {
    awk '{print $14 + $15}' "/proc/$zpid/stat"
    python3 "$repo/bench/api/cpu_ticks.py" 0 "$zpid" 0 "$postmaster" | cut -d' ' -f3
}
{ read -r z0; read -r both0; } < <(cpu_marks)
result="$(load "$zones" "$duration")"
{ read -r z1; read -r both1; } < <(cpu_marks)
p0=$((both0 - z0))
p1=$((both1 - z1))
echo "measured: $result"

changes="$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$result")"
# The batch write is the one statement that checks itself with zonectl_require (migration 0007).
batches="$(sql "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%zonectl_require(%'")"
hz="$(getconf CLK_TCK)"
echo "changes: $changes in ${duration}s ($((changes / duration))/s); batches: $batches" \
    "($(python3 -c "print(round($changes / max($batches, 1), 1))") changes each)"
echo "CPU per change: zonectl $(( (z1 - z0) * 1000000 / hz / changes )) µs, PostgreSQL $(( (p1 - p0) * 1000000 / hz / changes )) µs"
echo "WAL: $(sql "SELECT wal_sync || ' flushes, ' || round((wal_sync_time / greatest(wal_sync, 1))::numeric, 3) || ' ms each on average, '
    || round(wal_bytes / greatest($changes, 1)) || ' bytes per change' FROM pg_stat_wal")"
echo "statements (PostgreSQL's execution time per call, longest in total first):"
sql "SELECT lpad(calls::text, 7), lpad(round((total_exec_time / calls)::numeric, 3)::text, 7) || ' ms',
            left(regexp_replace(query, '\s+', ' ', 'g'), 70)
     FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time DESC LIMIT 6"

#!/usr/bin/env bash
# zonectl's own CPU time per request for requests that do no zone work: GET /v1/health (no
# token, no database) and GET /v1/accounts (token, one read). A measure of the HTTP, routing,
# authentication and locking floor every request pays, apart from the database (see
# docs/architecture.md, "Locks on the request path"). Prints one line per path; writes no docs.
#
# Environment:
#   ZONECTL   zonectl binary (default <repo>/.build/release/zonectl; build it first)
#   DURATION  seconds of wrk load per path (5)
#   CONNECTIONS  wrk connections (16)
# Needs root (runuser for PostgreSQL) and wrk. Only 127.0.0.1 and kernel-chosen ports are used.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
zonectl="${ZONECTL:-$repo/.build/release/zonectl}"
duration="${DURATION:-5}"
connections="${CONNECTIONS:-16}"
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
[[ -x "$zonectl" ]] || { echo "no zonectl binary at $zonectl (swift build -c release --product zonectl)" >&2; exit 1; }

work="$(mktemp -d)"
chmod 755 "$work"
mkdir "$work/pg"
chown postgres "$work/pg"
zpid=""
cleanup() {
    [[ -n "$zpid" ]] && { kill "$zpid" 2>/dev/null; wait "$zpid" 2>/dev/null || true; }
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port="$(free_port)"
api_port="$(free_port)"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres -A trust -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres zonectl
export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/zonectl"
(cd "$repo" && "$zonectl" migrate >/dev/null)
"$zonectl" serve --host 127.0.0.1 --port "$api_port" --dns-port 0 --rate-limit 0 >"$work/zonectl.log" 2>&1 &
zpid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$api_port/v1/health" && break; sleep 0.1; done
token="$(cd "$repo" && "$zonectl" token create --operator --description request-cpu)"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/auth.lua"

ticks() { awk '{print $14 + $15}' "/proc/$zpid/stat"; }
hz="$(getconf CLK_TCK)"
for path in /v1/health /v1/accounts; do
    before="$(ticks)"
    requests="$(wrk -t2 -c"$connections" -d"${duration}s" -s "$work/auth.lua" "http://127.0.0.1:$api_port$path" \
        | awk '/requests in/ {print $1}')"
    after="$(ticks)"
    echo "$path: $requests requests in ${duration}s ($((requests / duration))/s), zonectl CPU $(( (after - before) * 1000000 / hz / requests )) µs per request"
done

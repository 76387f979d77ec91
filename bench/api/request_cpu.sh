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
source "$repo/bench/api/local_stack.sh"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/auth.lua"

ticks() { awk '{print $14 + $15}' "/proc/$zpid/stat"; }
hz="$(getconf CLK_TCK)"
for path in /v1/health /v1/accounts; do
    before="$(ticks)"
    requests="$(wrk -t2 -c"$connections" -d"${duration}s" -s "$work/auth.lua" "$url$path" \
        | awk '/requests in/ {print $1}')"
    after="$(ticks)"
    echo "$path: $requests requests in ${duration}s ($((requests / duration))/s), zonectl CPU $(( (after - before) * 1000000 / hz / requests )) µs per request"
done

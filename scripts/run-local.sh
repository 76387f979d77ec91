#!/usr/bin/env bash
# `make run`: a private PostgreSQL under .local/ (created on first run, reused after), migrations,
# an operator token on first run, then zonectl serving on 127.0.0.1:8080 until Ctrl-C.
# With DATABASE_URL set, that database is used and no PostgreSQL is started.
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(pwd)
local_dir="$root/.local"
bin="$root/.build/debug/zonectl"
listen_host=${ZONECTL_HOST:-127.0.0.1}
listen_port=${ZONECTL_PORT:-8080}
dns_port=${ZONECTL_DNS_PORT:-5300}
pg_port=${ZONECTL_LOCAL_PG_PORT:-55432}
mkdir -p "$local_dir"

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ -z "${DATABASE_URL:-}" ]; then
    pgdata="$local_dir/postgres"
    pgsock="$local_dir/postgres-socket"
    if [ ! -s "$pgdata/PG_VERSION" ]; then
        echo "zonectl: creating a private PostgreSQL cluster in $pgdata"
        mkdir -p "$pgdata" "$pgsock"
        [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$pgdata" "$pgsock"
        chmod 700 "$pgdata"
        as_postgres "$pg_bin/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --no-locale >/dev/null
    fi
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$pgsock"
    if ! as_postgres "$pg_bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
        as_postgres "$pg_bin/pg_ctl" -D "$pgdata" -w -l "$pgdata/server.log" \
            -o "-p $pg_port -k $pgsock -c listen_addresses=127.0.0.1" start >/dev/null
        started_pg=1
    fi
    stop_pg() {
        if [ -n "${started_pg:-}" ]; then
            echo "zonectl: stopping the private PostgreSQL"
            as_postgres "$pg_bin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null || true
        fi
    }
    trap stop_pg EXIT
    as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'zonectl'" | grep -q 1 ||
        as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres zonectl
    export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/zonectl"
fi

"$bin" migrate

token_file="$local_dir/operator-token"
if [ ! -s "$token_file" ] || ! "$bin" token verify "$(cat "$token_file")" >/dev/null 2>&1; then
    (umask 077; "$bin" token create --operator --description "make run" >"$token_file")
fi
token=$(cat "$token_file")

cat <<MSG

zonectl is starting on http://$listen_host:$listen_port
  operator token (kept in .local/operator-token): $token
  try:  curl -H "Authorization: Bearer $token" http://$listen_host:$listen_port/v1/accounts
  secondaries transfer from 127.0.0.1 port $dns_port (UDP and TCP), e.g. in BIND:
        zone "example.com" { type secondary; primaries { 127.0.0.1 port $dns_port; }; allow-notify { 127.0.0.1; }; file "example.com.db"; };
        then add the server to a pool: POST /v1/pools/{pool}/servers {"address": "127.0.0.1", "port": 53}
  stop: Ctrl-C (also stops the private PostgreSQL)

MSG

# Run in the background and wait, so Ctrl-C reaches zonectl for a graceful stop and the EXIT trap
# still stops PostgreSQL afterwards.
"$bin" serve --host "$listen_host" --port "$listen_port" --dns-port "$dns_port" &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' INT TERM
wait $server || true
wait $server 2>/dev/null || true

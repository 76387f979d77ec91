# Sourced by bench/api's single-system scripts (request_cpu.sh, batch_costs.sh): a private
# PostgreSQL under a temporary folder, migrated, and zonectl serving on 127.0.0.1, both on
# kernel-chosen ports and both stopped on exit. Set before sourcing: repo, zonectl, and
# optionally pg_settings (extra "-c name=value" options for PostgreSQL). Sets: work, pg_bin,
# pg_port, url, zpid, token (an operator token), and sql (runs one SQL command, prints rows).
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
[[ -x "$zonectl" ]] || { echo "no zonectl binary at $zonectl (swift build -c release --product zonectl)" >&2; exit 1; }

work="$(mktemp -d)"
chmod 755 "$work"
mkdir "$work/pg"
chown postgres "$work/pg"
zpid=""
cleanup() {
    # Each step may fail (zonectl may have exited already) without ending the cleanup: set -e holds here too.
    if [[ -n "$zpid" ]]; then kill "$zpid" 2>/dev/null || true; wait "$zpid" 2>/dev/null || true; fi
    runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port="$(free_port)"
api_port="$(free_port)"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg" -U postgres -A trust -E UTF8 --no-locale >/dev/null
runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg" -w -l "$work/pg/server.log" \
    -o "-p $pg_port -k $work/pg -c listen_addresses=127.0.0.1 ${pg_settings:-}" start >/dev/null
runuser -u postgres -- "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres zonectl
sql() { runuser -u postgres -- "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -d zonectl -qAt -F ' ' -c "$1"; }
export DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/zonectl"
(cd "$repo" && "$zonectl" migrate >/dev/null)
"$zonectl" serve --host 127.0.0.1 --port "$api_port" --dns-port 0 --rate-limit 0 >"$work/zonectl.log" 2>&1 &
zpid=$!
url="http://127.0.0.1:$api_port"
for _ in $(seq 100); do curl -s -o /dev/null "$url/v1/health" && break; sleep 0.1; done
token="$(cd "$repo" && "$zonectl" token create --operator --description "$(basename "$0")")"

#!/usr/bin/env bash
# Installs the Debian packages zonectl builds, runs and tests with, and schemathesis (from PyPI,
# into a virtualenv under .local/tools), skipping what is present. Run as root (or with sudo
# available). Quick the second time: it only asks dpkg and looks for schemathesis's files.
set -euo pipefail

packages=(
    libmicrohttpd-dev libpq-dev               # the C libraries the service links
    bind9 bind9-utils dnsutils                # named, named-checkzone, dig
    knot knot-dnsutils knot-dnssecutils       # knotd, kdig, kzonecheck
    nsd ldnsutils                             # nsd, ldns-read-zone
    time                                      # /usr/bin/time -v for benchmarks' peak memory
    python3 python3-venv                      # the virtualenv schemathesis runs in
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
    echo "zonectl: installing Debian packages: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The Debian packages enable their daemons; tests start their own on free ports instead.
    for svc in named bind9 knot nsd; do
        "${sudo_cmd[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
        "${sudo_cmd[@]}" service "$svc" stop >/dev/null 2>&1 || true
    done
fi

# schemathesis (the API tests run it against the live server with openapi.yaml). A virtualenv of
# the project's own, because Debian's Python is "externally managed" and refuses pip installs.
# Pinned, so a new release cannot change what `make test` checks; 4.x reads OpenAPI 3.0.
schemathesis_version=4.32.5
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.local/tools/venv"
installed() { compgen -G "$venv/lib/python3*/site-packages/schemathesis-$schemathesis_version.dist-info" >/dev/null; }
if ! installed || [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/python" -c "" 2>/dev/null; then
    echo "zonectl: installing schemathesis $schemathesis_version into $venv"
    python=python3
    [ -x /usr/bin/python3 ] && python=/usr/bin/python3
    mkdir -p "$(dirname "$venv")"
    "$python" -m venv --clear "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$schemathesis_version"
    installed || { echo "zonectl: schemathesis $schemathesis_version did not install into $venv" >&2; exit 1; }
fi

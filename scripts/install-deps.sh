#!/usr/bin/env bash
# Installs the Debian packages zonectl builds, runs and tests with, skipping what is present.
# Run as root (or with sudo available). Quick the second time: it only asks dpkg.
set -euo pipefail

packages=(
    libmicrohttpd-dev libpq-dev               # the C libraries the service links
    bind9 bind9-utils dnsutils                # named, named-checkzone, dig
    knot knot-dnsutils knot-dnssecutils       # knotd, kdig, kzonecheck
    nsd ldnsutils                             # nsd, ldns-read-zone
    time                                      # /usr/bin/time -v for benchmarks' peak memory
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

# What the benchmark scripts share; sourced by bench/*/run.sh, which define die() first.

# build_zonectl BINARY: a release build of zonectl when BINARY is not there yet.
build_zonectl() {
    if [[ ! -x "$1" ]]; then
        echo "building zonectl (release)…"
        (cd "$repo" && swift build -c release --product zonectl >/dev/null)
    fi
}

# install_wrk: make deps installs the secondaries; wrk, the load generator, is the benchmarks' own.
install_wrk() {
    if ! command -v wrk >/dev/null; then
        echo "installing wrk…"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null ||
            die "apt-get install wrk failed"
    fi
}

# install_powerdns SCHEMA: Debian's pdns-server and pdns-backend-pgsql, unless pdns_server and
# the PostgreSQL schema file SCHEMA are both there.
install_powerdns() {
    local schema=$1 policy=/usr/sbin/policy-rc.d own_policy=0
    command -v pdns_server >/dev/null && [[ -f "$schema" ]] && return 0
    echo "installing PowerDNS (pdns-server, pdns-backend-pgsql)…"
    # The package would start its own pdns on 0.0.0.0:53; a policy-rc.d that refuses every
    # start keeps it down during the install (only if the system has none of its own).
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        pdns-server pdns-backend-pgsql >/dev/null || { [[ $own_policy == 1 ]] && rm -f "$policy"; die "apt-get install failed"; }
    [[ $own_policy == 1 ]] && rm -f "$policy"
    systemctl disable --now pdns >/dev/null 2>&1 || service pdns stop >/dev/null 2>&1 || true
    [[ -f "$schema" ]] || die "no PowerDNS schema at $schema"
}

# free_port: a TCP port on 127.0.0.1 that the kernel says is free now.
free_port() {
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    [[ $port != 53 ]] || die "the kernel offered port 53"
    echo "$port"
}

#!/usr/bin/env bash
# Two zonectl builds compared under bench/api's load (b), in alternating runs: this machine's
# speed drifts by tens of percent over minutes, so only runs side by side say which build is
# faster. Each run is a full bench/api/batch_costs.sh (fresh PostgreSQL, 16 zones, warm-up,
# VACUUM ANALYZE, DURATION seconds of load). Prints every run's change rate and CPU per change,
# then each pair's rate ratio (B over A) and their median. Writes no docs.
#
# Usage: bench/api/alternate.sh A-binary B-binary [pairs (6)]
# Environment: DURATION, CONNECTIONS, PG_SETTINGS as batch_costs.sh takes them.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $# -ge 2 ]] || { echo "usage: $0 A-binary B-binary [pairs]" >&2; exit 2; }
pairs="${3:-6}"
ratios=()
for pair in $(seq "$pairs"); do
    declare -A rate=()
    for side in A B; do
        binary="$1"; [[ $side == B ]] && binary="$2"
        out="$(ZONECTL="$binary" "$repo/bench/api/batch_costs.sh")"
        rate[$side]="$(sed -n 's/^changes: .*(\([0-9]*\)\/s).*/\1/p' <<<"$out")"
        echo "pair $pair $side: ${rate[$side]} changes/s; $(grep '^CPU per change' <<<"$out")"
    done
    ratios+=("$(python3 -c "print(round(${rate[B]} / ${rate[A]}, 3))")")
done
echo "B/A rate ratios: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | python3 -c 'import statistics, sys; print(statistics.median(float(x) for x in sys.stdin))')"

#!/usr/bin/env bash
# Zone file benchmark (issue 3): times `zonectl zonefile check` (parse + zone rules) and
# `zonectl zonefile format` (parse + render) on generated zones, beside named-checkzone and
# named-compilezone on the same files in the same run, and records the figures in
# docs/benchmarks.md between markers, so a re-run replaces its own section.
#
# Usage: bench/zonefile/run.sh            (from anywhere; paths are relative to the repo)
# Environment:
#   ZONECTL   the zonectl binary (default: <repo>/.build/release/zonectl; build it with
#             `swift build -c release --product zonectl`)
#   SIZES     record counts to generate (default: "10000 100000"; the largest is the headline)
#   RUNS      runs per measurement, the best wall time is kept (default: 3)
#   NO_DOCS=1 print only, do not touch docs/benchmarks.md
#
# Goals from the issue: parse within 2x of named-checkzone, render faster than that, and
# peak memory of rendering flat in the zone size (compare the RSS column across SIZES).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
zonectl="${ZONECTL:-$repo/.build/release/zonectl}"
sizes="${SIZES:-10000 100000}"
runs="${RUNS:-3}"
zone="big.example"

generator="$repo/../shared/testdata/gen-zone.py"
[[ -f "$generator" ]] || generator="$repo/Tests/Fixtures/gen-zone.py"

if [[ ! -x "$zonectl" ]]; then
    echo "zonectl binary not found at $zonectl: build it (swift build -c release --product zonectl) or set ZONECTL" >&2
    exit 2
fi
for tool in named-checkzone named-compilezone python3; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (bind9-utils, python3)" >&2; exit 2; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

have_gnu_time=0
if [[ -x /usr/bin/time ]] && /usr/bin/time -f "%e" true 2>/dev/null; then have_gnu_time=1; fi

# measure NAME CMD... : best wall seconds of $runs and the peak RSS (MB) of that run.
# Prints "seconds rss_mb". The command's stdout goes to /dev/null; it must exit 0.
measure() {
    local best="" best_rss="n/a"
    for ((i = 0; i < runs; i++)); do
        local seconds rss
        if ((have_gnu_time)); then
            /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || {
                echo "failed: $* ($(tail -3 "$work/stderr"))" >&2; exit 1; }
            read -r seconds rss <"$work/time"
            rss="$(awk -v kb="$rss" 'BEGIN { printf "%.1f", kb / 1024 }')"
        else
            local start end
            start="$(date +%s.%N)"
            "$@" >/dev/null 2>"$work/stderr" || { echo "failed: $*" >&2; exit 1; }
            end="$(date +%s.%N)"
            seconds="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
            rss="n/a"
        fi
        if [[ -z "$best" ]] || awk -v a="$seconds" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best="$seconds"
            best_rss="$rss"
        fi
    done
    echo "$best $best_rss"
}

rows=""
headline=""
for size in $sizes; do
    file="$work/$zone.$size.zone"
    python3 "$generator" "$zone" "$size" >"$file"
    read -r check_s check_rss < <(measure "$zonectl" zonefile check --origin "$zone" "$file")
    read -r format_s format_rss < <(measure "$zonectl" zonefile format --origin "$zone" "$file")
    read -r named_s named_rss < <(measure named-checkzone "$zone" "$file")
    read -r compile_s compile_rss < <(measure named-compilezone -o - "$zone" "$file")
    ratio_check="$(awk -v a="$check_s" -v b="$named_s" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
    ratio_format="$(awk -v a="$format_s" -v b="$compile_s" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
    rows+="| $size | zonectl zonefile check | $check_s | $check_rss | ${ratio_check}x named-checkzone |"$'\n'
    rows+="| $size | named-checkzone | $named_s | $named_rss | |"$'\n'
    rows+="| $size | zonectl zonefile format | $format_s | $format_rss | ${ratio_format}x named-compilezone |"$'\n'
    rows+="| $size | named-compilezone -o - | $compile_s | $compile_rss | |"$'\n'
    # Rendering alone is what format adds to check (same parse, same rules): its time and memory.
    render_s="$(awk -v a="$format_s" -v b="$check_s" 'BEGIN { d = a - b; if (d < 0) d = 0; printf "%.2f", d }')"
    render_rss="$(awk -v a="$format_rss" -v b="$check_rss" 'BEGIN { if (a == "n/a" || b == "n/a") print "n/a"; else printf "%+.1f", a - b }')"
    ratio_render="$(awk -v a="$render_s" -v b="$named_s" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
    rows+="| $size | rendering alone (format − check) | $render_s | $render_rss | ${ratio_render}x named-checkzone |"$'\n'
    headline="$size records: check ${check_s}s vs named-checkzone ${named_s}s (${ratio_check}x); format ${format_s}s vs named-compilezone ${compile_s}s (${ratio_format}x)"
done

machine="$(uname -srm), $(nproc) CPUs$(awk -F': ' '/model name/ { print ", " $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
section="<!-- bench:zonefile:start -->
## Zone files (bench/zonefile/run.sh)

Run $(date -u +%Y-%m-%dT%H:%MZ) on $machine; $(named-checkzone -v 2>/dev/null | head -1 | sed 's/^/BIND /');
zone from \`gen-zone.py $zone N\`; best wall time of $runs runs, peak RSS of that run.
\`check\` parses and applies the zone rules; \`format\` parses, checks and renders to stdout
(its memory is the parsed zone: the renderer itself streams one RRset at a time).

| records | command | seconds | peak RSS (MB) | ratio |
| --- | --- | --- | --- | --- |
${rows}
Goals (issue 3): parse within 2x of named-checkzone; render faster than that; rendering's peak
memory flat in the zone size (the RSS column of 'rendering alone' is what rendering adds).
<!-- bench:zonefile:end -->"

printf '%s\n' "$section"
echo
echo "$headline"

if [[ "${NO_DOCS:-0}" != 1 ]]; then
    docs="$repo/docs/benchmarks.md"
    mkdir -p "$(dirname "$docs")"
    [[ -f "$docs" ]] || printf '# Benchmarks\n\nFigures from the scripts under bench/, newest run of each section.\n\n' >"$docs"
    python3 - "$docs" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
pattern = re.compile(r"<!-- bench:zonefile:start -->.*?<!-- bench:zonefile:end -->", re.S)
if pattern.search(text):
    text = pattern.sub(lambda _: section, text)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w", encoding="utf-8").write(text)
PY
    echo "wrote the zone file section of $docs"
fi

#!/usr/bin/env python3
"""Splits each measured change of one primary into phases, from trace.py's log and
propagation.py's per-change lines (run.sh with TRACE=1 KEEP=1 prints this at the end).

    timeline.py TRACE_LOG CHANGES_JSONL PRIMARY_NAME [CATALOG]

With CATALOG (catalog provisioning: CHANGES_JSONL from propagation.py provision), per new zone
instead: the API's answer, the catalog's NOTIFY to BIND and to Knot, the first and the second
catalog transfer request (IXFR/AXFR) reaching the primary, the first and the last query for the
new zone reaching it, and when BIND and Knot served the zone; then the slowest zones' traffic.
Per change, in ms after the HTTP request was sent: the API's answer, the first and the last
NOTIFY the primary sent, each secondary's answer to it, the first query that reached the
primary after the NOTIFYs, the last answer the primary sent, and the last secondary serving the
serial. Below, the primary's own answer times per kind of query (UDP SOA, TCP SOA, IXFR/AXFR).
"""
import json
import sys


def percentile(values, share):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def read_events(trace_path):
    events = []
    for line in open(trace_path):
        fields = line.split()
        if len(fields) < 6:
            continue
        events.append((float(fields[1]), fields[2], fields[3], fields[5], " ".join(fields[6:])))
    events.sort()
    return events


def catalog_timeline(trace_path, changes_path, primary, catalog):
    catalog = catalog.rstrip(".") + "."
    events = read_events(trace_path)
    changes = [json.loads(line) for line in open(changes_path)]
    changes = [c for c in changes if not c["warmup"] and not c["timeout"]]
    keys = ("api", "notify_bind", "notify_knot", "catalog_xfr_1", "catalog_xfr_2", "member_first", "member_last",
            "served_bind", "served_knot")
    phases = {key: [] for key in keys}
    for change in changes:
        start = change["wall_start"]
        window = [e for e in events if start <= e[0] <= start + change["all_ms"] / 1000 + 0.002]
        ms = lambda e: (e[0] - start) * 1000
        notify = {name: next((ms(e) for e in window if e[3] == name and "NOTIFY query" in e[4] and f" {catalog} " in e[4]), None)
                  for name in ("bind", "knot")}
        xfrs = [ms(e) for e in window if e[3] == primary and f" {catalog} " in e[4] and ("IXFR" in e[4] or "AXFR" in e[4])]
        member = [ms(e) for e in window if e[3] == primary and f" {change['zone']} " in e[4] and "NOTIFY" not in e[4]]
        values = {"api": change["api_ms"], "notify_bind": notify["bind"], "notify_knot": notify["knot"],
                  "catalog_xfr_1": xfrs[0] if xfrs else None, "catalog_xfr_2": xfrs[1] if len(xfrs) > 1 else None,
                  "member_first": member[0] if member else None, "member_last": member[-1] if member else None,
                  "served_bind": change["bind_ms"], "served_knot": change["knot_ms"]}
        for key, value in values.items():
            if value is not None:
                phases[key].append(value)
    labels = {
        "api": "HTTP answer (zone and catalog committed)",
        "notify_bind": "catalog NOTIFY sent to BIND",
        "notify_knot": "catalog NOTIFY sent to Knot",
        "catalog_xfr_1": "first catalog IXFR/AXFR request in",
        "catalog_xfr_2": "second catalog IXFR/AXFR request in",
        "member_first": "first query for the new zone in",
        "member_last": "last query for the new zone in",
        "served_bind": "BIND serves the new zone",
        "served_knot": "Knot serves the new zone",
    }
    print(f"{primary} catalog {catalog}: {len(changes)} new zones; ms after the HTTP request was sent")
    print(f"{'phase':<42} {'n':>4} {'p50':>8} {'p90':>8} {'max':>8}")
    for key in keys:
        values = phases[key]
        print(f"{labels[key]:<42} {len(values):>4} {percentile(values, .5):8.1f} {percentile(values, .9):8.1f} {percentile(values, 1):8.1f}")
    for change in sorted(changes, key=lambda c: -c["all_ms"])[:3]:
        start = change["wall_start"]
        print(f"slow: {change['zone']} bind {change['bind_ms']:.0f} ms, knot {change['knot_ms']:.0f} ms; traffic (ms, kind, from -> to, message):")
        for e in events:
            if start <= e[0] <= start + change["all_ms"] / 1000 + 0.002 and (catalog in e[4] or change["zone"] in e[4]
                                                                              or "SYN" in e[4] or "FIN" in e[4]):
                print(f"  {(e[0] - start) * 1000:8.1f} {e[1]} {e[2]} -> {e[3]} {e[4]}")


def main():
    if len(sys.argv) > 4:
        return catalog_timeline(*sys.argv[1:5])
    trace_path, changes_path, primary = sys.argv[1:4]
    events = []
    for line in open(trace_path):
        fields = line.split()
        if len(fields) < 6:
            continue
        events.append((float(fields[1]), fields[2], fields[3], fields[5], " ".join(fields[6:])))
    events.sort()
    changes = [json.loads(line) for line in open(changes_path)]
    changes = [c for c in changes if not c["warmup"] and not c["timeout"]]

    phases = {key: [] for key in ("api", "notify_first", "notify_last", "notify_acked_last",
                                  "first_query_in", "last_answer_out", "served_all")}
    answer_times = {"udp SOA": [], "tcp SOA": [], "tcp IXFR": [], "tcp AXFR": []}
    pending = {}
    for at, kind, source, destination, text in events:
        # the primary's answer times: a query to it, then its answer on the same port and id
        if destination == primary and "query" in text:
            ident = text.split("id=")[1].split()[0] if "id=" in text else None
            qtype = "IXFR" if " IXFR" in text else "AXFR" if " AXFR" in text else "SOA"
            pending[(kind, source, ident)] = (at, qtype)
        elif source == primary and "answer" in text and "id=" in text:
            ident = text.split("id=")[1].split()[0]
            start = pending.pop((kind, destination, ident), None)
            if start is not None:
                answer_times.setdefault(f"{kind} {start[1]}", []).append((at - start[0]) * 1000)

    for change in changes:
        start = change["wall_start"]
        end = start + change["all_ms"] / 1000 + 0.002
        window = [e for e in events if start <= e[0] <= end]
        notifies = [e for e in window if "NOTIFY query" in e[4]]
        acks = [e for e in window if "NOTIFY answer" in e[4]]
        if not notifies:
            continue
        first_notify = notifies[0][0]
        into = [e for e in window if e[3] == primary and e[0] >= first_notify and "NOTIFY" not in e[4]]
        out = [e for e in window if e[2] == primary and "answer" in e[4]]
        phases["api"].append(change["api_ms"])
        phases["notify_first"].append((first_notify - start) * 1000)
        phases["notify_last"].append((notifies[-1][0] - start) * 1000)
        if acks:
            phases["notify_acked_last"].append((acks[-1][0] - start) * 1000)
        if into:
            phases["first_query_in"].append((into[0][0] - start) * 1000)
        if out:
            phases["last_answer_out"].append((out[-1][0] - start) * 1000)
        phases["served_all"].append(change["all_ms"])

    print(f"{primary}: {len(phases['served_all'])} changes; ms after the HTTP request was sent")
    print(f"{'phase':<42} {'p50':>8} {'p90':>8} {'max':>8}")
    labels = {
        "api": "HTTP answer (change committed)",
        "notify_first": "first NOTIFY sent",
        "notify_last": "last NOTIFY sent",
        "notify_acked_last": "last NOTIFY answered by its secondary",
        "first_query_in": "first query from a secondary (SOA/IXFR)",
        "last_answer_out": "last answer sent by the primary",
        "served_all": "served by all three",
    }
    for key, label in labels.items():
        values = phases[key]
        print(f"{label:<42} {percentile(values, .5):8.1f} {percentile(values, .9):8.1f} {percentile(values, 1):8.1f}")
    print(f"{primary}'s answer time per query (ms), all changes:")
    for key, values in answer_times.items():
        if values:
            print(f"  {key:<10} n={len(values):<4} p50={percentile(values, .5):.2f} p90={percentile(values, .9):.2f} max={max(values):.2f}")


if __name__ == "__main__":
    main()

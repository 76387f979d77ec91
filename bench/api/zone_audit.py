#!/usr/bin/env python3
"""State of one benchmark zone after a change run, read through each system's own API.

A change run only shows speed; this shows whether the answers were true: how many serials the
zone went through, how many of the benchmark's RRsets it holds, how many SOA records it has and,
for zonectl, whether its journal is one unbroken chain of serials.

    zone_audit.py zonectl BASE_URL TOKEN ZONE   → key=value pairs on one line
    zone_audit.py pdns    BASE_URL API_KEY ZONE → key=value pairs on one line

The benchmark's RRsets are the names wrk's load.lua writes: "t<thread>-<n>.<zone>".
"""
import json
import sys
import urllib.parse
import urllib.request


def get(url, headers):
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def pages(base, path, headers):
    """Every item of a zonectl list, following next_cursor."""
    cursor = None
    while True:
        query = {"limit": "1000"}
        if cursor:
            query["cursor"] = cursor
        page = get(f"{base}{path}?{urllib.parse.urlencode(query)}", headers)
        yield from page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return


def is_bench_name(name):
    return name.startswith("t") and "-" in name.split(".", 1)[0]


def audit_zonectl(base, token, zone):
    headers = {"Authorization": f"Bearer {token}"}
    serial = get(f"{base}/v1/zones/{zone}", headers)["serial"]
    rrsets = list(pages(base, f"/v1/zones/{zone}/rrsets", headers))
    journal = list(pages(base, f"/v1/zones/{zone}/changes", headers))
    changes = [entry for entry in journal if entry["kind"] == "rrsets"]
    # Ordered by serial, each entry must start where the one before ended.
    chain = sorted(journal, key=lambda entry: entry["serial_to"])
    breaks = sum(1 for before, after in zip(chain, chain[1:]) if after["serial_from"] != before["serial_to"])
    distinct = len({entry["serial_to"] for entry in journal})
    return {
        "serial": serial,
        "bench_rrsets": sum(1 for rrset in rrsets if rrset["type"] == "A" and is_bench_name(rrset["name"])),
        # The list leaves out the service-owned SOA and apex NS; the SOA has its own route.
        "soa_records": len(get(f"{base}/v1/zones/{zone}/rrsets/{zone}./SOA", headers)["records"]),
        "journal_changes": len(changes),
        "journal_duplicate_serials": len(journal) - distinct,
        "journal_breaks": breaks,
        "journal_last_serial": chain[-1]["serial_to"] if chain else 0,
    }


def audit_pdns(base, key, zone):
    detail = get(f"{base}/zones/{zone}.", {"X-API-Key": key})
    rrsets = detail["rrsets"]
    return {
        "serial": detail["serial"],
        "bench_rrsets": sum(1 for rrset in rrsets if rrset["type"] == "A" and is_bench_name(rrset["name"])),
        "soa_records": sum(len(rrset["records"]) for rrset in rrsets if rrset["type"] == "SOA"),
    }


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("zonectl", "pdns"):
        sys.exit(__doc__)
    system, base, secret, zone = sys.argv[1:]
    result = (audit_zonectl if system == "zonectl" else audit_pdns)(base, secret, zone)
    print(" ".join(f"{key}={value}" for key, value in result.items()))


if __name__ == "__main__":
    main()

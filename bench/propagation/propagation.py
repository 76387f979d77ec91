#!/usr/bin/env python3
"""Times changes from an API request until every secondary serves the new serial.

    propagation.py wait ZONE SECONDARIES TIMEOUT
        waits until every secondary answers ZONE's SOA authoritatively with one serial
        (the primary's) and prints it.
    propagation.py measure SYSTEM URL SECRET ZONE PRIMARY SECONDARIES COUNT WARMUP TIMEOUT OUT
        SYSTEM zonectl: PATCH {URL}/v1/zones/ZONE/rrsets, the new serial is in the answer.
        SYSTEM pdns: PATCH {URL}/zones/ZONE (soa_edit_api INCREASE), then PUT {URL}/zones/ZONE/notify
        (PowerDNS's API does not notify by itself), the new serial read from PRIMARY's SOA.
        Each change starts when the previous one is served everywhere (or timed out). Writes one
        JSON line per measured change to OUT and prints a summary.
    propagation.py provision SYSTEM URL SECRET PARENT SUFFIX SECONDARIES COUNT WARMUP TIMEOUT OUT
        Creates zones w<n>.SUFFIX (unmeasured) and then n<n>.SUFFIX one after another, each timed
        from just before its POST until every secondary (configured only with the primary's
        catalog zone) answers the new zone's SOA. PARENT: "account=ID,pool=NAME" for zonectl
        (POST {URL}/v1/zones), "catalog=NAME." for pdns (POST {URL}/zones, kind Master, member of
        that producer zone). Same JSON lines and summary as measure.
    propagation.py converge URL SECRET ZONES SECONDARIES START TIMEOUT
        After a load: reads each of ZONES' (comma-separated) serial from zonectl's API and asks
        every secondary for every zone's SOA (each pair every CONVERGE_POLL_MS, 10 ms) until it
        answers that serial or a newer one; times are from START (a Unix time: when the load
        ended). A zone whose serial moved after the first read (a change still in flight) is
        waited for at its newest serial. Prints one RESULT line.

SECONDARIES is "name=127.0.0.1:port,…"; PRIMARY is "127.0.0.1:port". Only the standard library:
SOA queries are built and read here, over UDP, one socket per secondary, each asked again every
POLL_MS (1 ms) until it answers the new serial.
"""
import http.client
import json
import os
import random
import select
import socket
import struct
import sys
import time
import urllib.parse

POLL = float(os.environ.get("POLL_MS", "1")) / 1000


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def soa_query(zone):
    # CD set: no server here validates, so it changes no answer, and it marks these polls as
    # the benchmark's own for trace.py.
    ident = random.randrange(65536)
    return struct.pack("!HHHHHH", ident, 0x0010, 1, 0, 0, 0) + wire_name(zone) + struct.pack("!HH", 6, 1)


def skip_name(data, offset):
    while True:
        length = data[offset]
        if length == 0:
            return offset + 1
        if length & 0xC0 == 0xC0:
            return offset + 2
        offset += 1 + length


def soa_serial(reply):
    """The SOA serial of an authoritative NOERROR answer, else None."""
    if len(reply) < 12:
        return None
    _, flags, qdcount, ancount, _, _ = struct.unpack("!HHHHHH", reply[:12])
    if not flags & 0x8000 or flags & 0x000F or not flags & 0x0400 or ancount < 1:
        return None
    offset = 12
    for _ in range(qdcount):
        offset = skip_name(reply, offset) + 4
    for _ in range(ancount):
        offset = skip_name(reply, offset)
        rtype, _, _, rdlength = struct.unpack("!HHIH", reply[offset:offset + 10])
        offset += 10
        if rtype == 6:
            inner = skip_name(reply, skip_name(reply, offset))
            return struct.unpack("!I", reply[inner:inner + 4])[0]
        offset += rdlength
    return None


def serial_reached(seen, target):
    """RFC 1982: seen == target or seen is newer."""
    return seen is not None and (seen - target) % (1 << 32) < (1 << 31)


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def parse_secondaries(text):
    result = []
    for item in text.split(","):
        name, address = item.split("=", 1)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.connect(endpoint(address))
        sock.setblocking(False)
        result.append((name, sock))
    return result


def drain(sock):
    try:
        while True:
            sock.recv(65535)
    except (BlockingIOError, ConnectionRefusedError):
        pass


def poll_until(zone, secondaries, done, deadline, start):
    """Asks each secondary not yet in `done` for the SOA every POLL until done(name, serial)
    says so; returns {name: seconds after start} for the ones that got there."""
    reached = {}
    query = soa_query(zone)
    pending = {sock: name for name, sock in secondaries}
    last_sent = {sock: 0.0 for sock in pending}
    while pending:
        now = time.perf_counter()
        if now > deadline:
            break
        for sock in pending:
            if now - last_sent[sock] >= POLL:
                try:
                    sock.send(query)
                except ConnectionRefusedError:
                    pass
                last_sent[sock] = now
        wait = max(0.0, min(last_sent[s] for s in pending) + POLL - time.perf_counter())
        readable, _, _ = select.select(list(pending), [], [], wait)
        for sock in readable:
            try:
                while True:
                    reply = sock.recv(65535)
                    at = time.perf_counter()
                    if done(pending[sock], soa_serial(reply)):
                        reached[pending.pop(sock)] = at - start
                        break
            except (BlockingIOError, ConnectionRefusedError):
                pass
    for _, sock in secondaries:
        drain(sock)
    return reached


def wait(zone, secondaries_text, timeout):
    secondaries = parse_secondaries(secondaries_text)
    serials = {}

    def done(name, serial):
        if serial is None:
            return False
        serials[name] = serial
        return True

    deadline = time.perf_counter() + float(timeout)
    while True:
        serials.clear()
        reached = poll_until(zone, secondaries, done, deadline, time.perf_counter())
        if len(reached) == len(secondaries) and len(set(serials.values())) == 1:
            print(next(iter(serials.values())))
            return 0
        if time.perf_counter() > deadline:
            missing = [name for name, _ in secondaries if name not in reached]
            print(f"{zone}: not served by {', '.join(missing) or 'all with one serial'} "
                  f"after {timeout}s (serials seen: {serials})", file=sys.stderr)
            return 1
        time.sleep(0.05)


class Primary:
    def __init__(self, system, url, secret, zone, primary):
        self.system, self.zone = system, zone.rstrip(".") + "."
        parts = urllib.parse.urlsplit(url)
        self.base = parts.path.rstrip("/")
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        if system == "zonectl":
            self.headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        else:
            self.headers = {"X-API-Key": secret, "Content-Type": "application/json"}
        if system != "zonectl" and primary:
            self.primary = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.primary.connect(endpoint(primary))
            self.primary.settimeout(2)

    def request(self, method, path, body):
        self.connection.request(method, self.base + path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status // 100 != 2:
            raise SystemExit(f"{self.system}: {method} {path} answered {response.status}: {data[:300]!r}")
        return data

    def primary_serial(self):
        query = soa_query(self.zone)
        for _ in range(3):
            self.primary.send(query)
            try:
                serial = soa_serial(self.primary.recv(65535))
            except socket.timeout:
                continue
            if serial is not None:
                return serial
        raise SystemExit(f"PowerDNS does not answer the SOA of {self.zone}")

    def create_zone(self, name, parent):
        """Creates zone `name` (absolute); returns the seconds the API took."""
        fields = dict(item.split("=", 1) for item in parent.split(","))
        start = time.perf_counter()
        if self.system == "zonectl":
            body = json.dumps({"name": name, "account_id": int(fields["account"]), "pool": fields["pool"]})
            self.request("POST", "/v1/zones", body)
        else:
            body = json.dumps({"name": name, "kind": "Master", "catalog": fields["catalog"],
                               "nameservers": ["ns1.bench.test.", "ns2.bench.test."],
                               "rrsets": [{"name": name, "type": "SOA", "ttl": 3600, "records": [{
                                   "content": "ns1.bench.test. hostmaster.bench.test. 1 3600 600 604800 300",
                                   "disabled": False}]}]})
            self.request("POST", "/zones", body)
        return time.perf_counter() - start

    def change(self, number):
        """Makes one change; returns (new serial, seconds the API took)."""
        address = f"192.0.2.{number % 250 + 1}"
        name = f"www.{self.zone}"
        start = time.perf_counter()
        if self.system == "zonectl":
            body = json.dumps({"changes": [{"action": "replace", "name": name, "type": "A", "ttl": 300,
                                            "records": [address]}]})
            answer = json.loads(self.request("PATCH", f"/v1/zones/{self.zone}/rrsets", body))
            return answer["serial"], time.perf_counter() - start
        body = json.dumps({"rrsets": [{"name": name, "type": "A", "ttl": 300, "changetype": "REPLACE",
                                       "records": [{"content": address, "disabled": False}]}]})
        self.request("PATCH", f"/zones/{self.zone}", body)
        self.request("PUT", f"/zones/{self.zone}/notify", None)
        elapsed = time.perf_counter() - start
        return self.primary_serial(), elapsed


def machine_ticks():
    fields = [int(value) for value in open("/proc/stat").readline().split()[1:]]
    user, nice, system, _, _, irq, softirq, steal = (fields + [0] * 8)[:8]
    return sum(fields[:8]), user + nice + system + irq + softirq


def process_ticks(pid, live_children):
    """utime + stime of pid and its reaped children, plus (if asked) its live children's."""
    def stat(entry):
        try:
            text = open(f"/proc/{entry}/stat").read()
        except OSError:
            return None
        return text[text.rindex(")") + 2:].split()
    fields = stat(pid)
    if fields is None:
        return 0
    total = sum(int(value) for value in fields[11:15])
    if live_children:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                child = stat(entry)
                if child is not None and int(child[1]) == pid:
                    total += sum(int(value) for value in child[11:15])
    return total


def cpu_mark():
    """(all ticks, busy ticks, ticks of this benchmark's processes): OUR_PIDS (the servers, the
    PostgreSQL postmaster with its backends) and this process."""
    ours = sum(process_ticks(int(pid), True) for pid in os.environ.get("OUR_PIDS", "").split())
    ours += process_ticks(os.getpid(), False)
    all_ticks, busy = machine_ticks()
    return all_ticks, busy, ours


def others_share(before, after):
    """Share of all CPU time between the marks that went to processes not this benchmark's."""
    all_ticks = after[0] - before[0]
    others = max(0, (after[1] - before[1]) - (after[2] - before[2]))
    return 100 * others / all_ticks if all_ticks > 0 else 0.0


def percentile(values, share):
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def measure(system, url, secret, zone, primary_address, secondaries_text, count, warmup, timeout, out):
    secondaries = parse_secondaries(secondaries_text)
    primary = Primary(system, url, secret, zone, primary_address)

    def one(number):
        start = time.perf_counter()
        serial, api = primary.change(number)
        reached = poll_until(zone, secondaries, lambda _, seen: serial_reached(seen, serial),
                             start + float(timeout), start)
        return {"serial": serial}, start, api, reached

    return run_series(system, secondaries, count, warmup, timeout, out, one)


def provision(system, url, secret, parent, suffix, secondaries_text, count, warmup, timeout, out):
    secondaries = parse_secondaries(secondaries_text)
    primary = Primary(system, url, secret, suffix, None)

    def one(number):
        name = f"{'w' if number < int(warmup) else 'n'}{number}.{suffix.rstrip('.')}."
        start = time.perf_counter()
        api = primary.create_zone(name, parent)
        # Any authoritative SOA answer: before the secondary has the zone it answers REFUSED or
        # SERVFAIL (a member added but not yet transferred), which soa_serial() turns into None.
        reached = poll_until(name, secondaries, lambda _, seen: seen is not None, start + float(timeout), start)
        return {"zone": name}, start, api, reached

    return run_series(system, secondaries, count, warmup, timeout, out, one)


def run_series(system, secondaries, count, warmup, timeout, out, one):
    """Runs `one(number)` for WARMUP + COUNT numbers, one after another; writes a JSON line per
    run and prints the RESULT summary of the measured ones."""
    names = [name for name, _ in secondaries]
    rows = []
    before = cpu_mark()
    with open(out, "w") as log:
        for number in range(int(warmup) + int(count)):
            measured = number >= int(warmup)
            wall = time.time()
            extra, start, api, reached = one(number)
            row = {"system": system, "change": number - int(warmup), "warmup": not measured,
                   "wall_start": round(wall, 6), **extra, "api_ms": round(api * 1000, 3),
                   "timeout": len(reached) < len(secondaries)}
            for name in names:
                row[f"{name}_ms"] = round(reached[name] * 1000, 3) if name in reached else None
            row["all_ms"] = None if row["timeout"] else round(max(reached.values()) * 1000, 3)
            log.write(json.dumps(row) + "\n")
            log.flush()
            if measured:
                rows.append(row)
    others = others_share(before, cpu_mark())
    timeouts = sum(1 for row in rows if row["timeout"])
    print(f"RESULT system={system} changes={len(rows)} timeouts={timeouts} others_cpu={others:.0f}%", end="")
    for column in ["all"] + names + ["api"]:
        # A change that timed out counts as slower than any that did not.
        values = [row[f"{column}_ms"] if row[f"{column}_ms"] is not None else float("inf") for row in rows]
        for label, share in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)):
            value = percentile(values, share)
            shown = f">{float(timeout) * 1000:.0f}" if value == float("inf") else f"{value:.1f}"
            print(f" {column}_{label}={shown}", end="")
        print(f" {column}_over500={sum(1 for value in values if value > 500)}", end="")
    print()
    return 0


def question_name(reply):
    if len(reply) < 13:
        return None
    labels, offset = [], 12
    while offset < len(reply) and reply[offset] != 0:
        length = reply[offset]
        labels.append(reply[offset + 1:offset + 1 + length].decode(errors="replace").lower())
        offset += 1 + length
    return ".".join(labels) + "."


def converge(url, secret, zones_text, secondaries_text, load_end, timeout):
    """See the module's doc. RESULT: all_ms (every secondary, every zone), <secondary>_ms (its
    last zone), zones, moved (zones whose serial changed after the first read), timeouts."""
    zones = [zone.rstrip(".").lower() + "." for zone in zones_text.split(",")]
    primary = Primary("zonectl", url, secret, zones[0], None)

    def serials():
        return {zone: json.loads(primary.request("GET", f"/v1/zones/{zone}", None))["serial"] for zone in zones}

    poll = float(os.environ.get("CONVERGE_POLL_MS", "10")) / 1000
    secondaries = parse_secondaries(secondaries_text)
    names = [name for name, _ in secondaries]
    start = float(load_end)
    deadline = time.time() + float(timeout)
    targets = serials()
    first = dict(targets)
    queries = {zone: soa_query(zone) for zone in zones}
    pending = {(name, zone) for name in names for zone in zones}
    done_at = {}
    last_sent = 0.0
    while pending and time.time() < deadline:
        now = time.perf_counter()
        if now - last_sent >= poll:
            for name, sock in secondaries:
                for zone in zones:
                    if (name, zone) in pending:
                        try:
                            sock.send(queries[zone])
                        except ConnectionRefusedError:
                            pass
            last_sent = now
        readable, _, _ = select.select([sock for _, sock in secondaries], [], [],
                                       max(0.0, last_sent + poll - time.perf_counter()))
        for sock in readable:
            name = next(n for n, s in secondaries if s is sock)
            try:
                while True:
                    reply = sock.recv(65535)
                    at = time.time()
                    zone = question_name(reply)
                    if (name, zone) in pending and serial_reached(soa_serial(reply), targets[zone]):
                        pending.discard((name, zone))
                        done_at[(name, zone)] = at - start
            except (BlockingIOError, ConnectionRefusedError):
                pass
        if not pending:
            # A change still in flight when the load stopped may have committed since: then
            # that zone is waited for again at its newest serial.
            for zone, serial in serials().items():
                if serial != targets[zone]:
                    targets[zone] = serial
                    pending.update((name, zone) for name in names)
    for _, sock in secondaries:
        drain(sock)
    moved = sum(1 for zone in zones if targets[zone] != first[zone])
    print(f"RESULT zones={len(zones)} moved={moved} timeouts={len(pending)}", end="")
    for name in names:
        times = [done_at[(name, zone)] for zone in zones if (name, zone) in done_at]
        missing = any((name, zone) in pending for zone in zones)
        shown = f">{float(timeout) * 1000:.0f}" if missing or not times else f"{max(times) * 1000:.0f}"
        print(f" {name}_ms={shown}", end="")
    shown = f">{float(timeout) * 1000:.0f}" if pending else f"{max(done_at.values()) * 1000:.0f}"
    print(f" all_ms={shown}")
    return 0


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "wait":
        sys.exit(wait(*args))
    if command == "measure":
        sys.exit(measure(*args))
    if command == "provision":
        sys.exit(provision(*args))
    if command == "converge":
        sys.exit(converge(*args))
    if command == "cpu-mark":
        print(*cpu_mark())
        sys.exit(0)
    sys.exit(f"unknown command {command}")

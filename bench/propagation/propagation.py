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
    names = [name for name, _ in secondaries]
    primary = Primary(system, url, secret, zone, primary_address)
    rows = []
    before = cpu_mark()
    with open(out, "w") as log:
        for number in range(int(warmup) + int(count)):
            measured = number >= int(warmup)
            wall = time.time()
            start = time.perf_counter()
            serial, api = primary.change(number)
            reached = poll_until(zone, secondaries, lambda _, seen: serial_reached(seen, serial),
                                 start + float(timeout), start)
            row = {"system": system, "change": number - int(warmup), "warmup": not measured,
                   "wall_start": round(wall, 6), "serial": serial, "api_ms": round(api * 1000, 3),
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


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "wait":
        sys.exit(wait(*args))
    if command == "measure":
        sys.exit(measure(*args))
    sys.exit(f"unknown command {command}")

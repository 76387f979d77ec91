#!/usr/bin/env python3
"""CPU time of the whole machine and of the benchmark's own processes, in clock ticks.

On a machine shared with builds the figures move with whatever else runs; two marks taken
around a measurement give the share of the CPU that went to other processes meanwhile.

    cpu_ticks.py SHELL_CHILD_TICKS ZONECTL_PID PDNS_PID POSTMASTER_PID
        → "all busy ours": every tick of every CPU, the busy ones, and the benchmark's

ours = the ticks of the benchmark shell's finished children (wrk, pgbench, curl, …, given by
the caller from `times`) + zonectl + pdns_server + the PostgreSQL cluster (the postmaster with
its finished children, and its live children).
"""
import os
import sys


def machine_ticks():
    fields = [int(value) for value in open("/proc/stat").readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return sum(fields[:8]), user + nice + system + irq + softirq


def process_ticks(pid, with_children):
    try:
        text = open(f"/proc/{pid}/stat").read()
    except OSError:
        return 0
    # Fields after the command name, which is in parentheses and may hold spaces.
    rest = text[text.rindex(")") + 2:].split()
    utime, stime, cutime, cstime = (int(value) for value in rest[11:15])
    return utime + stime + (cutime + cstime if with_children else 0)


def children_of(parent):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[1]) == parent:
            yield int(entry)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    shell_children, zonectl, pdns, postmaster = (int(value) for value in sys.argv[1:])
    ours = shell_children + process_ticks(zonectl, False) + process_ticks(pdns, False)
    ours += process_ticks(postmaster, True) + sum(process_ticks(pid, True) for pid in children_of(postmaster))
    all_ticks, busy = machine_ticks()
    print(all_ticks, busy, ours)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Logs the DNS traffic between the primaries and the secondaries on the loopback interface,
with microsecond times, to find where a change's propagation time goes (TRACE=1 in run.sh).

    trace.py OUT PORT:NAME…

Needs root (an AF_PACKET socket on lo). Logs each UDP DNS message and each TCP segment that has
a named port at one end: NOTIFY and its answer, SOA queries and answers (with serial), TCP
connects, IXFR/AXFR requests and the answer's first message. The benchmark's own SOA polls
(propagation.py sets the CD bit on them) and their answers are left out. Stops on SIGTERM.
"""
import signal
import socket
import struct
import sys
import time

OPCODES = {0: "QUERY", 4: "NOTIFY", 5: "UPDATE"}
TYPES = {6: "SOA", 251: "IXFR", 252: "AXFR", 1: "A", 2: "NS"}
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def read_name(data, offset):
    labels = []
    jumped = False
    end = offset
    for _ in range(128):
        length = data[offset]
        if length == 0:
            if not jumped:
                end = offset + 1
            break
        if length & 0xC0 == 0xC0:
            if not jumped:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            jumped = True
            continue
        labels.append(data[offset + 1:offset + 1 + length].decode(errors="replace"))
        offset += 1 + length
    return ".".join(labels) + ".", end


def describe(message):
    """'NOTIFY query id=… zone. SOA' or '… answer … serial=N', or None when not for the log."""
    if len(message) < 12:
        return None
    ident, flags, qd, an, _, _ = struct.unpack("!HHHHHH", message[:12])
    opcode = (flags >> 11) & 0xF
    reply = bool(flags & 0x8000)
    if flags & 0x0010 and opcode == 0:
        return None  # the benchmark's own poll
    try:
        offset = 12
        name, qtype = "?", 0
        if qd:
            name, offset = read_name(message, offset)
            qtype = struct.unpack("!H", message[offset:offset + 2])[0]
            offset += 4
        text = f"{OPCODES.get(opcode, opcode)} {'answer' if reply else 'query'} id={ident} {name} {TYPES.get(qtype, qtype)}"
        if reply:
            text += f" rcode={flags & 0xF} an={an}"
        for _ in range(an):
            _, offset = read_name(message, offset)
            rtype, _, _, length = struct.unpack("!HHIH", message[offset:offset + 10])
            offset += 10
            if rtype == 6:
                inner = read_name(message, read_name(message, offset)[1])[1]
                text += f" serial={struct.unpack('!I', message[inner:inner + 4])[0]}"
                break
            offset += length
        return text
    except (IndexError, struct.error):
        return f"{OPCODES.get(opcode, opcode)} {'answer' if reply else 'query'} id={ident} (truncated)"


def main():
    out_path, names = sys.argv[1], {}
    for item in sys.argv[2:]:
        port, name = item.split(":", 1)
        names[int(port)] = name
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
    sniffer.bind(("lo", 0))
    sniffer.settimeout(0.5)
    # The kernel's receive time, not this process's: under load it may run late.
    sniffer.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    seen_tcp = set()
    polls = set()
    with open(out_path, "w") as out:
        while running[0]:
            try:
                frame, ancillary, _, meta = sniffer.recvmsg(65535, 64)
            except (socket.timeout, InterruptedError):
                continue
            at = time.time()
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    seconds, nanoseconds = struct.unpack("qq", data[:16])
                    at = seconds + nanoseconds / 1e9
            if meta[2] == socket.PACKET_OUTGOING:
                continue  # each loopback packet is seen twice
            packet = frame[14:]
            if len(packet) < 20 or packet[0] >> 4 != 4:
                continue
            header = (packet[0] & 0xF) * 4
            protocol = packet[9]
            body = packet[header:]
            if protocol == 17:
                sport, dport = struct.unpack("!HH", body[:4])
                if sport not in names and dport not in names or sport in polls or dport in polls:
                    continue
                text = describe(body[8:])
                if text is None:
                    if len(body) > 11 and not body[10] & 0x80:
                        polls.add(sport)  # the benchmark's poll socket: leave its answers out too
                    continue
                kind = "udp"
            elif protocol == 6:
                sport, dport, _, _, offset_flags = struct.unpack("!HHIIH", body[:14])
                if sport not in names and dport not in names:
                    continue
                flags = offset_flags & 0x3F
                payload = body[(offset_flags >> 12) * 4:]
                kind = "tcp"
                if flags & 0x02:
                    text = "SYN" + ("-ACK" if flags & 0x10 else "")
                elif flags & 0x01:
                    text = "FIN"
                elif payload:
                    key = (sport, dport)
                    # The first segment each way carries the request or the answer's start.
                    if key in seen_tcp:
                        text = f"data {len(payload)} bytes"
                    else:
                        seen_tcp.add(key)
                        text = (describe(payload[2:]) or "data") + f" ({len(payload)} bytes)"
                else:
                    continue
            else:
                continue
            source = names.get(sport, sport)
            destination = names.get(dport, dport)
            stamp = time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1e6) % 1000000:06d}"
            out.write(f"{stamp} {at:.6f} {kind} {source} -> {destination} {text}\n")
            out.flush()


if __name__ == "__main__":
    main()

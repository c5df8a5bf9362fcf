#!/usr/bin/env python3
"""The old Python tool's per-packet algorithm, re-implemented for speed comparison.

Written from the published description of the old hackathon tool (not from its
code): read a classic pcap with dpkt, decode Ethernet/IP/UDP, parse DNS with
dpkt.dns.DNS, run the checks on every question name and write flagged packets
to a CSV file (delimiter '|', quotechar '^'). Single process, one core.

Checks, per question name:
  * a label longer than 40 bytes            -> high   "packet label length too high"
  * any of the rare symbols                 -> high   "rare symbols detected"
  * Shannon entropy of the name above 4.5   -> high   "high entropy detected"
  * a hex run of 20 or more (first match)   -> medium "hex encoding detected"
  * name not valid UTF-8                    -> 100%   "not utf-8 symbols detected"
The strongest result of a packet is written (one row per flagged packet).
Frames that are not IP/UDP, or not DNS, are skipped.

Usage: oldtool.py CAPTURE.pcap OUT.csv
"""
import csv
import math
import os
import re
import sys
import time
from collections import Counter

import dpkt

MAX_LABEL = 40
MAX_ENTROPY = 4.5
HEX_RE = re.compile(rb"[0-9a-fA-F]{20,}")
# Bytes outside letters, digits, '-', '_' and the label separator.
RARE_RE = re.compile(rb"[^A-Za-z0-9\-_.]")
RANK = {"100%": 3, "high": 2, "medium": 1}


def entropy(name):
    n = len(name)
    if n == 0:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(name).values())


def check_name(name):
    """Returns (probability, reason) of the strongest check, or None."""
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return "100%", "not utf-8 symbols detected"
    if any(len(label) > MAX_LABEL for label in name.split(b".")):
        return "high", "packet label length too high"
    if RARE_RE.search(name):
        return "high", "rare symbols detected"
    if entropy(name) > MAX_ENTROPY:
        return "high", "high entropy detected"
    if HEX_RE.search(name):
        return "medium", "hex encoding detected"
    return None


def main():
    path, out = sys.argv[1], sys.argv[2]
    pcap_name = os.path.basename(path)
    packets = flagged = 0
    start = time.time()
    with open(path, "rb") as f, open(out, "w", newline="") as o:
        w = csv.writer(o, delimiter="|", quotechar="^")
        w.writerow(["pcap_name", "packet_number", "probability", "reason"])
        for number, (_, buf) in enumerate(dpkt.pcap.Reader(f), 1):
            packets = number
            try:
                eth = dpkt.ethernet.Ethernet(buf)
            except (dpkt.dpkt.UnpackError, dpkt.dpkt.NeedData):
                continue
            ip = eth.data
            if not isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)):
                continue
            udp = ip.data
            if not isinstance(udp, dpkt.udp.UDP):
                continue
            try:
                dns = dpkt.dns.DNS(udp.data)
            except (dpkt.dpkt.UnpackError, dpkt.dpkt.NeedData, IndexError, ValueError):
                continue
            best = None
            for q in dns.qd:
                name = q.name if isinstance(q.name, bytes) else q.name.encode("utf-8", "surrogateescape")
                r = check_name(name)
                if r and (best is None or RANK[r[0]] > RANK[best[0]]):
                    best = r
            if best:
                flagged += 1
                w.writerow([pcap_name, number, best[0], best[1]])
    el = time.time() - start
    print(f"oldtool: {packets} packets, {flagged} flagged, {el:.2f} s, {packets / el:.0f} packets/s", file=sys.stderr)


if __name__ == "__main__":
    main()

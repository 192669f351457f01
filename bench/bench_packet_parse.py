"""Protocol V2 on the host: packet parse throughput (MB/s of wire bytes) and the CRCs alone.

A stream of packets with 498-byte payloads (an H7's maximum) is fed to host_tools.protocol.packet.Parser in
4 KiB reads, as a USB port delivers them; every packet is checked (header CRC-16, payload CRC-32). Prints
figures measured on this host: the goal is >= 50 MB/s of parsing, so that a USB high-speed camera (RT1062,
N6: up to about 40 MB/s in practice) is never limited by the host.

  .venv/bin/python bench/bench_packet_parse.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from host_tools.protocol import crc
from host_tools.protocol.packet import Packet, Parser, encode

PAYLOAD = 498
READ = 4096


def rate(fn, nbytes: int, seconds: float) -> float:
    """MB/s of `fn()` processing nbytes each call, over about `seconds`."""
    fn()  # warm up (tables, imports)
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n * nbytes / dt / 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=2.0, help="time per figure (default 2)")
    args = p.parse_args()
    packets = [encode(Packet(i & 0xFF, 1, 0, 0x22, os.urandom(PAYLOAD))) for i in range(256)]
    wire = b"".join(packets)
    reads = [wire[i:i + READ] for i in range(0, len(wire), READ)]

    def parse() -> None:
        parser = Parser()
        got = sum(len(parser.feed(r)) for r in reads)
        assert got == len(packets) and parser.stats.payload_errors == 0

    payload = packets[0][10:10 + PAYLOAD]
    print(f"host: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"CRC backend: {crc.BACKEND}")
    print(f"parse {len(packets)} packets of {PAYLOAD}-byte payload ({len(wire)} B) in {READ}-byte reads: "
          f"{rate(parse, len(wire), args.seconds):8.1f} MB/s")
    print(f"crc32 of one {PAYLOAD}-byte payload:                        "
          f"{rate(lambda: crc.crc32(payload), PAYLOAD, args.seconds):8.1f} MB/s")
    print(f"crc16 of one 8-byte header:                                 "
          f"{rate(lambda: crc.crc16(payload[:8]), 8, args.seconds):8.1f} MB/s")


if __name__ == "__main__":
    main()

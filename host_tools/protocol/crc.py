"""The two CRCs of Protocol V2: CRC-16 (poly 0xF94F) over the header, CRC-32 (poly 0xFA567D89) over payloads.

Both are MSB-first, initial value all ones, no reflection and no final xor.
Reference vectors: crc16(b"123456789") == 0xE541, crc32(b"123456789") == 0x41B403D3.

Computed by anycrc (C, any polynomial) rather than by our own tables, because it is measurably better:
bench/bench_packet_parse.py on this project's x86_64 host parsed 498-byte-payload packets at 11 MB/s with
the pure-Python CRC-16 table and numpy GF(2) blocks for CRC-32, 44 MB/s with anycrc, and 71 MB/s once the
parser also stopped building a frozen dataclass per packet (the goal: >= 50 MB/s, what a USB high-speed
camera may send); the CRC-32 of one payload alone went from 15 MB/s to about 400 MB/s.
tests/protocol/test_crc.py checks both against a bit-at-a-time definition.
"""

from __future__ import annotations

import anycrc

BACKEND = f"anycrc {getattr(anycrc, '__version__', '')}".strip()

_CRC16 = anycrc.CRC(width=16, poly=0xF94F, init=0xFFFF, refin=False, refout=False, xorout=0)
_CRC32 = anycrc.CRC(width=32, poly=0xFA567D89, init=0xFFFFFFFF, refin=False, refout=False, xorout=0)

crc16 = _CRC16.calc  # (bytes | bytearray | memoryview) -> int
crc32 = _CRC32.calc

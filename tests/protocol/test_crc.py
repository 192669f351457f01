from __future__ import annotations

import random
import struct

from host_tools.protocol.crc import crc16, crc32
from host_tools.protocol.packet import Packet, encode


def _bitwise(data: bytes, poly: int, width: int) -> int:
    """Textbook MSB-first CRC, one bit at a time, all-ones start, no reflection, no final xor."""
    crc, top, mask = (1 << width) - 1, 1 << (width - 1), (1 << width) - 1
    for byte in data:
        crc ^= byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
    return crc


def test_reference_vectors() -> None:
    assert crc16(b"123456789") == 0xE541
    assert crc32(b"123456789") == 0x41B403D3


def test_tables_match_bitwise_definition() -> None:
    rng = random.Random(7)
    for n in (0, 1, 2, 7, 63, 64, 498, 511, 4095, 4096, 4097, 5000):
        data = rng.randbytes(n)
        assert crc16(data) == _bitwise(data, 0xF94F, 16)
        assert crc32(data) == _bitwise(data, 0xFA567D89, 32)


def test_sync_packet_bytes_match_reference() -> None:
    assert encode(Packet(0, 0, 0, 0)) == bytes.fromhex("aad5000000000000b0ac")


def test_packet_layout() -> None:
    raw = encode(Packet(5, 2, 8, 0x26, b"abc"))
    sync, seq, chan, flags, op, length, hcrc = struct.unpack_from("<HBBBBHH", raw)
    assert (sync, seq, chan, flags, op, length) == (0xD5AA, 5, 2, 8, 0x26, 3)
    assert hcrc == _bitwise(raw[:8], 0xF94F, 16)
    assert raw[10:13] == b"abc" and struct.unpack_from("<I", raw, 13)[0] == _bitwise(b"abc", 0xFA567D89, 32)
    assert len(raw) == 17

"""The two CRCs of Protocol V2: CRC-16 (poly 0xF94F) over the header, CRC-32 (poly 0xFA567D89) over payloads.

Both are MSB-first, initial value all ones, no reflection and no final xor.
Reference vectors: crc16(b"123456789") == 0xE541, crc32(b"123456789") == 0x41B403D3.
"""

from __future__ import annotations


def _table(poly: int, width: int) -> tuple[int, ...]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) if crc & top else (crc << 1)
        table.append(crc & mask)
    return tuple(table)


_T16 = _table(0xF94F, 16)
_T32 = _table(0xFA567D89, 32)


def crc16(data: bytes | bytearray | memoryview, crc: int = 0xFFFF) -> int:
    t = _T16
    for b in bytes(data):
        crc = ((crc << 8) & 0xFFFF) ^ t[(crc >> 8) ^ b]
    return crc


def _zero_byte(reg: int) -> int:
    """The register after one zero byte."""
    return ((reg << 8) & 0xFFFFFFFF) ^ _T32[reg >> 24]


# CRC-32 is linear over GF(2), so a block of n bytes can be done at once in numpy:
#   crc(reg, block) = shift(reg, n) ^ XOR over positions p of rows[d][block[p]], d = n - 1 - p,
# where rows[d][b] is the register left by byte b followed by d zero bytes (from a zero register) and
# shift(reg, n) is the register after n zero bytes (XOR of the images of reg's set bits).
_BLOCK = 512
_lin: tuple | None = None


def _linear_tables() -> tuple:
    global _lin
    if _lin is None:
        import numpy as np

        t = np.array(_T32, np.uint32)
        rows = np.empty((_BLOCK, 256), np.uint32)  # stored by (_BLOCK - 1 - d) so that a block is a slice
        rows[_BLOCK - 1] = t
        for k in range(_BLOCK - 2, -1, -1):
            prev = rows[k + 1]
            rows[k] = ((prev << np.uint32(8)) & np.uint32(0xFFFFFFFF)) ^ t[prev >> np.uint32(24)]
        basis = [[1 << i for i in range(32)]]  # basis[n][i]: bit i after n zero bytes
        for _ in range(_BLOCK):
            basis.append([_zero_byte(v) for v in basis[-1]])
        _lin = (np, rows, basis, np.arange(_BLOCK))
    return _lin


def _shift(reg: int, n: int, basis: list[list[int]]) -> int:
    out, images, i = 0, basis[n], 0
    while reg:
        if reg & 1:
            out ^= images[i]
        reg >>= 1
        i += 1
    return out


def crc32(data: bytes | bytearray | memoryview, crc: int = 0xFFFFFFFF) -> int:
    data = bytes(data)
    if len(data) < 32:
        for b in data:
            crc = ((crc << 8) & 0xFFFFFFFF) ^ _T32[(crc >> 24) ^ b]
        return crc
    np, rows, basis, idx = _linear_tables()
    arr = np.frombuffer(data, np.uint8)
    for start in range(0, len(arr), _BLOCK):
        block = arr[start : start + _BLOCK]
        n = len(block)
        crc = _shift(crc, n, basis) ^ int(np.bitwise_xor.reduce(rows[_BLOCK - n :][idx[:n], block]))
    return crc

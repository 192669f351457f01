"""Emulated `binascii`/`ubinascii`."""

from __future__ import annotations

import binascii as _b
import types


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("binascii")
    mod.hexlify = lambda data, sep=None: _b.hexlify(bytes(data), sep) if sep else _b.hexlify(bytes(data))
    mod.unhexlify = lambda data: _b.unhexlify(data)
    mod.a2b_base64 = lambda data: _b.a2b_base64(data)
    mod.b2a_base64 = lambda data, newline=True: _b.b2a_base64(bytes(data), newline=newline)
    mod.crc32 = lambda data, crc=0: _b.crc32(bytes(data), crc)
    return mod

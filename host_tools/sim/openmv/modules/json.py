"""Emulated `json`/`ujson`: CPython's json with MicroPython's error type and message for bad input."""

from __future__ import annotations

import json as _json
import types


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("json")

    def loads(s):
        if isinstance(s, (bytes, bytearray)):
            s = bytes(s).decode()
        try:
            return _json.loads(s)
        except ValueError:
            raise ValueError("syntax error in JSON") from None

    def dumps(obj, separators=None) -> str:
        return _json.dumps(obj, separators=separators)

    mod.loads = loads
    mod.load = lambda stream: loads(stream.read())
    mod.dumps = dumps
    mod.dump = lambda obj, stream, separators=None: stream.write(dumps(obj, separators))
    return mod

"""Emulated `hashlib`: MicroPython hash objects (update(), digest(); no hexdigest())."""

from __future__ import annotations

import hashlib as _hashlib
import types


def _kind(algo: str):
    class _Hash:
        def __init__(self, data=b"") -> None:
            self._h = _hashlib.new(algo)
            if data:
                self._h.update(bytes(data))

        def update(self, data) -> None:
            self._h.update(bytes(data))

        def digest(self) -> bytes:
            return self._h.digest()

    _Hash.__name__ = algo
    return _Hash


def make(state, run) -> types.ModuleType:
    mod = types.ModuleType("hashlib")
    mod.sha256 = _kind("sha256")
    mod.sha1 = _kind("sha1")
    mod.md5 = _kind("md5")
    return mod

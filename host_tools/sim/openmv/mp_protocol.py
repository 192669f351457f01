"""The emulated MicroPython `protocol` module: scripts add Protocol V2 channels.

    ch = protocol.register(name="results", backend=obj)   # obj has any of size/read/readp/write/poll/...
    ch.send_event(1)

Channels live in a ChannelRegistry attached to the board state (state.protocol_registry); the pty server
serves them to the host. Without a server the module still works (is_active() is False).
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable

from host_tools.protocol.constants import ChannelFlag

FIRST_DYNAMIC_ID = 4  # 0 transport, 1 stdin, 2 stdout, 3 stream (the H7 build has no profiler channel)
MAX_CHANNELS = 32
NAME_SIZE = 14


class ScriptChannel:
    """Adapts a script's backend object to the device channel interface."""

    def __init__(self, name: str, backend: object, flags: int) -> None:
        self.name, self.backend = name, backend
        has = lambda m: callable(getattr(backend, m, None))  # noqa: E731
        self.flags = flags | ChannelFlag.DYNAMIC
        self.flags |= ChannelFlag.READ if has("read") or has("readp") else 0
        self.flags |= ChannelFlag.WRITE if has("write") else 0
        self.flags |= ChannelFlag.LOCK if has("lock") else 0
        for m in ("size", "poll", "shape", "lock", "unlock"):
            if has(m):
                setattr(self, m, getattr(backend, m))
        if has("read"):
            self.read = lambda off, n: _buffer(backend.read(off, n))
        if has("readp"):
            self.readp = lambda off, n: _buffer(backend.readp(off, n))
        if has("write"):
            self.write = lambda off, data: backend.write(off, bytearray(data))
        if has("ioctl"):
            self.ioctl = lambda cmd, arg: backend.ioctl(cmd, len(arg), bytearray(arg) if arg else None) or 0


def _buffer(value: object) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)  # type: ignore[arg-type]


class ChannelRegistry:
    """Script-registered channels of one emulated board, by channel id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.channels: dict[int, ScriptChannel] = {}
        self.send_event: Callable[[int, int], bool] | None = None  # set by the pty server
        self.on_change: Callable[[bool], None] | None = None  # called with True on register

    def register(self, name: str, backend: object, flags: int = 0) -> int:
        if not isinstance(name, str) or not name:
            raise TypeError("channel name must be a non-empty str")
        with self._lock:
            for cid, ch in list(self.channels.items()):
                if ch.name == name[: NAME_SIZE - 1]:
                    del self.channels[cid]  # re-registering a name replaces the old channel
            free = [i for i in range(FIRST_DYNAMIC_ID, MAX_CHANNELS) if i not in self.channels]
            if not free:
                raise RuntimeError("Failed to register channel")
            cid = free[0]
            self.channels[cid] = ScriptChannel(name[: NAME_SIZE - 1], backend, flags)
        if self.on_change:
            self.on_change(True)
        return cid

    def clear(self) -> None:
        with self._lock:
            had = bool(self.channels)
            self.channels.clear()
        if had and self.on_change:
            self.on_change(False)

    def snapshot(self) -> dict[int, ScriptChannel]:
        with self._lock:
            return dict(self.channels)


def registry_for(state: object) -> ChannelRegistry:
    reg = getattr(state, "protocol_registry", None)
    if reg is None:
        reg = ChannelRegistry()
        state.protocol_registry = reg  # type: ignore[attr-defined]
    return reg


class ProtocolChannel:
    def __init__(self, registry: ChannelRegistry, cid: int, name: str) -> None:
        self._registry, self._id, self._name = registry, cid, name

    def send_event(self, event: int, wait_ack: bool = False) -> None:
        if self._registry.send_event is not None:
            self._registry.send_event(self._id, int(event))

    def __repr__(self) -> str:
        return f"<ProtocolChannel: {self._name}>"


def make(state: object, run: object = None) -> types.ModuleType:
    """Module factory in the form the emulated runtime expects (modules/<name>.py: make(state, run))."""
    registry = registry_for(state)
    mod = types.ModuleType("protocol")

    def register(name: str, backend: object, flags: int = 0) -> ProtocolChannel:
        checkpoint = getattr(state, "checkpoint", None)
        if checkpoint:
            checkpoint()
        cid = registry.register(name, backend, flags)
        return ProtocolChannel(registry, cid, name)

    mod.register = register
    mod.is_active = lambda: registry.send_event is not None
    mod.poll = lambda: None  # the emulated protocol task runs in its own thread
    mod.init = lambda **kwargs: None  # the USB transport is already initialised at boot
    for flag in ChannelFlag:
        setattr(mod, f"CHANNEL_FLAG_{flag.name}", int(flag))
    return mod

"""The emulated camera's built-in Protocol V2 channels: stdin (scripts), stdout (print) and stream (frames).

They follow the firmware: stdin collects a script (a write at offset 0 starts a new one) and runs it on
EXEC after stopping the current one; stdout is a 512-byte buffer (the H7's OMV_PROTOCOL_STDIO_BUFFER_SIZE)
that, when a string does not fit, drops what it held and keeps the whole new string; stream serves the
newest snapshot once, as JPEG (quality 90) or raw pixels, behind LOCK/UNLOCK, only while the host has
enabled streaming.
"""

from __future__ import annotations

import io
import struct
import threading
from collections.abc import Callable

import numpy as np

from host_tools import rgb565
from host_tools.protocol.constants import (
    PIXFORMAT_GRAYSCALE,
    PIXFORMAT_JPEG,
    PIXFORMAT_RGB565,
    STDIN_EXEC,
    STDIN_RESET,
    STDIN_STOP,
    STREAM_CTRL,
    STREAM_RAW_CFG,
    STREAM_RAW_CTRL,
    ChannelFlag,
)
from host_tools.protocol.stream_frame import pack_frame

STDOUT_BUFFER_SIZE = 512
JPEG_QUALITY = 90
_FORMATS = {"RGB565": PIXFORMAT_RGB565, "GRAYSCALE": PIXFORMAT_GRAYSCALE, "JPEG": PIXFORMAT_JPEG}


class TransportChannel:
    """Channel 0: the USB link itself (listed, not accessible)."""

    name, flags = "usb", ChannelFlag.PHYSICAL


class StdinChannel:
    name, flags = "stdin", ChannelFlag.WRITE | ChannelFlag.EXEC

    def __init__(
        self, run_source: Callable[[str], None], stop: Callable[[], None], running: Callable[[], bool]
    ) -> None:
        self._buf = bytearray()
        self._run, self._stop, self._running = run_source, stop, running

    def write(self, offset: int, data: bytes) -> int:
        if offset == 0:
            self._buf.clear()
        self._buf += data
        return len(data)

    def ioctl(self, cmd: int, arg: bytes) -> int:
        if cmd == STDIN_STOP:
            self._stop()
        elif cmd == STDIN_EXEC:
            if not self._buf:
                return -1
            self._run(self._buf.decode("utf-8", "replace"))
        elif cmd == STDIN_RESET:
            self._buf.clear()
        else:
            return -1
        return 0

    def poll(self) -> bool:
        return self._running()


class StdoutChannel:
    name, flags = "stdout", ChannelFlag.READ

    def __init__(self, capacity: int = STDOUT_BUFFER_SIZE) -> None:
        self.capacity = capacity
        self._buf = bytearray()
        self._lock = threading.Lock()
        self.lost = 0  # bytes overwritten because nobody read them in time

    def put(self, text: str) -> None:
        data = text.encode("utf-8")
        with self._lock:
            space = self.capacity - len(self._buf)
            if len(data) <= space:
                self._buf += data
            else:
                # Firmware: the unread text is dropped; the new string is kept whole (up to the capacity).
                self.lost += len(self._buf) + max(0, len(data) - self.capacity)
                self._buf[:] = data[: self.capacity]

    def clear(self) -> None:
        with self._lock:
            self._buf.clear()

    def size(self) -> int:
        with self._lock:
            return len(self._buf)

    def read(self, offset: int, size: int) -> bytes:
        with self._lock:
            out = bytes(self._buf[:size])
            del self._buf[:size]
            return out

    def poll(self) -> bool:
        return self.size() > 0


class StreamChannel:
    name, flags = "stream", ChannelFlag.READ | ChannelFlag.LOCK | ChannelFlag.STREAM

    def __init__(self, latest: Callable[[], tuple[int, int, str, bytes] | None], counter: Callable[[], int]):
        self._latest, self._counter = latest, counter
        self.enabled = False
        self.raw = False
        self.raw_size: tuple[int, int] | None = None
        self.locked: bytes | None = None
        self._locked_no = -1
        self._consumed = -1
        self._cache: tuple[int, bytes] | None = None
        self.frames_served = 0

    def reset(self) -> None:
        self.enabled, self.raw, self.raw_size = False, False, None
        self.locked, self._consumed, self._cache = None, -1, None

    def _pending(self) -> tuple[int, bytes] | None:
        if not self.enabled:
            return None
        no = self._counter()
        if no == self._consumed:
            return None
        if self._cache is None or self._cache[0] != no:
            frame = self._latest()
            if frame is None:
                return None
            self._cache = (no, self._encode(*frame))
        return self._cache

    def _encode(self, w: int, h: int, fmt: str, data: bytes) -> bytes:
        code = _FORMATS.get(fmt)
        if code is None:
            raise ValueError(f"camera frame has unknown pixformat {fmt!r}")
        if code == PIXFORMAT_JPEG:
            return pack_frame(w, h, code, data)
        if self.raw:
            if self.raw_size and self.raw_size != (w, h):
                data, (w, h) = _scale(data, w, h, code, self.raw_size), self.raw_size
            return pack_frame(w, h, code, data)
        from PIL import Image

        out = io.BytesIO()
        rgb = rgb565.decode(data, w, h) if code == PIXFORMAT_RGB565 else np.frombuffer(data, np.uint8, w * h)
        Image.fromarray(rgb.reshape(h, w, -1).squeeze()).save(out, "JPEG", quality=JPEG_QUALITY)
        return pack_frame(w, h, PIXFORMAT_JPEG, out.getvalue())

    def size(self) -> int:
        if self.locked is not None:
            return len(self.locked)
        pending = self._pending()
        return len(pending[1]) if pending else 0

    def poll(self) -> bool:
        return self.size() > 0

    def shape(self) -> tuple[int, ...]:
        return (self.size(),)

    def lock(self) -> bool:
        if self.locked is not None:
            return True
        pending = self._pending()
        if pending is None:
            return False  # nothing new: the host gets BUSY
        self._locked_no, self.locked = pending
        return True

    def unlock(self) -> bool:
        if self.locked is not None:
            self._consumed = self._locked_no
            self.frames_served += 1
        self.locked = None
        return True

    def readp(self, offset: int, size: int) -> bytes | None:
        blob = self.locked
        if blob is None:
            pending = self._pending()
            blob = pending[1] if pending else None
        if blob is None or offset + size > len(blob):
            return None
        return blob[offset : offset + size]

    def ioctl(self, cmd: int, arg: bytes) -> int:
        if cmd in (STREAM_CTRL, STREAM_RAW_CTRL) and len(arg) >= 4:
            (on,) = struct.unpack_from("<I", arg)
            if cmd == STREAM_CTRL:
                self.enabled = bool(on)
                if not on:
                    self.unlock()
            else:
                self.raw, self._cache = bool(on), None
            return 0
        if cmd == STREAM_RAW_CFG and len(arg) >= 8:
            w, h = struct.unpack_from("<II", arg)
            if not (0 < w <= 4096 and 0 < h <= 4096):
                return -1
            self.raw_size, self._cache = (w, h), None
            return 0
        return -1


def _scale(data: bytes, w: int, h: int, code: int, size: tuple[int, int]) -> bytes:
    """Nearest-neighbour scaling for the raw stream (RAW_CFG)."""
    bpp = 2 if code == PIXFORMAT_RGB565 else 1
    px = np.frombuffer(data, np.uint8, w * h * bpp).reshape(h, w, bpp)
    ow, oh = size
    ys = (np.arange(oh) * h) // oh
    xs = (np.arange(ow) * w) // ow
    return px[ys][:, xs].tobytes()

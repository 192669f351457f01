"""The emulated camera's IDE debug protocol (usbdbg) of firmware 4.x, used when the host sets 921600 baud.

Script output goes to a text buffer the host drains with TX_BUF_LEN/TX_BUF (4 KB here: an emulation
choice); frames are JPEG-compressed for the IDE as the firmware does, and each is served once.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from host_tools.openmv_firmware import DEFAULT_REPL, parse_version
from host_tools.protocol.constants import STREAM_HEADER_SIZE
from host_tools.protocol.usbdbg import (
    ARCH_STR,
    FB_ENABLE,
    FRAME_DUMP,
    FRAME_SIZE,
    FW_VERSION,
    SCRIPT_EXEC,
    SCRIPT_RUNNING,
    SCRIPT_STOP,
    SYS_RESET,
    TX_BUF,
    TX_BUF_LEN,
)
from host_tools.sim.openmv.v2_channels import StdoutChannel, StreamChannel

TEXT_BUFFER_SIZE = 4096
_OUT_DATA = {SCRIPT_EXEC, FB_ENABLE}  # OUT commands followed by `length` bytes


class UsbdbgDevice:
    def __init__(self, camera, write: Callable[[bytes], None], runner, stream: StreamChannel,
                 on_reset: Callable[[], None]) -> None:
        self.camera, self._write, self.runner = camera, write, runner
        self.text = StdoutChannel(TEXT_BUFFER_SIZE)
        self.stream, self._on_reset = stream, on_reset
        self._buf = bytearray()

    def reset_state(self) -> None:
        self._buf.clear()
        self.text.clear()

    def feed(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) >= 6:
            if self._buf[0] != 0x30:
                del self._buf[0]  # not a command header: resynchronise
                continue
            _, op, length = struct.unpack_from("<BBI", self._buf)
            need = 6 + (length if op in _OUT_DATA else 0)
            if len(self._buf) < need:
                return
            data = bytes(self._buf[6:need])
            del self._buf[:need]
            self._command(op, length, data)

    def _command(self, op: int, length: int, data: bytes) -> None:
        fw = tuple(getattr(getattr(self.camera, "state", None), "firmware", parse_version(DEFAULT_REPL)))[:3]
        if op == FW_VERSION:
            self._send(struct.pack("<3I", *fw), length)
        elif op == ARCH_STR:
            self._send(b"H7 1024 [OPENMV4:000000000000000000E4E5E4]", length)
        elif op == SCRIPT_RUNNING:
            self._send(struct.pack("<I", int(self.runner.running())), length)
        elif op == TX_BUF_LEN:
            self._send(struct.pack("<I", self.text.size()), length)
        elif op == TX_BUF:
            self._write(self.text.read(0, length))
        elif op == FRAME_SIZE:
            blob = self.stream.locked if self.stream.lock() else None
            w, h = struct.unpack_from("<II", blob) if blob else (0, 0)
            size = len(blob) - STREAM_HEADER_SIZE if blob else 0
            self._send(struct.pack("<3I", w, h, size), length)
        elif op == FRAME_DUMP:
            blob = self.stream.locked or b""
            self._send(blob[STREAM_HEADER_SIZE:], length)
            self.stream.unlock()
        elif op == SCRIPT_EXEC and not self.runner.running():
            source = data.decode("utf-8", "replace")
            self.runner.start(lambda: self.camera.exec_script(source, "<stdin>"), "usbdbg-script")
        elif op == SCRIPT_STOP:
            self.runner.stop()
        elif op == FB_ENABLE:
            self.stream.ioctl(0, data[:4])
        elif op == SYS_RESET:
            self._on_reset()

    def _send(self, data: bytes, length: int) -> None:
        self._write(data[:length].ljust(length, b"\0"))

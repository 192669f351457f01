"""The emulated camera's USB serial port as firmware 4.x presents it at ordinary baud rates: the MicroPython
REPL, with the raw REPL that mpremote-style hosts use.

Raw REPL, as MicroPython's pyexec: ctrl-A enters it ("raw REPL; CTRL-B to exit\\r\\n>"), ctrl-B leaves it,
ctrl-C stops the running script, ctrl-D runs what was sent ("OK", output, \\x04, error, \\x04, ">"), and
ctrl-D with nothing sent is a soft reset ("MPY: soft reboot", then a fresh raw REPL prompt; main.py does
not run in raw mode). While a script runs (main.py), only ctrl-C acts on the input. Raw-paste mode
(ctrl-E "A" \\x01, answered "R\\x01" and a flow-control window) carries the script in windows
acknowledged with \\x01. The REPL's globals persist from one execution to the next
until a soft reset, as mpremote's `fs` commands rely on.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable

from host_tools.openmv_firmware import DEFAULT_REPL, parse_version

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
SOFT_REBOOT = b"MPY: soft reboot\r\n"
TRACEBACK = "Traceback (most recent call last):"
PASTE_WINDOW = 128  # raw-paste flow-control window (an emulation choice; the host adapts to any)


class ReplDevice:
    def __init__(self, camera, write: Callable[[bytes], None], write_nowait: Callable[[bytes], None], runner):
        # write_nowait: for what running scripts print; a host that does not read loses it, as on the board
        self.camera, self._write, self._write_nowait, self.runner = camera, write, write_nowait, runner
        self.raw = False
        self._buf = bytearray()
        self._paste: int | None = None  # None: not pasting; else bytes left in the current window
        self._escape = b""  # the start of a raw-paste request (ctrl-E, "A")
        self._capture: list[str] | None = None
        self._lock = threading.Lock()
        self._answered = False  # the raw-REPL execution now running has already sent its answer
        # ctrl-C received while no script ran (e.g. the board resetting after a hard fault): the host is
        # stopping main.py, and on the board that ctrl-C would hit main.py as soon as it started.
        self.interrupt_pending = False

    def banner(self) -> bytes:
        state = getattr(self.camera, "state", None)
        fw = ".".join(str(v) for v in getattr(state, "firmware", parse_version(DEFAULT_REPL)))
        return f"\r\nOpenMV v{fw} (emulated); MicroPython; OPENMV4-STM32H743\r\n>>> ".encode()

    def output(self, text: str) -> None:
        """Everything scripts print: captured while a raw-REPL script runs, else straight to the port."""
        with self._lock:
            if self._capture is not None:
                self._capture.append(text)
                return
        self._write_nowait(text.replace("\n", "\r\n").encode("utf-8"))

    def reboot(self) -> None:
        self.runner.stop()
        self.raw = False
        self._buf.clear()
        self._paste, self._escape = None, b""
        self._answered = False

    def feed(self, data: bytes) -> None:
        for b in data:
            if self._paste is not None:
                self._paste_byte(b)
            elif self._escape:
                self._escape_byte(b)
            elif b == 0x03:  # ctrl-C: interrupt the running script, clear the line
                self.interrupt_pending = not self.runner.running()
                self.runner.stop()
                self._buf.clear()
                if not self.raw:
                    self._send(b"\r\n>>> ")
            elif self.runner.running() and not self._answered:
                continue  # a running script does not read the REPL's input (the board buffers it unread)
            elif b == 0x01:
                self.raw = True
                self._buf.clear()
                self._send(RAW_BANNER)
            elif b == 0x02:
                self.raw = False
                self._buf.clear()
                self._send(self.banner())
            elif self.raw and b == 0x04:
                source, self._buf = self._buf.decode("utf-8", "replace"), bytearray()
                if not source:
                    self._soft_reboot()
                    continue
                self._send(b"OK")
                self._start(source)
            elif self.raw and b == 0x05 and not self._buf:
                self._escape = b"\x05"
            elif self.raw:
                self._buf.append(b)

    def _soft_reboot(self) -> None:
        """ctrl-D on an empty raw-REPL line: soft reset; the REPL comes back in raw mode (main.py not run)."""
        self.runner.stop()
        soft_reset = getattr(self.camera, "soft_reset", None)
        if soft_reset is not None:
            soft_reset()
        self._send(SOFT_REBOOT + RAW_BANNER)

    def _escape_byte(self, b: int) -> None:
        self._escape += bytes([b])
        if self._escape == b"\x05A":
            return
        if self._escape == b"\x05A\x01":  # raw-paste request: accepted, with the first window
            self._escape, self._paste = b"", PASTE_WINDOW
            self._send(b"R\x01" + struct.pack("<H", PASTE_WINDOW))
            return
        stray, self._escape = self._escape, b""  # not a raw-paste request: ordinary script bytes
        self._buf += stray

    def _paste_byte(self, b: int) -> None:
        if b == 0x04:  # end of the pasted script: acknowledge, then compile and run it
            self._paste = None
            source, self._buf = self._buf.decode("utf-8", "replace"), bytearray()
            self._send(b"\x04")
            self._start(source)
            return
        self._buf.append(b)
        self._paste -= 1  # type: ignore[operator]
        if self._paste == 0:
            self._paste = PASTE_WINDOW
            self._send(b"\x01")  # room for another window

    def _start(self, source: str) -> None:
        self._answered = False
        self.interrupt_pending = False
        self.runner.start(lambda s=source: self._run_raw(s), "raw-repl-script")

    def _run_raw(self, source: str) -> None:
        with self._lock:
            self._capture = []
        run = getattr(self.camera, "repl_exec", None) or self.camera.exec_script
        try:
            run(source)
        finally:
            with self._lock:
                text, self._capture = "".join(self._capture or []), None
            err = ""
            if getattr(self.camera, "end_reason", None) == "error" and TRACEBACK in text:
                cut = text.rindex(TRACEBACK)
                text, err = text[:cut], text[cut:]
            cooked = lambda s: s.replace("\n", "\r\n").encode("utf-8")  # noqa: E731
            if getattr(self.camera, "end_reason", None) != "hardfault":  # a faulted board answers nothing
                self._answered = True
                self._send(cooked(text) + b"\x04" + cooked(err) + b"\x04>")

    def _send(self, data: bytes) -> None:
        try:
            self._write(data)
        except Exception:  # noqa: BLE001 - nobody is reading the port: the board drops the output
            pass

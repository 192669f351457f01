"""The emulated camera's USB serial port as firmware 4.x presents it at ordinary baud rates: the MicroPython
REPL, with the raw REPL that mpremote-style hosts use (ctrl-A enter, ctrl-D run, ctrl-C stop, ctrl-B leave).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
TRACEBACK = "Traceback (most recent call last):"


class ReplDevice:
    def __init__(self, camera, write: Callable[[bytes], None], write_nowait: Callable[[bytes], None], runner):
        # write_nowait: for what running scripts print; a host that does not read loses it, as on the board
        self.camera, self._write, self._write_nowait, self.runner = camera, write, write_nowait, runner
        self.raw = False
        self._buf = bytearray()
        self._capture: list[str] | None = None
        self._lock = threading.Lock()

    def banner(self) -> bytes:
        fw = ".".join(str(v) for v in getattr(getattr(self.camera, "state", None), "firmware", (4, 6, 0)))
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

    def feed(self, data: bytes) -> None:
        for b in data:
            if b == 0x03:  # ctrl-C: interrupt the running script, clear the line
                self.runner.stop()
                self._buf.clear()
                if not self.raw:
                    self._send(b"\r\n>>> ")
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
                self._send(b"OK")
                if source.strip():
                    self.runner.start(lambda s=source: self._run_raw(s), "raw-repl-script")
                else:
                    self._send(b"\x04\x04>")
            elif self.raw:
                self._buf.append(b)

    def _run_raw(self, source: str) -> None:
        with self._lock:
            self._capture = []
        try:
            self.camera.exec_script(source, "<stdin>")
        finally:
            with self._lock:
                text, self._capture = "".join(self._capture or []), None
            err = ""
            if getattr(self.camera, "end_reason", None) == "error" and TRACEBACK in text:
                cut = text.rindex(TRACEBACK)
                text, err = text[:cut], text[cut:]
            cooked = lambda s: s.replace("\n", "\r\n").encode("utf-8")  # noqa: E731
            self._send(cooked(text) + b"\x04" + cooked(err) + b"\x04>")

    def _send(self, data: bytes) -> None:
        try:
            self._write(data)
        except Exception:  # noqa: BLE001 - nobody is reading the port: the board drops the output
            pass

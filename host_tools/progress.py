"""A small byte progress bar on stderr: redrawn in place on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


class ProgressBar:
    """Overall progress over `total` bytes; `update(done, label)` with the bytes done so far."""

    def __init__(
        self, total: int, stream: TextIO | None = None, width: int = 30, enabled: bool = True
    ) -> None:
        self.total = max(total, 0)
        self.enabled = enabled  # False (-q): counts, draws nothing
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._last_quarter = -1
        self.done = 0

    def line(self, done: int, label: str) -> str:
        frac = done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        rate = done / max(time.monotonic() - self.start, 1e-6)
        return (f"[{'#' * filled}{'.' * (self.width - filled)}] {frac * 100:5.1f}% "
                f"{_kb(done)}/{_kb(self.total)} {_kb(int(rate))}/s {label}")

    def update(self, done: int, label: str = "") -> None:
        self.done = done
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self._last_draw >= 0.05 or done >= self.total:
                self._last_draw = now
                self.stream.write("\r\x1b[K" + self.line(done, label))
                self.stream.flush()
            return
        quarter = int(4 * done / self.total) if self.total else 4
        if quarter != self._last_quarter:  # non-terminal: a line at 0, 25, 50, 75 and 100 %
            self._last_quarter = quarter
            self.stream.write(self.line(done, label) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty and self.enabled:
            self.stream.write("\n")
            self.stream.flush()
